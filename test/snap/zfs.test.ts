// bt-snap --zfs on a real ZFS: zfs-fuse with a pool on a file, started here.
// zfs-fuse has no .zfs directory, so every run reads through a read-only clone
// (the .zfs route of OpenZFS is covered with a recorded runner in provider.test.ts).
import t, { type Test } from 'tap'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { runBin, sh } from '../helpers.js'
import { buildTree, compareTrees } from '../tree.js'
import { cmd, missing, scratch, startHeld, traces, zfsPool } from './fixtures.js'

const skip = missing('zfs', t)
const SET = 'zfstest'

t.test('bt-snap --zfs', { skip }, async (t) => {
  const dir = scratch(t, 'zfs')
  const { pool, mnt } = zfsPool(t, dir)
  const ds = `${pool}/www`
  t.equal(cmd(['zfs', 'create', ds]).code, 0)
  t.equal(cmd(['zfs', 'create', `${ds}/child`]).code, 0)
  const live = `${mnt}/www`
  buildTree(live, { root: true })
  // zfs-fuse has no SEEK_HOLE: the 100 MB sparse file would be read whole, for nothing ZFS-specific.
  rmSync(`${live}/sparse.img`)
  writeFileSync(`${live}/child/in-child`, 'child dataset\n')
  const ours = () => cmd(['zfs', 'list', '-H', '-o', 'name', '-t', 'all', '-r', pool]).stdout.split('\n').filter((l) => l.includes(`backtory-${SET}-`))
  const clean = (t: Test, what: string) => {
    t.same(ours(), [], `${what}: no backtory snapshot or clone is left`)
    t.same(traces(SET), [], `${what}: no mount or mount point is left`)
  }
  const fin = `${dir}/finally.env`
  const finallyHook = `env | grep ^BT_ | sort > "${fin}"`
  const finEnv = () => Object.fromEntries(readFileSync(fin, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))

  t.test('a snapshot read through a clone round-trips, and is released', async (t) => {
    const r = sh(`bt-snap.js --zfs ${ds} --set ${SET} -x --finally '${finallyHook}' | bt-restore.js "${dir}/copy"`)
    t.equal(r.code, 0, r.stderr)
    // The child dataset is another file system: -x keeps its mount point only. Live, "child" is the
    // child dataset's root; through the parent's clone it is the parent's own directory under it,
    // whose mtime is that of the child's creation, a second apart or not.
    // zfs-fuse reports st_blocks of freshly written files as 1: sparseness cannot be compared.
    // zfs-fuse keeps an ACL's mask out of step with the mode's group bits ("private": mode 0600,
    // mask r--); the restored copy, on another file system, has them in step again.
    const quirk = (d: { path: string; what: string }) => d.path === 'private' && d.what.startsWith('xattrs system.posix_acl_access')
    t.same(compareTrees(live, `${dir}/copy`, { rootMeta: false, holes: false }).filter((d) => !d.path.startsWith('child/') && !(d.path === 'child' && d.what.startsWith('mtime ')) && !quirk(d)), [])
    t.notOk(existsSync(`${dir}/copy/child/in-child`))
    const env = finEnv()
    t.equal(env.BT_STATUS, '0')
    t.equal(env.BT_PROVIDER, 'zfs')
    t.equal(env.BT_SOURCE, ds)
    t.match(env.BT_SNAPSHOT, new RegExp(`^${ds}@backtory-${SET}-\\d{8}T\\d{6}Z$`))
    t.match(env.BT_SNAPSHOT_PATH, new RegExp(`/backtory-${SET}-\\d{8}T\\d{6}Z-`))
    const head = await runBin('bt-ls', ['--json'], sh(`bt-snap.js --zfs ${ds} --set ${SET}`).stdout as unknown as string)
    t.match(head.stdout.toString(), new RegExp(`"source":"${ds}"`), 'the header names the dataset, not the clone')
    clean(t, 'after success')
  })

  t.test('--recursive snapshots the children atomically and reads them in place', async (t) => {
    const r = sh(`bt-snap.js --zfs ${ds} --recursive --set ${SET} | bt-ls.js`)
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, / child\/in-child\n/)
    clean(t, 'after --recursive')
  })

  t.test('EPIPE and SIGTERM with the clone mounted: released, --finally ran', async (t) => {
    const r = sh(`{ bt-snap.js --zfs ${ds} --set ${SET} --finally '${finallyHook}'; echo $? > "${dir}/code"; } | head -c 1000 > /dev/null`)
    t.equal(readFileSync(`${dir}/code`, 'utf8').trim(), '141', r.stderr)
    t.equal(finEnv().BT_STATUS, '141')
    clean(t, 'after EPIPE')
    const held = await startHeld(['--zfs', ds, '--set', SET, '--finally', finallyHook], `${dir}/scanning`)
    t.equal(ours().length, 2, 'snapshot and clone exist while bt-snap waits')
    held.child.kill('SIGTERM')
    const exit = await held.finish()
    t.equal(exit, 143, held.stderr())
    t.equal(finEnv().BT_STATUS, '143')
    clean(t, 'after SIGTERM')
  })

  t.test('--cleanup removes our stale snapshots and clones, never the admin\'s', async (t) => {
    const stale = `backtory-${SET}-20200101T000000Z`
    const ok = (argv: string[]) => t.equal(cmd(argv).code, 0, argv.join(' '))
    ok(['zfs', 'snapshot', `${ds}@${stale}`])
    mkdirSync(`${dir}/stale-mnt`)
    ok(['zfs', 'clone', '-o', `mountpoint=${dir}/stale-mnt`, `${ds}@${stale}`, `${pool}/${stale}`])
    ok(['zfs', 'snapshot', `${ds}@admin-nightly`])
    ok(['zfs', 'snapshot', `${ds}@backtory-other-20200101T000000Z`])
    ok(['zfs', 'snapshot', `${ds}@backtory-${SET}-keep`])
    const r = await runBin('bt-snap', ['--cleanup', '--zfs', ds, '--set', SET])
    t.equal(r.code, 0, r.stderr)
    t.match(r.stderr, new RegExp(`removed ZFS clone ${pool}/${stale}`))
    t.match(r.stderr, new RegExp(`removed ZFS snapshot ${ds}@${stale}`))
    const left = cmd(['zfs', 'list', '-H', '-o', 'name', '-t', 'snapshot', '-r', pool]).stdout.trim().split('\n').sort()
    t.same(left, [`${ds}@admin-nightly`, `${ds}@backtory-other-20200101T000000Z`, `${ds}@backtory-${SET}-keep`])
    t.ok(existsSync(`${dir}/stale-mnt`), 'a mount point bt-snap did not make is not removed')
    for (const s of left) cmd(['zfs', 'destroy', s])
  })

  t.test('a dataset that does not exist: exit 1, a clear error, nothing taken', async (t) => {
    const r = await runBin('bt-snap', ['--zfs', `${pool}/nope`, '--set', SET])
    t.equal(r.code, 1)
    t.match(r.stderr, new RegExp(`bt-snap: error: no ZFS file system "${pool}/nope"`))
    clean(t, 'after a missing dataset')
  })
})
