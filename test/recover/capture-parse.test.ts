// The capture's parsers, each on a real output (loop devices, zfs-fuse, LUKS
// and LVM headers on scratch images) or, where this machine cannot make the
// thing, on a hand-made one from the tool's documented format (handmade-*,
// see test/fixtures/recover-capture/README).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { ROOT } from '../helpers.js'
import { below, disksOf, parseLsblk, partNumber } from '../../src/recover/capture/blockdev.js'
import { parseDebconfGrubDevices, hasGrubBootCode, parseEfibootmgr } from '../../src/recover/capture/boot-parse.js'
import { parseDefaultSubvolume, parseSubvolumes } from '../../src/recover/capture/btrfs.js'
import { crypttabName, parseCrypttab, parseLuksDump } from '../../src/recover/capture/luks.js'
import { parseLvs, parsePvs, parseVgs } from '../../src/recover/capture/lvm.js'
import { parseMdDetail, parseMdExport } from '../../src/recover/capture/md.js'
import { btrfsMkfsArgs, extMkfsArgs, vfatMkfsArgs, xfsMkfsArgs } from '../../src/recover/capture/mkfs-args.js'
import { mountsUnder, parseFindmnt, subvolumeOf } from '../../src/recover/capture/mounts-parse.js'
import { parseSfdiskJson } from '../../src/recover/capture/partitions.js'
import { kindOf, parseBlkidExport } from '../../src/recover/capture/probe.js'
import { parseProcSwaps } from '../../src/recover/capture/selection.js'
import { parseZfsGetLocal, parseZfsList, parseZfsSize, parseZpoolGet, parseZpoolStatus, poolProperties } from '../../src/recover/capture/zfs-parse.js'

const fx = (name: string) => readFileSync(`${ROOT}test/fixtures/recover-capture/${name}`, 'utf8')

t.test('lsblk: the device graph, disks under a device, parents first', async (t) => {
  const g = parseLsblk(fx('lsblk-loop.json'))
  t.same([...g.keys()], ['loop0', 'loop0p1', 'loop0p2', 'loop0p3', 'loop0p4', 'loop0p5', 'loop0p6'])
  const p2 = g.get('loop0p2')!
  t.match(p2, { path: '/dev/loop0p2', type: 'part', sizeBytes: 67108864, start: 67584, sectorSize: 512, parents: ['loop0'] })
  t.same(disksOf(g, 'loop0p2'), ['loop0'])
  t.same(below(g, ['loop0']).map((d) => d.kname)[0], 'loop0')
  t.equal(partNumber('loop0', 'loop0p12'), 12)
  t.equal(partNumber('sda', 'sda2'), 2)
  t.equal(partNumber('nvme0n1', 'nvme0n1p3'), 3)
  t.equal(partNumber('sda', 'sdb2'), null)
  // An md array over two disks: listed under both members, one node with two parents, after both.
  const md = parseLsblk(JSON.stringify({ blockdevices: [
    { kname: 'vda', name: 'vda', type: 'disk', size: 10, children: [{ kname: 'vda2', name: 'vda2', type: 'part', size: 5, children: [{ kname: 'md127', name: 'md127', type: 'raid1', size: 4 }] }] },
    { kname: 'vdb', name: 'vdb', type: 'disk', size: 10, children: [{ kname: 'vdb2', name: 'vdb2', type: 'part', size: 5, children: [{ kname: 'md127', name: 'md127', type: 'raid1', size: 4 }] }] },
  ] }))
  t.same(md.get('md127')!.parents, ['vda2', 'vdb2'])
  t.same(disksOf(md, 'md127'), ['vda', 'vdb'])
  t.same(below(md, ['vda', 'vdb']).map((d) => d.kname), ['vda', 'vdb', 'vda2', 'vdb2', 'md127'])
})

t.test('sfdisk --json: GPT and DOS tables', async (t) => {
  const gpt = parseSfdiskJson(fx('sfdisk-gpt.json'), '/dev/loop0')
  t.equal(gpt.table, 'gpt')
  t.equal(gpt.tableId, '4CFFDDED-ACBB-054F-8AE7-4F6E08E4BAA5')
  t.equal(gpt.partitions.length, 6)
  t.same(gpt.partitions[0], { number: 1, startSector: 2048, sizeSectors: 65536, type: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
    uuid: 'E07D236D-B21B-5046-8F7A-41ECDAA831E7', name: 'EFI system', bootable: false })
  const dos = parseSfdiskJson(fx('sfdisk-dos.json'), 'dos.img')
  t.equal(dos.table, 'dos')
  t.same(dos.partitions.map((p) => [p.number, p.type, p.uuid, p.bootable, p.name]),
    [[1, '83', '1234abcd-01', true, null], [2, '82', '1234abcd-02', false, null], [3, 'fd', '1234abcd-03', false, null]])
  t.throws(() => parseSfdiskJson('{"partitiontable":{"label":"sun"}}', '/dev/x'), /sun/)
})

t.test('blkid -o export -p: escapes, kinds', async (t) => {
  const p1 = parseBlkidExport(fx('blkid-p1.export'))
  t.match(p1, { TYPE: 'vfat', UUID: '1234-ABCD', LABEL: 'ESP', VERSION: 'FAT16', PART_ENTRY_NAME: 'EFI system' })
  t.equal(parseBlkidExport(fx('blkid-disk.export')).PTTYPE, 'gpt')
  t.equal(parseBlkidExport(fx('blkid-p5.export')).LABEL, 'captank')
  t.same(['ext4', 'swap', 'zfs_member', 'linux_raid_member', 'crypto_LUKS', 'LVM2_member', 'ntfs', undefined].map(kindOf),
    ['filesystem', 'swap', 'zfs', 'md', 'luks', 'lvm', 'other', 'none'])
})

t.test('mkfs arguments: ext4, xfs, btrfs, vfat', async (t) => {
  const ext = extMkfsArgs(fx('dumpe2fs-ext4.txt'))
  t.equal(ext[0], '-O')
  const features = ext[1]!.split(',')
  t.ok(features.includes('^metadata_csum'), 'a default feature the file system lacks is turned off')
  t.ok(features.includes('64bit') && features.includes('has_journal'))
  t.notOk(features.includes('needs_recovery'), 'a state is not a feature to make')
  t.same(ext.slice(2), ['-b', '1024', '-I', '256'])
  t.same(xfsMkfsArgs(fx('xfs_info.txt')), ['-m', 'crc=1,finobt=1,rmapbt=0,reflink=1,bigtime=1,inobtcount=1', '-i', 'size=512',
    '-b', 'size=4096', '-n', 'ftype=1', '-s', 'size=512'])
  t.same(xfsMkfsArgs(fx('xfs_info.txt').replace('crc=1', 'crc=0')).slice(0, 2), ['-m', 'crc=0'])
  t.same(btrfsMkfsArgs(fx('btrfs-df.txt')), ['-d', 'single', '-m', 'dup'])
  t.same(vfatMkfsArgs('FAT32'), ['-F', '32'])
  t.same(vfatMkfsArgs(undefined), [])
})

t.test('btrfs subvolumes: whole paths whichever mount they were listed from', async (t) => {
  const top = parseSubvolumes(fx('btrfs-list-top.txt'))
  const home = parseSubvolumes(fx('btrfs-list-home.txt'))
  t.same(top, [{ path: '@home', id: 256 }, { path: '@srv', id: 258 }, { path: '@home/nested', id: 257 }])
  t.same(home, top, 'listed from the @home mount, "nested" is made whole')
  t.equal(parseDefaultSubvolume(fx('btrfs-default-top.txt'), top), null)
  t.equal(parseDefaultSubvolume(fx('btrfs-default-srv.txt'), top), '@srv')
})

t.test('LUKS headers, version 1 and 2, and crypttab names', async (t) => {
  t.same(parseLuksDump(fx('luksdump-luks2.txt')), { version: 2, uuid: '757db8c2-fe0f-41d6-aec1-e7b6c4466473', label: 'cryptroot',
    cipher: 'aes-xts-plain64', keyBits: 512, hash: 'sha256', pbkdf: 'pbkdf2', sectorSize: 4096 })
  t.same(parseLuksDump(fx('luksdump-luks1.txt')), { version: 1, uuid: '11e5479e-b777-4a62-be25-54a09af40e31', label: null,
    cipher: 'aes-xts-plain64', keyBits: 512, hash: 'sha256', pbkdf: 'pbkdf2', sectorSize: null })
  t.throws(() => parseLuksDump('Version: 3\n'), /version/)
  const tab = parseCrypttab('# comment\n\ncryptroot UUID=757db8c2-fe0f-41d6-aec1-e7b6c4466473 none luks,discard\nswap /dev/vda3 /dev/urandom swap\n')
  t.same(tab, [{ name: 'cryptroot', device: 'UUID=757db8c2-fe0f-41d6-aec1-e7b6c4466473' }, { name: 'swap', device: '/dev/vda3' }])
  t.equal(crypttabName(tab, '757db8c2-fe0f-41d6-aec1-e7b6c4466473', ['/dev/vdb1'], null), 'cryptroot')
  t.equal(crypttabName(tab, 'other', ['/dev/vda3'], null), 'swap')
  t.equal(crypttabName(tab, 'other', ['/dev/sdz'], null), null)
})

t.test('LVM reports (pvs, vgs real; lvs hand-made)', async (t) => {
  t.same(parsePvs(fx('pvs.json')), [{ pv: '/dev/loop2', pvUuid: 'f7oqdz-H3hz-K1Yf-7fC7-3F9B-Fdg4-i6VeqR', vg: 'capvg' }])
  t.same(parseVgs(fx('vgs.json')), [{ vg: 'capvg', uuid: 'teCTd1-95ua-2HQ8-bdmi-ob5w-7A3l-EgcA7m', extentBytes: 4194304 }])
  const lvs = parseLvs(fx('handmade-lvs.json'))
  t.same(lvs.map((l) => [l.vg, l.lv, l.sizeBytes, l.segtype, l.stripes, l.dmPath]),
    [['vg0', 'root', 2147483648, 'linear', 1, '/dev/mapper/vg0-root'], ['vg0', 'my-data', 1073741824, 'striped', 2, '/dev/mapper/vg0-my--data']])
  t.match(fx('vgcfgbackup-capvg.txt'), /capvg \{\n\tid = "teCTd1-95ua-2HQ8-bdmi-ob5w-7A3l-EgcA7m"/, 'the recording carries what vgcfgrestore reads')
})

t.test('md arrays (hand-made)', async (t) => {
  t.same(parseMdExport(fx('handmade-mdadm-export-raid1.txt')), { level: 'raid1', metadata: '1.2', uuid: '3b7e1c2a:9f4d6e85:0a1b2c3d:4e5f6071',
    name: 'root', members: ['/dev/vda2', '/dev/vdb2'] })
  const r5 = parseMdExport(fx('handmade-mdadm-export-raid5.txt'))
  t.equal(r5.name, 'data', 'without MD_DEVNAME, the name without its homehost')
  t.same(r5.members, ['/dev/sda1', '/dev/sdb1', '/dev/sdd1', '/dev/sdc1'], 'by role, the spare last')
  t.same(parseMdDetail(fx('handmade-mdadm-detail-raid5.txt')), { chunkKiB: 512, layout: 'left-symmetric' })
  t.same(parseMdDetail(fx('handmade-mdadm-detail-raid1.txt')), { chunkKiB: null, layout: null })
})

t.test('ZFS: zfs-fuse (real) and OpenZFS -P/-p forms (hand-made)', async (t) => {
  t.same(parseZpoolStatus(fx('zpool-status-fuse.txt'), 'captank'), { vdevs: [{ type: 'disk', devices: ['loop0p5'] }], skipped: [] })
  t.same(parseZpoolStatus(fx('handmade-zpool-status-P.txt'), 'tank'), {
    vdevs: [{ type: 'mirror', devices: ['/dev/disk/by-id/ata-A-part1', '/dev/sdb1'] }, { type: 'raidz2', devices: ['/dev/sdc1', '/dev/sdd1', '/dev/sde1', '/dev/sdf1'] }],
    skipped: ['logs of pool tank', 'cache of pool tank'],
  })
  t.same(poolProperties(parseZpoolGet(fx('zpool-get-fuse.txt'))), { ashift: '12' })
  t.same(poolProperties(parseZpoolGet(fx('handmade-zpool-get-Hp.txt'))), { ashift: '12', autotrim: 'on', comment: 'backups' })
  t.same(parseZfsList(fx('zfs-list-fuse.txt')).map((d) => d.name), ['captank', 'captank/db', 'captank/www'])
  t.same(parseZfsList(fx('handmade-zfs-list-Hp.txt'))[1], { name: 'tank/vol', type: 'volume', volsizeBytes: 4294967296 })
  t.equal(parseZfsSize('16M'), 16 << 20)
  t.equal(parseZfsSize('-'), null)
  const local = parseZfsGetLocal(fx('zfs-get-local.txt'))
  t.same(local.get('captank/db'), { recordsize: '16384', mountpoint: '/tmp/capx/mnt/srv/db' })
  t.same(local.get('captank/www'), { compression: 'gzip', 'bt:note': 'hello' })
})

t.test('findmnt: real mounts under a root, targets as inside it', async (t) => {
  const rows = parseFindmnt(fx('findmnt-list.json'))
  const m = mountsUnder(rows, '/tmp/capx/mnt/')
  t.same(m.map((x) => [x.inside, x.device, x.fstype]), [
    ['/', '/dev/loop0p2', 'ext4'], ['/data', '/dev/loop0p3', 'btrfs'], ['/home', '/dev/loop0p3', 'btrfs'], ['/tank', 'captank', 'fuse.zfs'],
    ['/xfs', '/dev/loop1', 'xfs'], ['/tank/www', 'captank/www', 'fuse.zfs'], ['/srv/db', 'captank/db', 'fuse.zfs'],
  ], 'parents before children, else in mount order')
  t.equal(subvolumeOf(m[2]!.options, m[2]!.subpath), '@home')
  t.equal(subvolumeOf(m[1]!.options, m[1]!.subpath), null)
  t.equal(subvolumeOf('rw', '/@srv'), '@srv', 'from findmnt\'s [/subpath] when the options do not say')
  const live = mountsUnder(rows, '/')
  t.notOk(live.some((x) => x.fstype === 'proc' || x.fstype === 'tmpfs'), 'proc, sysfs, tmpfs are no real file systems')
  t.equal(live[0]!.inside, '/')
})

t.test('boot: efibootmgr entries (hand-made), GRUB boot code, debconf (hand-made)', async (t) => {
  const e = parseEfibootmgr(fx('handmade-efibootmgr-v.txt'))
  t.same(e.map((x) => [x.num, x.label, x.loader, x.partuuid, x.active]), [
    ['0001', 'debian', '\\EFI\\debian\\shimx64.efi', 'E07D236D-B21B-5046-8F7A-41ECDAA831E7', true],
    ['0002', 'old grub', '\\EFI\\old\\grubx64.efi', 'E07D236D-B21B-5046-8F7A-41ECDAA831E7', false],
  ])
  const sector = Buffer.alloc(512)
  t.notOk(hasGrubBootCode(sector))
  sector.write('GRUB \0Geom\0Hard Disk\0Read\0 Error', 0x180, 'latin1')
  t.ok(hasGrubBootCode(sector))
  t.same(parseDebconfGrubDevices(fx('handmade-debconf-config.dat')), ['/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001', '/dev/vdb'])
  t.same(parseDebconfGrubDevices(''), [])
})

t.test('/proc/swaps: the partitions, not the files', async (t) => {
  t.same(parseProcSwaps('Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/sda3                               partition\t8388604\t\t0\t\t-2\n' +
    '/swap\\040file                          file\t\t1048572\t\t0\t\t-3\n/dev/dm-1                               partition\t1048572\t\t0\t\t-4\n'), ['/dev/sda3', '/dev/dm-1'])
  t.same(parseProcSwaps(''), [])
})
