// A real capture of a small machine on a loop device: a GPT disk with a vfat
// ESP (not mounted: this kernel cannot mount vfat), an ext4 root mounted on a
// scratch directory, a btrfs partition with subvolumes mounted below it, swap,
// and a zfs-fuse pool with datasets mounted below it. The Layout must say what
// this test made; recorded, then replayed, it must be the same Layout; and a
// recording with a tool missing gives a note, or for a device in use an error.
import t, { type Test } from 'tap'
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { captureLayout, type CaptureOptions, systemRunner } from '../../src/recover/capture/index.js'
import { parseLsblk } from '../../src/recover/capture/blockdev.js'
import { Zfs } from '../../src/recover/capture/zfs.js'
import { type Layout } from '../../src/recover/layout.js'
import { cmd, missing, scratch } from '../snap/fixtures.js'

const skip = missing('zfs', t) || missing('btrfs', t)
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

function ok(argv: string[], input?: string): string {
  const r = cmd(argv, input)
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: exit ${r.code}: ${r.stderr}`)
  return r.stdout
}

const ESP = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B'
const LINUX = '0FC63DAF-8483-4772-8E79-3D69D8477DE4'
const SWAP = '0657FD6D-A4AB-43C4-84E5-0933C84B4F4F'
const ZFS = '6A898CC3-1DD2-11B2-99A6-080020736631'
const DISK_ID = '5E2B2C9A-0D55-4B9E-9C3B-7A1F00C0FFEE'
const PARTS = [
  { size: '32MiB', type: ESP, uuid: '11111111-2222-4333-8444-000000000001', name: 'EFI system' },
  { size: '64MiB', type: LINUX, uuid: '11111111-2222-4333-8444-000000000002', name: 'root' },
  { size: '160MiB', type: LINUX, uuid: '11111111-2222-4333-8444-000000000003', name: 'data' },
  { size: '16MiB', type: SWAP, uuid: '11111111-2222-4333-8444-000000000004', name: 'swap' },
  { size: '128MiB', type: ZFS, uuid: '11111111-2222-4333-8444-000000000005', name: 'tank' },
]
const EXT_UUID = '0b5c7a8e-1f2d-4e3c-9a4b-5c6d7e8f9a01'
const BTRFS_UUID = '0b5c7a8e-1f2d-4e3c-9a4b-5c6d7e8f9a02'
const SWAP_UUID = '0b5c7a8e-1f2d-4e3c-9a4b-5c6d7e8f9a03'

interface Machine { loop: string; name: string; mnt: string; pool: string; dir: string }

/** Makes the machine; everything it makes is undone by one teardown, in reverse order, whatever happened. */
function makeMachine(t: Test): Machine {
  const dir = scratch(t, 'capture')
  const undo: (() => void)[] = []
  t.teardown(() => {
    for (const u of undo.reverse()) {
      try {
        u()
      } catch (err) {
        console.error(`teardown: ${(err as Error).message}`)
      }
    }
  })
  const retry = (argv: string[]) => {
    for (let i = 0; i < 20; i++) {
      const r = cmd(argv)
      if (r.code === 0 || /not mounted|no such pool|No such device/.test(r.stderr)) return
      sleep(250)
    }
  }
  ok(['truncate', '-s', '420M', `${dir}/disk.img`])
  const loop = ok(['losetup', '-f', '--show', `${dir}/disk.img`]).trim()
  undo.push(() => ok(['losetup', '-d', loop]))
  const table = [`label: gpt`, `label-id: ${DISK_ID}`, ...PARTS.map((p) => `size=${p.size}, type=${p.type}, uuid=${p.uuid}, name="${p.name}"`)].join('\n')
  ok(['sfdisk', '-q', loop], `${table}\n`)
  // A kernel with its own table parsers knows the partitions once sfdisk has asked it to re-read; this one needs partx.
  const name = loop.slice('/dev/'.length)
  if (!existsSync(`/sys/block/${name}/${name}p5`)) ok(['partx', '-a', loop])
  // devtmpfs makes the nodes a moment later.
  for (let i = 0; i < 100 && ![1, 2, 3, 4, 5].every((n) => existsSync(`${loop}p${n}`)); i++) sleep(50)
  undo.push(() => void cmd(['partx', '-d', loop]))
  const part = (n: number) => `${loop}p${n}`
  ok(['mkfs.vfat', '-n', 'ESP', '-i', '1234ABCD', part(1)])
  ok(['mkfs.ext4', '-q', '-F', '-L', 'root', '-U', EXT_UUID, '-I', '256', '-O', '^metadata_csum', part(2)])
  ok(['mkfs.btrfs', '-q', '-f', '-L', 'data', '-U', BTRFS_UUID, part(3)])
  ok(['mkswap', '-L', 'swap0', '-U', SWAP_UUID, part(4)])
  const mnt = `${dir}/mnt`
  mkdirSync(mnt)
  ok(['mount', part(2), mnt])
  undo.push(() => retry(['umount', mnt]))
  mkdirSync(`${mnt}/data`)
  mkdirSync(`${mnt}/home`)
  ok(['mount', part(3), `${mnt}/data`])
  undo.push(() => retry(['umount', `${mnt}/data`]))
  for (const s of ['@home', '@home/nested', '@srv']) ok(['btrfs', 'subvolume', 'create', `${mnt}/data/${s}`])
  ok(['mount', '-o', 'subvol=@home', part(3), `${mnt}/home`])
  undo.push(() => retry(['umount', `${mnt}/home`]))
  mkdirSync(`${mnt}/etc`)
  writeFileSync(`${mnt}/etc/fstab`, `UUID=${EXT_UUID} / ext4 defaults 0 1\n`)
  // zfs-fuse: one daemon per machine; a running one is used and left running.
  if (cmd(['zpool', 'list']).code !== 0) {
    ok(['zfs-fuse', '--pidfile', `${dir}/zfs-fuse.pid`, '--no-kstat-mount'])
    undo.push(() => {
      const pid = Number(readFileSync(`${dir}/zfs-fuse.pid`, 'utf8').trim())
      process.kill(pid, 'SIGTERM')
      for (let i = 0; i < 100 && cmd(['kill', '-0', String(pid)]).code === 0; i++) sleep(100)
    })
    for (let i = 0; i < 100 && cmd(['zpool', 'list']).code !== 0; i++) sleep(100)
  }
  const pool = `btcap${process.pid}`
  ok(['zpool', 'create', '-o', 'cachefile=none', '-o', 'ashift=12', '-m', `${mnt}/tank`, pool, part(5)])
  undo.push(() => retry(['zpool', 'destroy', '-f', pool]))
  ok(['zfs', 'create', '-o', 'compression=gzip', `${pool}/www`])
  ok(['zfs', 'create', '-o', `mountpoint=${mnt}/srv/db`, '-o', 'recordsize=16k', `${pool}/db`])
  return { loop, name, mnt, pool, dir }
}

const NO_BACKUP = { store: 'file:///srv/backups/', set: 'host', signer: null, signerPublicKey: null }

function options(root: string, disks: string[], raw: CaptureOptions['raw'], warnings: string[] = []): CaptureOptions {
  return { root, disks, backup: NO_BACKUP, raw, warn: (m) => warnings.push(m) }
}

t.test('captureLayout of a loop machine', { skip }, async (t) => {
  const m = makeMachine(t)
  const warnings: string[] = []
  const layout = await captureLayout(options(m.mnt, [m.loop], { record: `${m.dir}/rec` }, warnings))
  const p = (n: number) => `part:${m.name}:${n}`

  t.test('disk and partition table', async (t) => {
    t.equal(layout.disks.length, 1, 'only the loop disk: nothing of the host is mounted below the root')
    const d = layout.disks[0]!
    t.match(d, { name: m.name, path: m.loop, sizeBytes: 420 << 20, sectorSize: 512, table: 'gpt', tableId: DISK_ID })
    t.same(d.partitions.map((x) => [x.number, x.type, x.uuid, x.name]), PARTS.map((x, i) => [i + 1, x.type, x.uuid.toUpperCase(), x.name]))
    t.same(d.partitions.map((x) => x.sizeSectors), [65536, 131072, 327680, 32768, 262144])
    t.match(d.sfdiskDump, new RegExp(`label-id: ${DISK_ID}`))
  })

  t.test('file systems, subvolumes, swap', async (t) => {
    const fs = new Map(layout.filesystems.map((f) => [f.device, f]))
    t.match(fs.get(p(1)), { type: 'vfat', uuid: '1234-ABCD', label: 'ESP', mkfsArgs: ['-F', '16'] })
    const ext = fs.get(p(2))!
    t.match(ext, { type: 'ext4', uuid: EXT_UUID, label: 'root' })
    t.ok(ext.mkfsArgs[1]!.split(',').includes('^metadata_csum'), 'the feature turned off at mkfs is off in mkfsArgs')
    t.same(ext.mkfsArgs.slice(-2), ['-I', '256'])
    const btrfs = fs.get(p(3))!
    t.match(btrfs, { type: 'btrfs', uuid: BTRFS_UUID, label: 'data', defaultSubvolume: null })
    t.same(btrfs.subvolumes.map((s) => s.path), ['@home', '@srv', '@home/nested'])
    t.same(layout.swaps, [{ device: p(4), uuid: SWAP_UUID, label: 'swap0' }])
  })

  t.test('ZFS pool and datasets', async (t) => {
    t.equal(layout.zfs.length, 1)
    const z = layout.zfs[0]!
    t.equal(z.name, m.pool)
    t.same(z.vdevs, [{ type: 'disk', devices: [p(5)] }])
    t.equal(z.properties.ashift, '12')
    t.same(z.datasets.map((d) => d.name), [m.pool, `${m.pool}/db`, `${m.pool}/www`])
    const ds = new Map(z.datasets.map((d) => [d.name, d]))
    t.same(ds.get(`${m.pool}/www`)!.properties, { compression: 'gzip' })
    t.same(ds.get(`${m.pool}/db`)!.properties, { recordsize: '16384', mountpoint: '/srv/db' }, 'mount points as inside the root, like the mounts')
    t.same(ds.get(m.pool)!.properties, { mountpoint: '/tank' })
  })

  t.test('mounts, tables, boot, backup', async (t) => {
    t.same(layout.mounts.map((x) => [x.target, x.source, x.fstype, x.subvolume]), [
      ['/', p(2), 'ext4', null], ['/data', p(3), 'btrfs', null], ['/home', p(3), 'btrfs', '@home'], ['/tank', `zfs:${m.pool}`, 'zfs', null],
      ['/tank/www', `zfs:${m.pool}/www`, 'zfs', null], ['/srv/db', `zfs:${m.pool}/db`, 'zfs', null],
    ])
    t.equal(layout.fstab, `UUID=${EXT_UUID} / ext4 defaults 0 1\n`)
    t.equal(layout.crypttab, null)
    t.same(layout.boot, { firmware: 'efi', loader: 'none', grubDisks: [], efi: { esp: p(1), entries: [] } }, 'an ESP and no GRUB boot code: EFI')
    t.match(layout, { version: 1, os: 'linux', root: m.mnt, md: [], luks: [], lvm: [], backup: NO_BACKUP })
    t.same(layout.notes, [])
    t.same(warnings, [])
  })

  t.test('record then replay gives the same Layout', async (t) => {
    t.match(readFileSync(`${m.dir}/rec/commands.txt`, 'utf8'), new RegExp(`^0\\tsfdisk--dump--dev-${m.name}\\tsfdisk --dump /dev/${m.name}$`, 'm'))
    const again = await captureLayout(options(m.mnt, [m.loop], { replay: `${m.dir}/rec` }))
    t.same(again, layout)
  })

  t.test('a vdev by a device node of its own (zfs-fuse pools are made so) is found by its numbers', async (t) => {
    const ctx = { run: systemRunner(), prefix: '', notes: [], warn: () => undefined }
    const zfs = new Zfs(ctx, parseLsblk(ok(['lsblk', '--json', '-b', '-O'])))
    const [major, minor] = ok(['stat', '-c', '%t %T', `${m.loop}p5`]).trim().split(' ').map((h) => String(parseInt(h, 16)))
    ok(['mknod', `${m.dir}/vdev`, 'b', major!, minor!])
    t.equal((await zfs.device(`${m.dir}/vdev`))?.kname, `${m.name}p5`)
    t.equal((await zfs.device(`${m.name}p5`))?.kname, `${m.name}p5`, 'zfs-fuse\'s name without /dev')
    t.equal(await zfs.device(`${m.dir}/disk.img`), undefined, 'a file is no block device')
  })

  t.test('a tool missing: a note for a device not in use, an error for one in use', async (t) => {
    const edited = (name: string, from: string, to: RegExp, code: string) => {
      const dir = `${m.dir}/${name}`
      cpSync(`${m.dir}/rec`, dir, { recursive: true })
      const text = readFileSync(`${dir}/commands.txt`, 'utf8')
      const line = text.split('\n').find((l) => l.endsWith(`\t${from}`))
      t.ok(line, `the recording ran "${from}"`)
      writeFileSync(`${dir}/commands.txt`, text.replace(line!, line!.replace(to, code)))
      writeFileSync(`${dir}/${line!.split('\t')[1]}.out`, '')
      return dir
    }
    const warnings: string[] = []
    const l: Layout = await captureLayout(options(m.mnt, [m.loop], { replay: edited('no-blkid', `blkid -o export -p ${m.loop}p4`, /^0/, '127') }, warnings))
    t.same(l.swaps, [], 'the swap partition (not in use) is not captured')
    t.match(l.notes, [new RegExp(`^blkid is not installed: what ${m.loop}p4 holds is not captured; install util-linux`)])
    t.same(warnings, l.notes)
    await t.rejects(captureLayout(options(m.mnt, [m.loop], { replay: edited('no-dumpe2fs', `dumpe2fs -h ${m.loop}p2`, /^0/, '127') })),
      { code: 'BT_CAPTURE', message: `cannot capture ${m.loop}p2: dumpe2fs is not installed`, hints: [/install e2fsprogs/] })
    await t.rejects(captureLayout(options(m.mnt, [`${m.loop}p2`], { replay: `${m.dir}/rec` })), { code: 'BT_CAPTURE', message: /is a part, not a whole disk/ })
  })
})
