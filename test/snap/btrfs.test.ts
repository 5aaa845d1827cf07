// bt-snap --btrfs on a real btrfs (a loop-mounted image): the round trip, the
// scanner options, the hooks, and the release on every kind of ending.
import t, { type Test } from 'tap'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { runBin, sh } from '../helpers.js'
import { buildTree, compareTrees } from '../tree.js'
import { btrfsMount, cmd, missing, scratch, startHeld, traces } from './fixtures.js'

const skip = missing('btrfs', t)
const SET = 'btrfstest'

t.test('bt-snap --btrfs', { skip }, async (t) => {
  const dir = scratch(t, 'btrfs')
  const mnt = btrfsMount(t, dir)
  const vol = `${mnt}/www`
  t.equal(cmd(['btrfs', 'subvolume', 'create', vol]).code, 0)
  buildTree(vol, { root: true })
  const snaps = () => cmd(['btrfs', 'subvolume', 'list', mnt]).stdout.split('\n').filter((l) => l.includes('backtory-'))
  const clean = (t: Test, what: string) => {
    t.same(snaps(), [], `${what}: no backtory snapshot is left`)
    t.same(traces(SET), [], `${what}: no mount or mount point is left`)
    t.notOk(existsSync(`${vol}/.backtory-snapshots`), `${what}: the snapshot directory is gone`)
  }
  const fin = `${dir}/finally.env`
  const finallyHook = `env | grep ^BT_ | sort > "${fin}"`
  const finEnv = () => Object.fromEntries(readFileSync(fin, 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))

  t.test('a snapshot round-trips through bt-restore, and is released', async (t) => {
    const r = sh(`bt-snap.js --btrfs "${vol}" --set ${SET} --post 'test -d "$BT_SNAPSHOT_PATH" && echo post-saw-snapshot >&2' ` +
      `--finally '${finallyHook}' | bt-restore.js "${dir}/copy"`)
    t.equal(r.code, 0, r.stderr)
    t.match(r.stderr, /post-saw-snapshot/, '--post runs while the snapshot exists')
    t.same(compareTrees(vol, `${dir}/copy`, { rootMeta: false }), [])
    const env = finEnv()
    t.equal(env.BT_STATUS, '0')
    t.equal(env.BT_PROVIDER, 'btrfs')
    t.equal(env.BT_SOURCE, vol)
    t.equal(env.BT_SET, SET)
    t.match(env.BT_SNAPSHOT, new RegExp(`^${vol}/\\.backtory-snapshots/backtory-${SET}-\\d{8}T\\d{6}Z$`))
    clean(t, 'after success')
  })

  t.test('the header names the live subvolume; --exclude works', async (t) => {
    const r = await runBin('bt-snap', ['--btrfs', vol, '--set', SET, '--exclude', 'big*', '--exclude', 'deep/'])
    t.equal(r.code, 0, r.stderr)
    const ls = await runBin('bt-ls', ['--json'], r.stdout)
    const frames = ls.stdout.toString().trim().split('\n').map((l) => JSON.parse(l))
    t.equal(frames[0].source, vol)
    const paths = frames.filter((f) => f.frame === 'entry').map((f) => f.path)
    t.ok(paths.includes('hello.txt'))
    t.notOk(paths.some((p: string) => p.startsWith('big') || p.startsWith('deep') || p.startsWith('.backtory')), paths.join(' '))
    clean(t, 'after --exclude')
  })

  t.test('--state quick-checks against the full that bt-delta recorded from a snapshot', async (t) => {
    const S = `${dir}/state`
    t.equal(sh(`bt-snap.js --btrfs "${vol}" --set ${SET} | bt-delta.js -q --state "${S}" --full > "${dir}/full.bt" && bt-delta.js -q --state "${S}" --confirm > /dev/null`).code, 0)
    writeFileSync(`${vol}/hello.txt`, 'changed\n')
    const q = sh(`bt-snap.js --btrfs "${vol}" --set ${SET} --state "${S}" | bt-ls.js --json`)
    t.equal(q.code, 0, q.stderr)
    const files = q.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((f) => f.frame === 'entry' && f.type === 'file')
    t.notOk(files.some((f) => f.path === 'big-hardlink' || f.path === 'space name'), 'a file untouched since the full is left out, not read')
    t.equal(files.find((f) => f.path === 'hello.txt')?.op, undefined, 'the changed file is stored')
    const d = sh(`bt-snap.js --btrfs "${vol}" --set ${SET} --state "${S}" | bt-delta.js -q --state "${S}" > "${dir}/diff.bt"`)
    t.equal(d.code, 0, d.stderr)
    const r = sh(`bt-restore.js "${dir}/r" < "${dir}/full.bt" && bt-restore.js "${dir}/r" < "${dir}/diff.bt"`)
    t.equal(r.code, 0, r.stderr)
    t.same(compareTrees(vol, `${dir}/r`, { rootMeta: false }), [])
    clean(t, 'after --state')
  })

  t.test('a failing --pre takes nothing and fails the run; --finally still runs', async (t) => {
    const r = await runBin('bt-snap', ['--btrfs', vol, '--set', SET, '--pre', 'echo locking; exit 7',
      '--post', `touch "${dir}/post-ran"`, '--finally', finallyHook])
    t.equal(r.code, 1)
    t.match(r.stderr, /^locking$/m, 'hook output goes to stderr')
    t.match(r.stderr, /bt-snap: error: --pre hook "echo locking; exit 7" exited with status 7/)
    t.equal(r.stdout.length, 0)
    t.notOk(existsSync(`${dir}/post-ran`), 'no --post without a --pre that succeeded')
    t.equal(finEnv().BT_STATUS, '1')
    t.match(finEnv().BT_ERROR, /--pre hook/)
    t.equal(finEnv().BT_SNAPSHOT, '', 'no snapshot was taken')
    clean(t, 'after --pre failed')
  })

  t.test('an output error after the snapshot: exit 1, released, --finally ran', async (t) => {
    const r = sh(`bt-snap.js --btrfs "${vol}" --set ${SET} --finally '${finallyHook}' > /dev/full`)
    t.equal(r.code, 1, r.stderr)
    t.match(r.stderr, /ENOSPC|no space/i)
    t.equal(finEnv().BT_STATUS, '1')
    clean(t, 'after an error')
  })

  t.test('--capture: stored byte for byte; a failing one fails the run, and the snapshot is still released', async (t) => {
    const r = sh(`bt-snap.js --btrfs "${vol}" --set ${SET} --capture 'dump.sql=echo "-- $BT_SNAPSHOT"; head -c 300000 "${vol}/big.bin"' ` +
      `| bt-restore.js "${dir}/cap"`)
    t.equal(r.code, 0, r.stderr)
    const dump = readFileSync(`${dir}/cap/dump.sql`)
    const head = `-- ${vol}/.backtory-snapshots/backtory-${SET}-`
    t.equal(dump.subarray(0, head.length).toString(), head)
    t.same(dump.subarray(dump.indexOf(10) + 1), readFileSync(`${vol}/big.bin`).subarray(0, 300000))
    const f = await runBin('bt-snap', ['--btrfs', vol, '--set', SET, '--capture', 'db.sql=echo partial; echo pg_dump failed >&2; exit 3',
      '--finally', finallyHook])
    t.equal(f.code, 1)
    t.match(f.stderr, /^pg_dump failed$/m)
    t.match(f.stderr, /bt-snap: error: --capture db.sql: command .* exited with status 3/)
    t.equal(finEnv().BT_STATUS, '1')
    const ls = await runBin('bt-ls', [], f.stdout)
    t.equal(ls.code, 4, 'what was written has no trailer: every reader rejects it')
    clean(t, 'after a failed capture')
  })

  t.test('EPIPE: the reader dies early: exit 141, released, --finally ran', async (t) => {
    const r = sh(`{ bt-snap.js --btrfs "${vol}" --set ${SET} --finally '${finallyHook}'; echo $? > "${dir}/code"; } | head -c 1000 > /dev/null`)
    t.equal(r.code, 0)
    t.equal(readFileSync(`${dir}/code`, 'utf8').trim(), '141', r.stderr)
    t.notMatch(r.stderr, /error: output closed early/, 'quiet, as Unix tools are')
    t.equal(finEnv().BT_STATUS, '141')
    clean(t, 'after EPIPE')
  })

  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    t.test(`${sig} mid-scan: exit ${code}, released, --finally ran`, async (t) => {
      const held = await startHeld(['--btrfs', vol, '--set', SET, '--finally', finallyHook], `${dir}/scanning-${sig}`)
      t.ok(snaps().length === 1, 'the snapshot exists while bt-snap waits')
      held.child.kill(sig)
      held.child.kill(sig) // a second signal must not cut the release short
      const exit = await held.finish()
      t.equal(exit, code, held.stderr())
      t.match(held.stderr(), new RegExp(`interrupted by ${sig}`))
      t.equal(finEnv().BT_STATUS, String(code))
      clean(t, `after ${sig}`)
    })
  }

  t.test('--cleanup removes only our stale snapshots of this set', async (t) => {
    const sd = `${vol}/.backtory-snapshots`
    mkdirSync(sd)
    const make = (n: string) => t.equal(cmd(['btrfs', 'subvolume', 'snapshot', '-r', vol, `${sd}/${n}`]).code, 0, n)
    make(`backtory-${SET}-20200101T000000Z`)
    make(`backtory-${SET}-20200102T000000Z`)
    make(`backtory-other-20200101T000000Z`)
    make('admin-own')
    make(`backtory-${SET}-manual`)
    const run = await runBin('bt-snap', ['--btrfs', vol, '--set', SET])
    t.equal(run.code, 0, run.stderr)
    t.match(run.stderr, /2 snapshot\(s\) of set "btrfstest" left by an earlier run/)
    const r = await runBin('bt-snap', ['--cleanup', '--btrfs', vol, '--set', SET])
    t.equal(r.code, 0, r.stderr)
    t.match(r.stderr, /removed btrfs snapshot .*backtory-btrfstest-20200101T000000Z/)
    t.same(sh(`ls "${sd}"`).stdout.trim().split('\n'), ['admin-own', 'backtory-btrfstest-manual', 'backtory-other-20200101T000000Z'])
    const again = await runBin('bt-snap', ['--cleanup', '--btrfs', vol, '--set', SET])
    t.match(again.stderr, /no stale snapshots/)
    for (const n of ['admin-own', `backtory-${SET}-manual`, 'backtory-other-20200101T000000Z']) cmd(['btrfs', 'subvolume', 'delete', `${sd}/${n}`])
    cmd(['rmdir', sd])
  })

  t.test('a directory that is not a subvolume is refused with a hint', async (t) => {
    const r = await runBin('bt-snap', ['--btrfs', `${vol}/deep`])
    t.equal(r.code, 1)
    t.match(r.stderr, /is not a btrfs subvolume/)
    t.match(r.stderr, /hint: .*--path/)
  })
})
