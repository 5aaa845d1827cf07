// md RAID1 -> LUKS2 -> LVM -> ext4 root and swap, on two disks with GRUB for
// BIOS: what this machine's kernel cannot build (no md, no device-mapper), so
// the capture is replayed from a hand-made recording (stack-recording.ts). It
// proves the device graph and the references through every layer, and the
// crypttab name and GRUB disks.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { captureLayout } from '../../src/recover/capture/index.js'
import { BIOS_BOOT, GiB, LUKS_UUID, RAID, writeStackRecording } from './stack-recording.js'

t.test('md RAID1, LUKS, LVM from a hand-made recording', async (t) => {
  const dir = `${t.testdir({})}/rec`
  writeStackRecording(dir)
  const warnings: string[] = []
  const l = await captureLayout({ root: '/', disks: null, backup: { store: null, set: null, signer: null, signerPublicKey: null }, raw: { replay: dir }, warn: (m) => warnings.push(m) })
  t.same(warnings, [])
  t.match(l, { host: 'drill', capturedAt: '2026-12-07T10:00:00+00:00', root: '/' })
  t.same(l.disks.map((d) => [d.name, d.table, d.model, d.partitions.map((p) => p.type)]), [['vda', 'gpt', 'QEMU HARDDISK', [BIOS_BOOT, RAID]], ['vdb', 'gpt', 'QEMU HARDDISK', [BIOS_BOOT, RAID]],
    ['vdc', 'dos', 'QEMU HARDDISK', ['82']]], 'both disks under the root, through LVM, LUKS and md; the disk of the active swap; not the unused vdd')
  t.same(l.md, [{ name: 'root', level: 'raid1', metadata: '1.2', uuid: '3b7e1c2a:9f4d6e85:0a1b2c3d:4e5f6071', members: ['part:vda:2', 'part:vdb:2'], chunkKiB: null, layout: null }])
  t.same(l.luks, [{ device: 'md:root', mapping: 'cryptroot', uuid: LUKS_UUID, version: 2, cipher: 'aes-xts-plain64', keyBits: 512, hash: 'sha256',
    pbkdf: 'pbkdf2', sectorSize: 4096, label: 'cryptroot' }], 'named as crypttab opens it, not as it is open now')
  t.equal(l.lvm.length, 1)
  t.match(l.lvm[0], { name: 'vg0', extentBytes: 4194304, pvs: [{ device: 'luks:cryptroot', uuid: 'f7oqdz-H3hz-K1Yf-7fC7-3F9B-Fdg4-i6VeqR' }],
    lvs: [{ name: 'root', sizeBytes: 6 * GiB, segtype: 'linear', stripes: 1 }, { name: 'swap', sizeBytes: GiB }] })
  t.match(l.lvm[0]!.vgcfgbackup, /^vg0 \{$/m)
  t.same(l.filesystems.map((f) => [f.device, f.type, f.label]), [['lv:vg0/root', 'ext4', 'root']])
  t.same(l.swaps, [{ device: 'part:vdc:1', uuid: '0c0c0c0c-0000-4000-8000-000000000001', label: null },
    { device: 'lv:vg0/swap', uuid: '62ea1571-d43c-4972-9a43-a6ced3edcc39', label: null }])
  t.same(l.mounts, [{ target: '/', source: 'lv:vg0/root', fstype: 'ext4', options: 'rw,relatime,errors=remount-ro', subvolume: null }])
  t.same(l.boot, { firmware: 'bios', loader: 'grub', grubDisks: ['disk:vda', 'disk:vdb'], efi: null },
    'vda by its boot code, vdb by debconf\'s record')
  t.match(l.crypttab, /^cryptroot UUID=/)
})

t.test('a tool missing for a layer in use stops the capture, naming the device and the package', async (t) => {
  const base = t.testdir({})
  const without = (tool: string, line: string) => {
    const dir = `${base}/${tool}`
    writeStackRecording(dir)
    const index = readFileSync(`${dir}/commands.txt`, 'utf8')
    t.match(index, `\t${line}\n`, `the recording has "${line}"`)
    writeFileSync(`${dir}/commands.txt`, index.split('\n').map((l) => (l.endsWith(`\t${line}`) ? l.replace(/^\d+/, '127') : l)).join('\n'))
    return captureLayout({ root: '/', disks: null, backup: { store: null, set: null, signer: null, signerPublicKey: null }, raw: { replay: dir }, warn: () => undefined })
  }
  await t.rejects(without('mdadm', 'mdadm --detail --export /dev/md127'),
    { code: 'BT_CAPTURE', message: 'cannot capture /dev/md127: mdadm is not installed', hints: [/apt-get install mdadm/] })
  await t.rejects(without('cryptsetup', 'cryptsetup luksDump /dev/md127'),
    { code: 'BT_CAPTURE', message: 'cannot capture /dev/md127: cryptsetup is not installed', hints: [/cryptsetup-bin/] })
  await t.rejects(without('lvs', 'lvs --reportformat json --units b --nosuffix -o vg_name,lv_name,lv_uuid,lv_size,segtype,stripes,lv_dm_path'),
    { code: 'BT_CAPTURE', message: /^cannot capture \/dev\/mapper\/vg0-(root|swap): lvs is not installed$/, hints: [/lvm2/] })
})
