// Issue 2 (foundation): defects found in review of the first version, each
// pinned by a test that failed before its fix.
import t from 'tap'
import { symlinkSync, lstatSync } from 'node:fs'
import { formatTime, parseTime } from '../../src/format/frame.js'
import { sys } from '../../src/sys/native.js'
import { runBin, sh } from '../helpers.js'
import { INFO, makeStream } from '../stream.js'

t.test('times before 1970 with a fraction mean what POSIX says', async (t) => {
  t.equal(formatTime({ sec: -2, nsec: 500_000_000 }), '-1.500000000')
  t.same(parseTime('-1.5', 'test'), { sec: -2, nsec: 500_000_000 })
  t.same(parseTime('-3', 'test'), { sec: -3, nsec: 0 })
  t.same(parseTime(formatTime({ sec: -1, nsec: 1 }), 'test'), { sec: -1, nsec: 1 })
  const dir = t.testdir({ src: { old: 'x' }, gnu: {} })
  sys().lutimens(`${dir}/src/old`, -2, 500_000_000, -2, 500_000_000)
  const r = sh(`bt-scan.js "${dir}/src" > "${dir}/s.bt" && bt-restore.js "${dir}/dst" < "${dir}/s.bt" && tar -C "${dir}/gnu" --warning=no-unknown-keyword -xf "${dir}/s.bt"`)
  t.equal(r.code, 0, r.stderr)
  const want = lstatSync(`${dir}/src/old`, { bigint: true }).mtimeNs
  t.equal(want, -1_500_000_000n)
  t.equal(lstatSync(`${dir}/dst/old`, { bigint: true }).mtimeNs, want, 'bt-restore')
  t.equal(lstatSync(`${dir}/gnu/old`, { bigint: true }).mtimeNs, want, 'GNU tar')
})

t.test('an xattr name holding "=" or "%" survives', async (t) => {
  const dir = t.testdir({ src: { f: 'x' } })
  sys().setXattr(`${dir}/src/f`, 'user.a=b%c', Buffer.from('v=1'))
  const r = sh(`bt-scan.js "${dir}/src" | bt-restore.js "${dir}/dst"`)
  t.equal(r.code, 0, r.stderr)
  t.same(sys().listXattr(`${dir}/dst/f`), ['user.a=b%c'])
  t.equal(sys().getXattr(`${dir}/dst/f`, 'user.a=b%c').toString(), 'v=1')
})

t.test('a symlink whose target is not UTF-8 is kept exactly, not corrupted (issue 10: no longer skipped)', async (t) => {
  const dir = t.testdir({ src: { ok: 'x' } })
  symlinkSync(Buffer.from([0x61, 0xff, 0x62]) as unknown as string, `${dir}/src/bad-link`)
  const r = await runBin('bt-scan', [`${dir}/src`])
  t.equal(r.code, 0, r.stderr)
  const ls = await runBin('bt-ls', ['--json'], r.stdout)
  t.equal(ls.code, 0)
  t.match(ls.stdout.toString(), /"path":"bad-link","type":"symlink".*"linkpath":"a\\udcffb"/)
})

t.test('--to-stdout accepts a path typed with a leading slash', async (t) => {
  const s = makeStream([{ meta: { path: 'etc', type: 'directory' } }, { meta: { path: 'etc/passwd', type: 'file' }, data: 'root\n' }])
  const r = await runBin('bt-restore', ['--to-stdout', '/etc/passwd'], s)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.toString(), 'root\n')
  const bad = await runBin('bt-restore', ['--to-stdout', '../x'], s)
  t.equal(bad.code, 2, 'a path no stream can hold is a usage error')
})

t.test('a hard link to a path the stream never held is an invalid stream', async (t) => {
  const s = makeStream([{ meta: { path: 'link', type: 'hardlink', linkpath: 'nowhere' } }])
  const r = await runBin('bt-restore', [t.testdir()], s)
  t.equal(r.code, 4)
  t.match(r.stderr, /hard link "link" points at "nowhere", which the stream did not hold before it/)
})

t.test('bt-scan -o FILE inside the scanned tree leaves its own output out', async (t) => {
  const dir = t.testdir({ a: 'x' })
  const r = await runBin('bt-scan', ['-o', `${dir}/self.bt`, dir])
  t.equal(r.code, 0, r.stderr)
  const ls = await runBin('bt-ls', [`${dir}/self.bt`])
  t.notMatch(ls.stdout.toString(), /self\.bt/)
})

t.test('bt-restore refuses a stream kind it does not know how to apply', async (t) => {
  const s = makeStream([{ meta: { path: 'a', type: 'file' }, data: 'x' }], { ...INFO, stream: 'future' })
  const r = await runBin('bt-restore', [t.testdir()], s)
  t.equal(r.code, 4)
  t.match(r.stderr, /applies full and diff streams; the input is a "future" stream/)
  t.equal((await runBin('bt-ls', [], s)).code, 0, 'bt-ls still lists it')
})

t.test('--list shows hostile paths without matching them, and never crashes', async (t) => {
  const s = makeStream([{ meta: { path: '../evil', type: 'file' }, data: 'x' }, { meta: { path: 'good', type: 'file' }, data: 'y' }])
  const all = await runBin('bt-restore', ['--list'], s)
  t.equal(all.code, 0)
  t.match(all.stdout.toString(), /\.\.\/evil/)
  const some = await runBin('bt-restore', ['--list', 'good'], s)
  t.equal(some.code, 0)
  t.notMatch(some.stdout.toString(), /evil/)
})

t.test('a missing input file is an I/O error naming it', async (t) => {
  const r = await runBin('bt-restore', ['-i', '/no/such.bt', t.testdir()])
  t.equal(r.code, 1)
  t.match(r.stderr, /^bt-restore: error: cannot read "\/no\/such\.bt": no such file or directory \(ENOENT\)$/m)
})
