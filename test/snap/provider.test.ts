// The providers' command sequences against recorded contracts. LVM: this
// kernel has no device-mapper, so lvcreate cannot work here; what bt-snap runs,
// in which order, with which mount options, and how it undoes a half-made
// snapshot, is checked with a recording runner (scripts/lvm-qemu.sh is where a
// real run would go). ZFS: the .zfs/snapshot route of OpenZFS, which zfs-fuse lacks.
import t from 'tap'
import { existsSync, mkdirSync } from 'node:fs'
import { type CommandResult } from '../../src/snap/exec.js'
import { LvmProvider, badSnapshotSize, mapperName, mountOptions } from '../../src/snap/lvm.js'
import { type SnapHost, parseSnapshotName, snapshotName } from '../../src/snap/provider.js'
import { ZfsProvider } from '../../src/snap/zfs.js'

type Script = (argv: string[]) => Partial<CommandResult> | undefined

/** A host whose runner records every command and answers from `script` (default: success, no output). */
function recorder(tmpdir: string, script: Script = () => undefined, mounts: Array<[string, string, string]> = []) {
  const calls: string[] = []
  const host: SnapHost = {
    tmpdir,
    mounts: () => mounts,
    run: async (argv) => {
      // Mount points are fresh temporary directories: recorded under a fixed name.
      calls.push(argv.map((a) => a.replace(/-[A-Za-z0-9]{6}$/, '-XXXXXX').replace(tmpdir, 'TMP')).join(' '))
      return { code: 0, stdout: '', stderr: '', ...script([...argv]) }
    },
  }
  return { host, calls }
}

const NAME = 'backtory-db-20260102T030405Z'

t.test('names: backtory-<set>-<UTC time to the second>, parsed back; other names are not ours', async (t) => {
  t.equal(snapshotName('db', new Date('2026-01-02T03:04:05.678Z')), NAME)
  t.same(parseSnapshotName(NAME), { set: 'db', time: '20260102T030405Z' })
  t.same(parseSnapshotName('backtory-my-set-20260102T030405Z'), { set: 'my-set', time: '20260102T030405Z' })
  for (const n of ['backtory-db', 'nightly', 'backtory-db-2026', 'xbacktory-db-20260102T030405Z', `${NAME}-x`]) {
    t.equal(parseSnapshotName(n), undefined, n)
  }
})

t.test('LVM: mount options per file system type', async (t) => {
  t.equal(mountOptions('xfs'), 'ro,nouuid')
  t.equal(mountOptions('ext4'), 'ro,noload')
  t.equal(mountOptions('ext3'), 'ro,noload')
  t.equal(mountOptions('ext2'), 'ro')
  t.equal(mapperName('vg-data', 'backtory-db-1'), 'vg--data-backtory--db--1')
  t.equal(badSnapshotSize('2G'), undefined)
  t.equal(badSnapshotSize('20%ORIGIN'), undefined)
  t.match(badSnapshotSize('lots'), /bad snapshot size/)
})

for (const [fstype, opts] of [['xfs', 'ro,nouuid'], ['ext4', 'ro,noload']]) {
  t.test(`LVM contract (${fstype}): create, probe, mount read-only; release unmounts, removes the dir, removes the LV`, async (t) => {
    const dir = t.testdir()
    const { host, calls } = recorder(dir, (argv) => (argv[0] === 'blkid' ? { stdout: `${fstype}\n` } : undefined))
    const p = new LvmProvider('vg0/data', '2G', host)
    const snap = await p.take(NAME)
    t.match(snap.path, new RegExp(`^${dir}/${NAME}-`))
    t.equal(snap.id, `vg0/${NAME}`)
    await p.release()
    t.same(calls, [
      'lvs --noheadings -o lv_name vg0/data',
      `lvcreate --snapshot --size 2G --name ${NAME} vg0/data`,
      `blkid -p -o value -s TYPE /dev/vg0/${NAME}`,
      `mount -t ${fstype} -o ${opts} /dev/vg0/${NAME} TMP/${NAME}-XXXXXX`,
      `umount TMP/${NAME}-XXXXXX`,
      `lvremove --force vg0/${NAME}`,
    ])
    await p.release()
    t.equal(calls.length, 6, 'a second release does nothing')
  })
}

t.test('LVM contract: a mount that fails removes the snapshot it made, and the error names the command', async (t) => {
  const dir = t.testdir()
  const { host, calls } = recorder(dir, (argv) => {
    if (argv[0] === 'blkid') return { stdout: 'ext4\n' }
    if (argv[0] === 'mount') return { code: 32, stderr: 'mount: wrong fs type, bad option, bad superblock\n' }
    return undefined
  })
  const p = new LvmProvider('vg0/data', '20%ORIGIN', host)
  await t.rejects(p.take(NAME), { code: 'BT_SNAP_COMMAND', message: /command failed: mount -t ext4 -o ro,noload .*exit status 32: mount: wrong fs type/ })
  await p.release()
  t.same(calls.slice(1), [
    `lvcreate --snapshot --extents 20%ORIGIN --name ${NAME} vg0/data`,
    `blkid -p -o value -s TYPE /dev/vg0/${NAME}`,
    `mount -t ext4 -o ro,noload /dev/vg0/${NAME} TMP/${NAME}-XXXXXX`,
    `lvremove --force vg0/${NAME}`,
  ], 'no umount of what was never mounted; the LV is removed')
})

t.test('LVM contract: a failing lvcreate leaves nothing to release', async (t) => {
  const { host, calls } = recorder(t.testdir(), (argv) => (argv[0] === 'lvcreate'
    ? { code: 5, stderr: '  /dev/mapper/control: open failed: No such device\n  Failure to communicate with kernel device-mapper driver.\n' } : undefined))
  const p = new LvmProvider('vg0/data', '1G', host)
  await t.rejects(p.take(NAME), { code: 'BT_SNAP_COMMAND', message: /device-mapper/ })
  await p.release()
  t.equal(calls.length, 2)
})

t.test('LVM contract: a failing unmount still removes what it can and reports what is left', async (t) => {
  const { host, calls } = recorder(t.testdir(), (argv) => {
    if (argv[0] === 'blkid') return { stdout: 'xfs\n' }
    if (argv[0] === 'umount') return { code: 32, stderr: 'umount: target is not mounted.\n' }
    return undefined
  })
  const p = new LvmProvider('vg0/data', '1G', host)
  await p.take(NAME)
  await t.rejects(p.release(), { code: 'BT_SNAP_RELEASE', message: /could not release the mount on .*umount/ })
  t.equal(calls.at(-1), `lvremove --force vg0/${NAME}`, 'the LV removal is still tried')
})

t.test('LVM --cleanup: only our snapshots of this LV and set; stale mounts first', async (t) => {
  const dir = t.testdir()
  const stale = 'backtory-db-20200101T000000Z'
  const lvs = ['data|', `${stale}|data`, 'backtory-db-20200102T000000Z|other', 'backtory-web-20200101T000000Z|data', 'admin-snap|data'].join('\n')
  const { host, calls } = recorder(dir, (argv) => (argv[0] === 'lvs' && argv.includes('--separator') ? { stdout: lvs } : undefined),
    [[`/dev/mapper/vg0-${stale.replace(/-/g, '--')}`, `${dir}/${stale}-abcdef`, 'ext4']])
  mkdirSync(`${dir}/${stale}-abcdef`)
  const p = new LvmProvider('vg0/data', '', host)
  const found = await p.listStale('db')
  t.equal(found.length, 1)
  t.match(found[0]!.what, `LVM snapshot vg0/${stale} (mounted on`)
  await found[0]!.remove()
  t.notOk(existsSync(`${dir}/${stale}-abcdef`), 'its temporary mount point is removed')
  t.same(calls.slice(-2), [`umount TMP/${stale}-XXXXXX`, `lvremove --force vg0/${stale}`])
})

t.test('ZFS on OpenZFS: a snapshot is read in DATASET/.zfs/snapshot/NAME, no clone', async (t) => {
  const mp = t.testdir()
  mkdirSync(`${mp}/.zfs/snapshot/${NAME}`, { recursive: true })
  const { host, calls } = recorder(mp, (argv) => (argv[1] === 'list' ? { stdout: `tank/www\t${mp}\tyes\n` } : undefined))
  const p = new ZfsProvider('tank/www', false, host)
  const snap = await p.take(NAME)
  t.equal(snap.path, `${mp}/.zfs/snapshot/${NAME}`)
  t.equal(snap.id, `tank/www@${NAME}`)
  await p.release()
  t.same(calls, [
    'zfs list -H -o name,mountpoint,mounted -t filesystem tank/www',
    `zfs snapshot tank/www@${NAME}`,
    `zfs destroy tank/www@${NAME}`,
  ])
})

t.test('ZFS: a busy dataset is retried on release', async (t) => {
  let busy = 2
  const { host, calls } = recorder(t.testdir(), (argv) => {
    if (argv[1] === 'list') return { stdout: 'tank/www\tlegacy\tno\n' }
    if (argv[1] === 'get') return { stdout: 'yes\n' }
    if (argv[1] === 'destroy' && argv.includes('-r') && busy-- > 0) return { code: 1, stderr: "cannot destroy 'tank/x': dataset is busy\n" }
    return undefined
  })
  const p = new ZfsProvider('tank/www', false, host)
  await p.take(NAME)
  await p.release()
  t.same(calls.filter((c) => c.includes('destroy')), [
    `zfs destroy -r tank/${NAME}`, `zfs destroy -r tank/${NAME}`, `zfs destroy -r tank/${NAME}`, `zfs destroy tank/www@${NAME}`,
  ])
  t.ok(calls.includes(`zfs clone -o readonly=on -o mountpoint=TMP/${NAME}-XXXXXX tank/www@${NAME} tank/${NAME}`),
    'a clone, read-only, where there is no .zfs (a legacy mount point)')
})
