// bt-ls output, byte for byte, in any time zone and locale.
import t from 'tap'
import { runBin } from '../helpers.js'
import { makeStream } from '../stream.js'

const stream = makeStream([
  { meta: { path: '.', type: 'directory', mode: 0o755, uname: 'root', gname: 'root' } },
  { meta: { path: 'bin', type: 'directory', mode: 0o755 } },
  { meta: { path: 'bin/su', type: 'file', mode: 0o4755, uid: 300000, gid: 300001, mtime: { sec: 1_700_000_000, nsec: 123_456_789 } }, data: 'su!' },
  { meta: { path: 'bin/link', type: 'symlink', mode: 0o777, linkpath: 'su' } },
  { meta: { path: 'bin/hard', type: 'hardlink', linkpath: 'bin/su' } },
  { meta: { path: 'dev-null', type: 'chardev', mode: 0o666, devmajor: 1, devminor: 3 } },
  { meta: { path: 'tmp', type: 'directory', mode: 0o1777 } },
])

const text = `# backtory stream v1 full id 00112233445566778899aabbccddeeff host "test" source "/test" time 2026-01-01T00:00:00.000Z producer "backtory test"
drwxr-xr-x root/root                    0 2023-11-14 22:13:20 .
drwxr-xr-x 0/0                          0 2023-11-14 22:13:20 bin
-rwsr-xr-x 300000/300001                3 2023-11-14 22:13:20 bin/su
lrwxrwxrwx 0/0                          0 2023-11-14 22:13:20 bin/link -> su
hrw-r--r-- 0/0                          0 2023-11-14 22:13:20 bin/hard link to bin/su
crw-rw-rw- 0/0                        1,3 2023-11-14 22:13:20 dev-null
drwxrwxrwt 0/0                          0 2023-11-14 22:13:20 tmp
`

t.test('the listing is exact, and the same under an odd TZ and locale', async (t) => {
  for (const env of [{ TZ: 'UTC', LC_ALL: 'C' }, { TZ: 'Pacific/Chatham', LC_ALL: 'tr_TR.UTF-8' }]) {
    const r = await runBin('bt-ls', [], stream, env)
    t.equal(r.code, 0, r.stderr)
    const lines = r.stdout.toString().split('\n')
    t.equal(lines.slice(0, -2).join('\n') + '\n', text, `TZ=${env.TZ}`)
    t.match(lines[lines.length - 2], /^# trailer: 7 entries, 0 incomplete, \d+ bytes, chain sha256:[0-9a-f]{64}, verified$/)
  }
})

t.test('--json gives one object per frame with exact fields', async (t) => {
  const r = await runBin('bt-ls', ['--json'], stream)
  t.equal(r.code, 0)
  const frames = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l))
  t.equal(frames.length, 9)
  t.same(frames[3], {
    frame: 'entry', path: 'bin/su', type: 'file', mode: '04755', uid: 300000, gid: 300001, uname: '', gname: '', size: 3,
    mtime: '1700000000.123456789',
  })
  t.match(frames[8], { frame: 'trailer', entries: 7, incomplete: 0 })
})

t.test('bt-ls reads a FILE argument and refuses two', async (t) => {
  const dir = t.testdir()
  const { writeFileSync } = await import('node:fs')
  writeFileSync(`${dir}/s.bt`, stream)
  t.equal((await runBin('bt-ls', [`${dir}/s.bt`])).code, 0)
  t.equal((await runBin('bt-ls', ['a', 'b'])).code, 2)
  const missing = await runBin('bt-ls', [`${dir}/nope.bt`])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /nope\.bt/)
})

t.test('a listing longer than a write batch is whole and in order', async (t) => {
  // 3,000 entries make some 200 KiB of lines: several batches of the listing's writer.
  const many = makeStream([
    { meta: { path: '.', type: 'directory', mode: 0o755 } },
    ...Array.from({ length: 2999 }, (_, i) => ({ meta: { path: `f${String(i).padStart(5, '0')}`, type: 'file' as const, mode: 0o644 }, data: `${i}\n` })),
  ])
  const r = await runBin('bt-ls', [], many)
  t.equal(r.code, 0, r.stderr)
  const lines = r.stdout.toString().split('\n')
  t.equal(lines.length, 3003, 'header, 3,000 entries, trailer, and the final newline')
  t.match(lines[3001], /^# trailer: 3000 entries/)
  t.ok(lines.slice(2, 3001).every((l, i) => l.endsWith(` f${String(i).padStart(5, '0')}`)), 'every entry, in stream order')
})

t.test('a damaged stream is listed up to the damage, then exit 4', async (t) => {
  // Cut inside the data of the last entry: every entry before it was verified and is listed.
  const r = await runBin('bt-ls', [], stream.subarray(0, stream.length - 3000))
  t.equal(r.code, 4)
  t.match(r.stderr, /truncated/)
  const lines = r.stdout.toString().split('\n')
  t.equal(lines[0], text.split('\n')[0], 'the header')
  t.ok(lines.length >= 4, `the entries before the damage are listed (${lines.length - 1} lines)`)
  t.equal(lines.slice(0, -1).join('\n') + '\n', text.split('\n').slice(0, lines.length - 1).join('\n') + '\n', 'exactly as in the whole listing')
})
