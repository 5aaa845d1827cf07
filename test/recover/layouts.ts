// Hand-written layouts (not captured from a machine) for the plan's tests and
// the --plan golden files: BIOS with md RAID1 and LVM, EFI on GPT, LUKS, and a
// ZFS mirror. Their sfdisk dumps and vgcfgbackup are written as the tools print them.
import { type Layout } from '../../src/recover/layout.js'

const base = (host: string): Layout => ({
  version: 1, capturedAt: '2026-12-01T03:00:00+01:00', host, os: 'linux', root: '/',
  boot: { firmware: 'bios', loader: 'grub', grubDisks: [], efi: null },
  disks: [], md: [], luks: [], lvm: [], filesystems: [], swaps: [], zfs: [], mounts: [],
  fstab: '', crypttab: null,
  backup: { store: 'sftp://backup@store.example/srv/backtory', set: host, signer: 'ed25519 0f5c2a1e4b7d9c3f6a8e1b2d4c6f8a0e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a', signerPublicKey: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n' },
  notes: [],
})

const dosDump = (dev: string, id: string) => `label: dos
label-id: ${id}
device: /dev/${dev}
unit: sectors
sector-size: 512

/dev/${dev}1 : start=        2048, size=     1048576, type=fd, bootable
/dev/${dev}2 : start=     1050624, size=    40892416, type=fd
`

export function biosMdLvm(): Layout {
  const l = base('db1')
  l.boot.grubDisks = ['disk:sda', 'disk:sdb']
  for (const [d, id] of [['sda', '0x5e1f00a1'], ['sdb', '0x5e1f00a2']] as const) {
    l.disks.push({ name: d, path: `/dev/${d}`, sizeBytes: 21474836480, sectorSize: 512, model: 'QEMU HARDDISK', serial: null, table: 'dos', tableId: id, sfdiskDump: dosDump(d, id),
      partitions: [
        { number: 1, startSector: 2048, sizeSectors: 1048576, type: 'fd', uuid: `${id.slice(2)}-01`, name: null, bootable: true },
        { number: 2, startSector: 1050624, sizeSectors: 40892416, type: 'fd', uuid: `${id.slice(2)}-02`, name: null, bootable: false },
      ] })
  }
  l.md.push({ name: 'boot', level: 'raid1', metadata: '1.0', uuid: '3aaa0122:29827cfa:5331ad66:ca767371', members: ['part:sda:1', 'part:sdb:1'], chunkKiB: null, layout: null })
  l.md.push({ name: 'pv', level: 'raid1', metadata: '1.2', uuid: '6b8c4f2e:11d0a9b3:7e5f6a4c:2d3e1f0b', members: ['part:sda:2', 'part:sdb:2'], chunkKiB: null, layout: null })
  l.lvm.push({ name: 'vg0', uuid: 'Xx9fJ2-3kLm-Qw8e-Rt5y-Ui7o-Pa1s-Df3gHj', extentBytes: 4194304,
    pvs: [{ device: 'md:pv', uuid: 'AbCdEf-1234-5678-9abc-def0-1234-567890' }],
    lvs: [{ name: 'root', uuid: 'r00tLv-aaaa-bbbb-cccc-dddd-eeee-ffffff', sizeBytes: 10737418240, segtype: 'linear', stripes: 1 },
      { name: 'swap', uuid: 'sw4pLv-aaaa-bbbb-cccc-dddd-eeee-ffffff', sizeBytes: 2147483648, segtype: 'linear', stripes: 1 }],
    vgcfgbackup: 'vg0 {\n\tid = "Xx9fJ2-3kLm-Qw8e-Rt5y-Ui7o-Pa1s-Df3gHj"\n\tseqno = 3\n\tformat = "lvm2"\n\textent_size = 8192\n}\n' })
  l.filesystems.push({ device: 'md:boot', type: 'ext4', uuid: '0b0e5f6a-1c2d-4e3f-8a9b-0c1d2e3f4a5b', label: 'boot', mkfsArgs: ['-O', '^metadata_csum'], subvolumes: [], defaultSubvolume: null })
  l.filesystems.push({ device: 'lv:vg0/root', type: 'ext4', uuid: '7f3e2d1c-0b9a-4876-9543-210fedcba987', label: 'root', mkfsArgs: [], subvolumes: [], defaultSubvolume: null })
  l.swaps.push({ device: 'lv:vg0/swap', uuid: '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d', label: null })
  l.mounts.push({ target: '/', source: 'lv:vg0/root', fstype: 'ext4', options: 'rw,relatime,errors=remount-ro', subvolume: null })
  l.mounts.push({ target: '/boot', source: 'md:boot', fstype: 'ext4', options: 'rw,relatime', subvolume: null })
  l.fstab = 'UUID=7f3e2d1c-0b9a-4876-9543-210fedcba987 / ext4 errors=remount-ro 0 1\nUUID=0b0e5f6a-1c2d-4e3f-8a9b-0c1d2e3f4a5b /boot ext4 defaults 0 2\n'
  return l
}

const gptDump = (dev: string) => `label: gpt
label-id: 6D1A7F52-3B0C-4E9D-A1F2-8C3B5D7E9F01
device: /dev/${dev}
unit: sectors
first-lba: 2048
last-lba: 41943006
sector-size: 512

/dev/${dev}p1 : start=        2048, size=     1048576, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=1E2F3A4B-5C6D-4E7F-8A9B-0C1D2E3F4A5B, name="EFI System"
/dev/${dev}p2 : start=     1050624, size=    40890368, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=2A3B4C5D-6E7F-4081-92A3-B4C5D6E7F809, name="root"
`

export function efiGpt(): Layout {
  const l = base('web1')
  l.boot = { firmware: 'efi', loader: 'grub', grubDisks: [], efi: { esp: 'part:nvme0n1:1', entries: [{ label: 'debian', loader: '\\EFI\\debian\\shimx64.efi', partition: 'part:nvme0n1:1' }] } }
  l.disks.push({ name: 'nvme0n1', path: '/dev/nvme0n1', sizeBytes: 21474836480, sectorSize: 512, model: 'Samsung SSD', serial: 'S4EWNX0R', table: 'gpt', tableId: '6D1A7F52-3B0C-4E9D-A1F2-8C3B5D7E9F01', sfdiskDump: gptDump('nvme0n1'),
    partitions: [
      { number: 1, startSector: 2048, sizeSectors: 1048576, type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B', uuid: '1E2F3A4B-5C6D-4E7F-8A9B-0C1D2E3F4A5B', name: 'EFI System', bootable: false },
      { number: 2, startSector: 1050624, sizeSectors: 40890368, type: '0FC63DAF-8483-4772-8E79-3D69D8477DE4', uuid: '2A3B4C5D-6E7F-4081-92A3-B4C5D6E7F809', name: 'root', bootable: false },
    ] })
  l.filesystems.push({ device: 'part:nvme0n1:1', type: 'vfat', uuid: 'A1B2-C3D4', label: 'ESP', mkfsArgs: ['-F', '32'], subvolumes: [], defaultSubvolume: null })
  l.filesystems.push({ device: 'part:nvme0n1:2', type: 'xfs', uuid: '9c8b7a65-4321-4fed-bca9-876543210fed', label: "web's root", mkfsArgs: ['-m', 'reflink=1'], subvolumes: [], defaultSubvolume: null })
  l.mounts.push({ target: '/', source: 'part:nvme0n1:2', fstype: 'xfs', options: 'rw,noatime', subvolume: null })
  l.mounts.push({ target: '/boot/efi', source: 'part:nvme0n1:1', fstype: 'vfat', options: 'rw,umask=0077', subvolume: null })
  return l
}

export function luks(): Layout {
  const l = efiGpt()
  l.host = 'laptop1'
  l.luks.push({ device: 'part:nvme0n1:2', mapping: 'cryptroot', uuid: 'c0ffee00-1234-4abc-9def-0123456789ab', version: 2, cipher: 'aes-xts-plain64', keyBits: 512, hash: 'sha256', pbkdf: 'argon2id', sectorSize: 4096, label: null })
  l.filesystems[1] = { ...l.filesystems[1]!, device: 'luks:cryptroot', type: 'ext4', mkfsArgs: [] }
  l.mounts[0] = { ...l.mounts[0]!, source: 'luks:cryptroot', fstype: 'ext4' }
  l.crypttab = 'cryptroot UUID=c0ffee00-1234-4abc-9def-0123456789ab none luks,discard\n'
  return l
}

export function zfsMirror(): Layout {
  const l = base('nas1')
  l.boot.loader = 'none'
  for (const d of ['sdb', 'sdc']) {
    l.disks.push({ name: d, path: `/dev/${d}`, sizeBytes: 1000204886016, sectorSize: 512, model: null, serial: null, table: 'gpt', tableId: null,
      sfdiskDump: `label: gpt\nlabel-id: 0A0B0C0D-0E0F-4011-8213-14151617181${d === 'sdb' ? 'A' : 'B'}\ndevice: /dev/${d}\nunit: sectors\nfirst-lba: 34\nlast-lba: 1953525134\n\n/dev/${d}1 : start=2048, size=1953523087, type=6A898CC3-1DD2-11B2-99A6-080020736631, uuid=5B6C7D8E-9FA0-4B1C-8D2E-3F4A5B6C7D8${d === 'sdb' ? 'E' : 'F'}, name="zfs-data"\n`,
      partitions: [{ number: 1, startSector: 2048, sizeSectors: 1953523087, type: '6A898CC3-1DD2-11B2-99A6-080020736631', uuid: null, name: 'zfs-data', bootable: false }] })
  }
  l.zfs.push({ name: 'tank', vdevs: [{ type: 'mirror', devices: ['part:sdb:1', 'part:sdc:1'] }], properties: { ashift: '12' },
    datasets: [
      { name: 'tank', type: 'filesystem', volsizeBytes: null, properties: { compression: 'lz4', mountpoint: '/tank', normalization: 'formD' } },
      { name: 'tank/srv', type: 'filesystem', volsizeBytes: null, properties: { mountpoint: '/srv', atime: 'off' } },
      { name: 'tank/srv/db', type: 'filesystem', volsizeBytes: null, properties: { recordsize: '16K' } },
      { name: 'tank/swap', type: 'volume', volsizeBytes: 4294967296, properties: { volblocksize: '4096' } },
    ] })
  l.mounts.push({ target: '/srv', source: 'zfs:tank/srv', fstype: 'zfs', options: 'rw,noatime', subvolume: null })
  l.mounts.push({ target: '/srv/db', source: 'zfs:tank/srv/db', fstype: 'zfs', options: 'rw', subvolume: null })
  l.fstab = null
  return l
}

export const LAYOUTS: Record<string, () => Layout> = { 'bios-md-lvm': biosMdLvm, 'efi-gpt': efiGpt, luks, 'zfs-mirror': zfsMirror }
