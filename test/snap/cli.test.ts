// bt-snap's options and hooks, on --path (no snapshot, no root needed).
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { runBin, sh } from '../helpers.js'
import { compareTrees } from '../tree.js'

const tree = { a: 'x', sub: { b: 'y'.repeat(10000) }, 'skip.log': 'z' }

t.test('usage errors exit 2 with a hint', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /no source given/],
    [['--path', '.', '--zfs', 'tank/x'], /--zfs and --path given together/],
    [['--btrfs', '/x', '--recursive'], /--recursive goes with --zfs only/],
    [['--lvm', 'vg/lv'], /--lvm needs --snapshot-size/],
    [['--lvm', 'vg/lv', '--snapshot-size', 'lots'], /bad snapshot size "lots"/],
    [['--lvm', 'nope', '--snapshot-size', '1G'], /is not VG\/LV/],
    [['--zfs', 'tank/x@snap'], /not a ZFS file system name/],
    [['--path', '.', '--set', 'a b'], /bad --set "a b"/],
    [['--path', '.', '--hook-timeout', 'soon'], /bad --hook-timeout/],
    [['--path', '.', '--capture', 'nocommand'], /is not NAME=COMMAND/],
    [['--path', '.', '--capture', 'a/b=true'], /bad --capture name "a\/b"/],
    [['--path', '.', '--capture', 'x=true', '--capture', 'x=false'], /--capture "x" given twice/],
    [['--cleanup', '--path', '.'], /--cleanup needs --zfs, --btrfs or --lvm/],
    [['--cleanup', '--btrfs', '/x', '--pre', 'true'], /--cleanup does not go with --pre/],
    [['--path', '.', 'extra'], /unexpected argument "extra"/],
  ]
  for (const [args, re] of cases) {
    const r = await runBin('bt-snap', args)
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, re)
    t.equal(r.stdout.length, 0)
  }
})

t.test('--path: warns that the view is not consistent, round-trips, takes scanner options', async (t) => {
  const dir = t.testdir({ src: tree })
  const r = sh(`bt-snap.js --path "${dir}/src" --exclude '*.log' | bt-restore.js "${dir}/dst"`)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /^bt-snap: warning: --path takes no snapshot: .*not a consistent view$/m)
  t.notOk(existsSync(`${dir}/dst/skip.log`))
  t.same(compareTrees(`${dir}/src`, `${dir}/dst`, { rootMeta: false }).filter((d) => d.path !== 'skip.log'), [])
  const h = sh(`bt-snap.js --path "${dir}/src" --host web1 --source www | bt-ls.js`)
  t.match(h.stdout, /^# backtory stream v2 full id \w+ host "web1" source "www" /)
  t.match(sh(`bt-snap.js --path "${dir}/src" | bt-ls.js`).stdout, new RegExp(`source "${dir}/src"`))
})

t.test('hooks: order, environment, output on stderr, never on stdout', async (t) => {
  const dir = t.testdir({ src: tree })
  const log = `${dir}/log`
  const hook = (n: string) => `echo ${n} "$BT_HOOK" "$BT_SET" "$BT_PROVIDER" "$BT_SOURCE" "$BT_SNAPSHOT_PATH" "\${BT_STATUS-}" >> "${log}"; echo ${n}-says-hi`
  const r = await runBin('bt-snap', ['--path', `${dir}/src`, '--set', 'web', '--pre', hook('1'), '--post', hook('2'), '--finally', hook('3')])
  t.equal(r.code, 0, r.stderr)
  t.same(readFileSync(log, 'utf8').trim().split('\n'), [
    `1 pre web path ${dir}/src  `,
    `2 post web path ${dir}/src ${dir}/src `,
    `3 finally web path ${dir}/src ${dir}/src 0`,
  ])
  t.match(r.stderr, /1-says-hi\n(.|\n)*2-says-hi\n(.|\n)*3-says-hi/)
  t.notMatch(r.stdout.toString('latin1'), /says-hi/)
  t.equal((await runBin('bt-ls', [], r.stdout)).code, 0, 'stdout is the stream, intact')
})

t.test('a hook that runs too long is killed with its children, and the run fails', async (t) => {
  const dir = t.testdir({ src: tree })
  const start = Date.now()
  const r = await runBin('bt-snap', ['--path', `${dir}/src`, '--hook-timeout', '0.5', '--pre', 'sleep 30 & sleep 30; wait',
    '--finally', `echo "$BT_STATUS" > "${dir}/status"`])
  t.ok(Date.now() - start < 10_000, 'not waited for')
  t.equal(r.code, 1)
  t.match(r.stderr, /bt-snap: error: --pre hook "sleep 30 & sleep 30; wait" did not finish within 0.5 s and was killed/)
  t.match(r.stderr, /hint: raise --hook-timeout/)
  t.equal(r.stdout.length, 0)
  t.equal(readFileSync(`${dir}/status`, 'utf8'), '1\n')
  t.equal(sh('pgrep -f "^sleep 30$"').stdout, '', 'its background child is gone too')
})

t.test('a failing --post or --finally is a warning (exit 3): the stream is complete', async (t) => {
  const dir = t.testdir({ src: tree })
  const post = await runBin('bt-snap', ['--path', `${dir}/src`, '--post', 'exit 5'])
  t.equal(post.code, 3)
  t.match(post.stderr, /bt-snap: warning: --post hook "exit 5" exited with status 5/)
  t.equal((await runBin('bt-ls', [], post.stdout)).code, 0)
  const fin = await runBin('bt-snap', ['--path', `${dir}/src`, '--finally', 'kill -TERM $$'])
  t.equal(fin.code, 3)
  t.match(fin.stderr, /--finally hook "kill -TERM \$\$" was killed by SIGTERM/)
})

t.test('--capture on --path: restored byte-identical', async (t) => {
  const dir = t.testdir({ src: tree })
  const r = sh(`bt-snap.js --path "${dir}/src" --capture 'db.sql=printf "%s" "$BT_CAPTURE"; seq 1 200000' | bt-restore.js "${dir}/dst"`)
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(`${dir}/dst/db.sql`, 'utf8'), `db.sql${sh('seq 1 200000').stdout}`)
})
