// A hand-made recording of a capture (see capture/raw.ts for the format) of a
// machine this kernel cannot build: two disks with GRUB for BIOS, md RAID1 on
// their second partitions, LUKS2 on the array (opened as in crypttab), LVM on
// LUKS with an ext4 root and swap; and a third disk with nothing mounted, only
// the live machine's active swap, which makes it part of the machine. Written here from each tool's documented
// output format (test/fixtures/recover-capture/README), until the qemu drill's
// real recording replaces it; usable by any test that needs such a Layout.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { ROOT } from '../helpers.js'
import { commandLine, readLine, slug } from '../../src/recover/capture/runner.js'
import { vgcfgbackupCommand } from '../../src/recover/capture/lvm.js'

const fx = (name: string) => readFileSync(`${ROOT}test/fixtures/recover-capture/${name}`, 'utf8')

export const LUKS_UUID = '757db8c2-fe0f-41d6-aec1-e7b6c4466473'
const CRYPT = `luks-${LUKS_UUID}`
export const BIOS_BOOT = '21686148-6449-6E6F-744E-656564454649'
export const RAID = 'A19D880F-05FC-4D3B-A006-743F0F84911E'
export const GiB = 1 << 30

const node = (kname: string, name: string, path: string, type: string, size: number, children: object[] = []) =>
  ({ kname, name, path, type, size, 'log-sec': 512, start: null, model: type === 'disk' ? 'QEMU HARDDISK' : null, serial: null, children })

function disk(n: string) {
  const lvs = [node('dm-1', 'vg0-root', '/dev/mapper/vg0-root', 'lvm', 6 * GiB), node('dm-2', 'vg0-swap', '/dev/mapper/vg0-swap', 'lvm', GiB)]
  const md = node('md127', 'md127', '/dev/md127', 'raid1', 10 * GiB - (2 << 20), [node('dm-0', CRYPT, `/dev/mapper/${CRYPT}`, 'crypt', 8 * GiB, lvs)])
  return node(n, n, `/dev/${n}`, 'disk', 10 * GiB, [node(`${n}1`, `${n}1`, `/dev/${n}1`, 'part', 1 << 20), node(`${n}2`, `${n}2`, `/dev/${n}2`, 'part', 10 * GiB - (2 << 20), [md])])
}

const sfdiskJson = (n: string) => JSON.stringify({ partitiontable: { label: 'gpt', id: `0000000${n === 'vda' ? 'A' : 'B'}-0000-4000-8000-000000000000`, device: `/dev/${n}`, unit: 'sectors', sectorsize: 512, partitions: [
  { node: `/dev/${n}1`, start: 2048, size: 2048, type: BIOS_BOOT, uuid: `1000000${n === 'vda' ? 'A' : 'B'}-0000-4000-8000-000000000001`, name: 'bios' },
  { node: `/dev/${n}2`, start: 4096, size: 20967424, type: RAID, uuid: `1000000${n === 'vda' ? 'A' : 'B'}-0000-4000-8000-000000000002`, name: 'raid' },
] } })

const report = (key: string, rows: object[]) => JSON.stringify({ report: [{ [key]: rows }] })
const grubSector = Buffer.concat([Buffer.alloc(0x180), Buffer.from('GRUB \0Geom\0Hard Disk\0Read\0 Error\r\n\0', 'latin1'), Buffer.alloc(512 - 0x180 - 35)])

/** Writes the recording into `dir` (made here); replay it with captureLayout({ root: '/', raw: { replay: dir } }). */
export function writeStackRecording(dir: string): void {
  const runs: [string[], number, string][] = [
    [['uname', '-s'], 0, 'Linux\n'], [['uname', '-n'], 0, 'drill\n'], [['date', '+%Y-%m-%dT%H:%M:%S%:z'], 0, '2026-12-07T10:00:00+00:00\n'],
    [['lsblk', '--json', '-b', '-O'], 0, JSON.stringify({ blockdevices: [disk('vda'), disk('vdb'),
      node('vdc', 'vdc', '/dev/vdc', 'disk', GiB, [node('vdc1', 'vdc1', '/dev/vdc1', 'part', GiB - (1 << 20))]), node('vdd', 'vdd', '/dev/vdd', 'disk', GiB)] })],
    [['blkid', '-o', 'export', '-p', '/dev/vdc'], 0, 'PTTYPE=dos\n'], [['blkid', '-o', 'export', '-p', '/dev/vdc1'], 0, 'UUID=0c0c0c0c-0000-4000-8000-000000000001\nTYPE=swap\n'],
    [['sfdisk', '--json', '/dev/vdc'], 0, JSON.stringify({ partitiontable: { label: 'dos', id: '0x0c0c0c0c', device: '/dev/vdc', unit: 'sectors', sectorsize: 512,
      partitions: [{ node: '/dev/vdc1', start: 2048, size: 2095104, type: '82' }] } })],
    [['sfdisk', '--dump', '/dev/vdc'], 0, 'label: dos\n'],
    [['findmnt', '--json', '--list', '-o', 'TARGET,SOURCE,FSTYPE,OPTIONS'], 0, JSON.stringify({ filesystems: [
      { target: '/', source: '/dev/mapper/vg0-root', fstype: 'ext4', options: 'rw,relatime,errors=remount-ro' },
      { target: '/proc', source: 'proc', fstype: 'proc', options: 'rw' }] })],
    [['blkid', '-o', 'export', '-p', '/dev/vda'], 0, 'DEVNAME=/dev/vda\nPTTYPE=gpt\n'],
    [['blkid', '-o', 'export', '-p', '/dev/vdb'], 0, 'DEVNAME=/dev/vdb\nPTTYPE=gpt\n'],
    [['blkid', '-o', 'export', '-p', '/dev/vda1'], 2, ''], [['blkid', '-o', 'export', '-p', '/dev/vdb1'], 2, ''],
    [['blkid', '-o', 'export', '-p', '/dev/vda2'], 0, 'TYPE=linux_raid_member\nLABEL=debian:root\n'],
    [['blkid', '-o', 'export', '-p', '/dev/vdb2'], 0, 'TYPE=linux_raid_member\nLABEL=debian:root\n'],
    [['blkid', '-o', 'export', '-p', '/dev/md127'], 0, `UUID=${LUKS_UUID}\nTYPE=crypto_LUKS\nVERSION=2\n`],
    [['blkid', '-o', 'export', '-p', `/dev/mapper/${CRYPT}`], 0, 'UUID=teCTd1-95ua-2HQ8-bdmi-ob5w-7A3l-EgcA7m\nTYPE=LVM2_member\n'],
    [['blkid', '-o', 'export', '-p', '/dev/mapper/vg0-root'], 0, 'LABEL=root\nUUID=5ca8fc2b-d36e-45cc-b172-15b44ad915ec\nTYPE=ext4\n'],
    [['blkid', '-o', 'export', '-p', '/dev/mapper/vg0-swap'], 0, 'UUID=62ea1571-d43c-4972-9a43-a6ced3edcc39\nTYPE=swap\n'],
    [['sfdisk', '--json', '/dev/vda'], 0, sfdiskJson('vda')], [['sfdisk', '--json', '/dev/vdb'], 0, sfdiskJson('vdb')],
    [['sfdisk', '--dump', '/dev/vda'], 0, 'label: gpt\n'], [['sfdisk', '--dump', '/dev/vdb'], 0, 'label: gpt\n'],
    [['mdadm', '--detail', '--export', '/dev/md127'], 0, fx('handmade-mdadm-export-raid1.txt')],
    [['mdadm', '--detail', '/dev/md127'], 0, fx('handmade-mdadm-detail-raid1.txt')],
    [['cryptsetup', 'luksDump', '/dev/md127'], 0, fx('luksdump-luks2.txt')],
    [['pvs', '--reportformat', 'json', '-o', 'pv_name,pv_uuid,vg_name,vg_uuid'], 0,
      report('pv', [{ pv_name: `/dev/mapper/${CRYPT}`, pv_uuid: 'f7oqdz-H3hz-K1Yf-7fC7-3F9B-Fdg4-i6VeqR', vg_name: 'vg0', vg_uuid: 'teCTd1-95ua-2HQ8-bdmi-ob5w-7A3l-EgcA7m' }])],
    [['vgs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,vg_uuid,vg_extent_size'], 0,
      report('vg', [{ vg_name: 'vg0', vg_uuid: 'teCTd1-95ua-2HQ8-bdmi-ob5w-7A3l-EgcA7m', vg_extent_size: '4194304' }])],
    [['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,lv_name,lv_uuid,lv_size,segtype,stripes,lv_dm_path'], 0,
      report('lv', [{ vg_name: 'vg0', lv_name: 'root', lv_uuid: 'Wq1Yx2-AbCd-EfGh-IjKl-MnOp-QrSt-Uv3456', lv_size: String(6 * GiB), segtype: 'linear', stripes: '1', lv_dm_path: '/dev/mapper/vg0-root' },
        { vg_name: 'vg0', lv_name: 'swap', lv_uuid: 'Zz9Yy8-XxWw-VvUu-TtSs-RrQq-PpOo-Nn7654', lv_size: String(GiB), segtype: 'linear', stripes: '1', lv_dm_path: '/dev/mapper/vg0-swap' }])],
    [vgcfgbackupCommand('vg0'), 0, fx('vgcfgbackup-capvg.txt').replace(/capvg/g, 'vg0')],
    [['dumpe2fs', '-h', '/dev/mapper/vg0-root'], 0, fx('dumpe2fs-ext4.txt')],
    [['sed', '-n', '/^Name: grub-pc\\/install_devices$/,/^$/p', '/var/cache/debconf/config.dat'], 0, fx('handmade-debconf-config.dat').split('\n\n')[0]! + '\n\n'],
    [['readlink', '-f', '/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001'], 0, '/dev/vda\n'],
  ]
  const reads: [string, number | undefined, Buffer | null][] = [
    ['/etc/fstab', undefined, Buffer.from('/dev/mapper/vg0-root / ext4 errors=remount-ro 0 1\n')],
    ['/etc/crypttab', undefined, Buffer.from(`cryptroot UUID=${LUKS_UUID} none luks,discard\n`)],
    ['/dev/vda', 512, grubSector], ['/dev/vdb', 512, Buffer.alloc(512)], ['/dev/vdc', 512, Buffer.alloc(512)],
    ['/proc/swaps', undefined, Buffer.from('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/vdc1                               partition\t1047548\t\t0\t\t-2\n/swapfile                               file\t\t1048572\t\t0\t\t-3\n')],
    ['/sys/firmware/efi', 0, null], ['/boot/grub', 0, Buffer.alloc(0)],
  ]
  mkdirSync(dir)
  let index = ''
  const put = (line: string, code: number, out: Buffer | string) => {
    writeFileSync(`${dir}/${slug(line)}.out`, out)
    index += `${code}\t${slug(line)}\t${line}\n`
  }
  for (const [argv, code, out] of runs) put(commandLine(argv), code, out)
  for (const [path, max, b] of reads) put(readLine(path, max), b === null ? 1 : 0, b ?? '')
  writeFileSync(`${dir}/commands.txt`, index)
}

