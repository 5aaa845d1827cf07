// bt-put, bt-get and bt-ls URL as a user runs them, on a local directory store
// (file://); the network backends run the same engines in test/transport.
import t from 'tap'
import { spawn } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { BIN, ROOT, runBin, sh } from '../helpers.js'
import { compareTrees } from '../tree.js'

const K = `${ROOT}test/fixtures/keys`
const seal = (src: string, set = 'www') =>
  `node ${BIN}/bt-scan.js "${src}" | node ${BIN}/bt-seal.js --compress none --set ${set} --to ${K}/admin.pub --sign ${K}/host.key`

t.test('put, ls, get, open, restore: the tree comes back', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n', sub: { b: 'beta\n'.repeat(100_000) } } })
  const put = sh(`${seal(`${dir}/src`)} | node ${BIN}/bt-put.js --volume-size 64K file://${dir}/store`)
  t.equal(put.code, 0, put.stderr)
  const name = put.stdout.trim()
  t.match(name, /^www_\d{8}T\d{6}Z_full_[0-9a-f]{32}$/, 'prints the backup name')
  t.match(put.stderr, /stored .* in \d+ volumes/)
  const vols = readdirSync(`${dir}/store`)
  t.ok(vols.length > 1 && vols.every((v) => v.startsWith(`${name}.`) && v.endsWith(`-of-${String(vols.length).padStart(4, '0')}.sealed`)), 'volumes named N-of-COUNT')
  const ls = await runBin('bt-ls', [`${dir}/store`])
  t.equal(ls.code, 0, ls.stderr)
  const row = ls.stdout.toString().trim().split('\t')
  t.same([row[1], row[2], row[4], row[6], row[7], row[8]], ['www', 'full', '-', `${vols.length}/${vols.length}`, 'complete', name])
  const json = JSON.parse((await runBin('bt-ls', ['--json', `file://${dir}/store`])).stdout.toString())
  t.equal(json.name, name)
  t.equal(json.volumes, vols.length)
  const get = sh(`node ${BIN}/bt-get.js --verify ${K}/host.pub "${dir}/store/latest" | node ${BIN}/bt-open.js --key ${K}/admin.key --verify ${K}/host.pub | node ${BIN}/bt-restore.js "${dir}/out"`)
  t.equal(get.code, 0, get.stderr)
  t.same(compareTrees(`${dir}/src`, `${dir}/out`), [])
  const byId = sh(`node ${BIN}/bt-get.js -o "${dir}/copy.bts" "${dir}/store/${json.id}"`)
  t.equal(byId.code, 0, byId.stderr)
  t.equal(sh(`node ${BIN}/bt-open.js --verify-only --verify ${K}/host.pub "${dir}/copy.bts"`).code, 0, 'an id selects it too')
})

t.test('a truncated or foreign input stores nothing and exits 4', async (t) => {
  const dir = t.testdir({ src: { a: 'x'.repeat(300_000) } })
  sh(`${seal(`${dir}/src`)} > "${dir}/a.bts"`)
  const whole = readFileSync(`${dir}/a.bts`)
  for (const [what, input] of [['truncated', whole.subarray(0, whole.length - 50)], ['a plain stream', Buffer.from('not sealed')], ['empty', Buffer.alloc(0)]] as const) {
    const r = await runBin('bt-put', ['--volume-size', '64K', `${dir}/store`], input)
    t.equal(r.code, 4, `${what}: exit 4`)
    t.match(r.stderr, /bt-put: error: .*(truncated|not a sealed|empty)/)
    t.same(readdirSync(`${dir}/store`), [], `${what}: nothing stored, not even a temporary`)
  }
  const wrong = await runBin('bt-put', ['--verify', `${K}/other.pub`, `${dir}/store`], whole)
  t.equal(wrong.code, 4, 'an archive signed by a key not in --verify is refused')
  t.same(readdirSync(`${dir}/store`), [])
})

t.test('bt-get checks what it fetches', async (t) => {
  const dir = t.testdir({ src: { a: 'y'.repeat(300_000) } })
  const name = sh(`${seal(`${dir}/src`)} | node ${BIN}/bt-put.js --volume-size 64K "${dir}/store"`).stdout.trim()
  const vols = readdirSync(`${dir}/store`).sort()
  const v2 = `${dir}/store/${vols[1]}`
  const b = readFileSync(v2)
  b[1000] ^= 1
  writeFileSync(v2, b)
  const bad = await runBin('bt-get', [`${dir}/store/${name}`])
  t.equal(bad.code, 4, 'a changed byte in a volume: exit 4')
  t.match(bad.stderr, /SHA-256 does not match/)
  b[1000] ^= 1
  writeFileSync(v2, b)
  t.equal((await runBin('bt-get', [`${dir}/store/${name}`])).code, 0, 'repaired, it fetches again')
  sh(`rm "${dir}/store/${vols[2]}"`)
  const missing = await runBin('bt-get', [`${dir}/store/${name}`])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /incomplete: \d+ of its \d+ volumes/)
  const ls = await runBin('bt-ls', [`${dir}/store`])
  t.equal(ls.stdout.toString(), '', 'an incomplete backup is not listed')
  t.match(ls.stderr, /1 incomplete upload not listed/)
  t.match((await runBin('bt-ls', ['--all', `${dir}/store`])).stdout.toString(), /INCOMPLETE/)
  const none = await runBin('bt-get', [`${dir}/store/nosuch`])
  t.equal(none.code, 1)
  t.match(none.stderr, /no backup named "nosuch"/)
})

t.test('credentials never come from the command line, and URLs are redacted', async (t) => {
  const r = await runBin('bt-put', ['ftp://user:secret@127.0.0.1:1/dir'], Buffer.alloc(0))
  t.equal(r.code, 2)
  t.notMatch(r.stderr, /secret/, 'the password is not echoed')
  t.match(r.stderr, /refusing a password in the URL "ftp:\/\/user:\*\*\*@127\.0\.0\.1:1\/dir"/)
  t.match(r.stderr, /netrc/)
  const ls = await runBin('bt-ls', ['ftp://user:secret@127.0.0.1:1/dir'])
  t.equal(ls.code, 2)
  t.notMatch(ls.stderr, /secret/)
})

t.test('an unreachable server fails after bounded retries, exit 1', async (t) => {
  const dir = t.testdir({ pw: 'pw\n' })
  const r = await runBin('bt-ls', ['--password-file', `${dir}/pw`, '--retries', '1', '--retry-delay', '0.05', '--timeout', '5', 'ftp://u@127.0.0.1:1/x'])
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, /bt-ls: error: .*(refused|failed 2 times)/i)
})

t.test('bt-put refuses a terminal on stdin and a bad volume size', async (t) => {
  const r = await runBin('bt-put', ['--volume-size', '12x', '/tmp/x'])
  t.equal(r.code, 2)
  t.match(r.stderr, /--volume-size "12x" is not a size/)
  chmodSync(t.testdir(), 0o755)
})

t.test('the same archive again, in volumes of another size, is refused and changes nothing', async (t) => {
  const dir = t.testdir({ src: { a: 'z'.repeat(200_000) } })
  sh(`${seal(`${dir}/src`)} > "${dir}/a.bts"`)
  const first = sh(`node ${BIN}/bt-put.js --volume-size 64K "${dir}/store" < "${dir}/a.bts"`)
  t.equal(first.code, 0, first.stderr)
  const before = readdirSync(`${dir}/store`).sort()
  const again = sh(`node ${BIN}/bt-put.js --volume-size 1M "${dir}/store" < "${dir}/a.bts"`)
  t.equal(again.code, 1)
  t.match(again.stderr, /already stored/)
  t.same(readdirSync(`${dir}/store`).sort(), before)
  t.equal(sh(`node ${BIN}/bt-get.js "${dir}/store/latest" | cmp - "${dir}/a.bts"`).code, 0, 'the stored backup still fetches')
})

t.test('-o /dev/null writes to the device, never replaces it', { skip: process.getuid?.() !== 0 && 'needs root to be able to replace /dev/null' }, async (t) => {
  const dir = t.testdir({ src: { a: 'q' } })
  t.equal(sh(`${seal(`${dir}/src`)} | node ${BIN}/bt-put.js "${dir}/store"`).code, 0)
  const r = sh(`node ${BIN}/bt-get.js -o /dev/null "${dir}/store/latest"`)
  t.equal(r.code, 0, r.stderr)
  t.equal(sh('test -c /dev/null && echo char').stdout.trim(), 'char', '/dev/null is still a character device')
})

t.test('a volume renamed in storage is not trusted: exit 4', async (t) => {
  const dir = t.testdir({ src: { a: 'r' } })
  const name = sh(`${seal(`${dir}/src`)} | node ${BIN}/bt-put.js "${dir}/store"`).stdout.trim()
  const forged = name.replace(/_[0-9a-f]{32}$/, '_' + 'f'.repeat(32))
  sh(`mv "${dir}/store/${name}.0001-of-0001.sealed" "${dir}/store/${forged}.0001-of-0001.sealed"`)
  const r = await runBin('bt-get', [`${dir}/store/${forged}`])
  t.equal(r.code, 4, r.stderr)
  t.match(r.stderr, /says it is set www, full/)
})

t.test('bt-ls --headers and --verify check each stored header against its name', async (t) => {
  const dir = t.testdir({ src: { a: 'h'.repeat(100_000) } })
  const name = sh(`${seal(`${dir}/src`)} | node ${BIN}/bt-put.js --volume-size 64K "${dir}/store"`).stdout.trim()
  const ok = await runBin('bt-ls', ['--verify', `${K}/host.pub`, `${dir}/store`])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stdout.toString(), /\tsigner [0-9a-f]{16} header-signature-good\t/)
  t.match(ok.stderr, /checked each backup's sealed header and its signature, not its contents/)
  const json = JSON.parse((await runBin('bt-ls', ['--headers', '--json', `${dir}/store`])).stdout.toString())
  t.match(json.header, { verified: false, compress: 'none', passphrase: false })
  t.equal(json.header.recipients.length, 1, 'the recipient is listed')
  const other = await runBin('bt-ls', ['--verify', `${K}/other.pub`, `${dir}/store`])
  t.equal(other.code, 4, 'a header signed by another host: exit 4')
  t.match(other.stdout.toString(), /HEADER MISMATCH/)
  const forged = name.replace(/_[0-9a-f]{32}$/, '_' + 'e'.repeat(32))
  for (const v of readdirSync(`${dir}/store`)) sh(`mv "${dir}/store/${v}" "${dir}/store/${v.replace(name, forged)}"`)
  const renamed = await runBin('bt-ls', ['--headers', `${dir}/store`])
  t.equal(renamed.code, 4)
  t.match(renamed.stderr, /not what its name says: .*its header says www full [0-9a-f]{32}/)
  t.equal((await runBin('bt-ls', [`${dir}/store`])).code, 0, 'without --headers the names are taken as they are')
})

t.test('progress shows on a terminal, and only there', async (t) => {
  const dir = t.testdir({ src: { a: 'p'.repeat(200_000) } })
  sh(`${seal(`${dir}/src`)} > "${dir}/a.bts"`)
  const tty = sh(`script -qec "node ${BIN}/bt-put.js --volume-size 64K '${dir}/s1' < '${dir}/a.bts'" /dev/null`)
  t.equal(tty.code, 0, tty.stderr)
  t.match(tty.stdout, /\r\x1b\[K[\d.]+ (B|KiB|MiB)  [\d.]+ (B|KiB|MiB)\/s  volume \d/, 'a progress line on the terminal')
  const piped = sh(`node ${BIN}/bt-put.js --volume-size 64K "${dir}/s2" < "${dir}/a.bts"`)
  t.equal(piped.code, 0)
  t.notMatch(piped.stderr, /\x1b\[K/, 'none in a log')
  const forced = sh(`node ${BIN}/bt-put.js --progress "${dir}/s3" < "${dir}/a.bts"`)
  t.match(forced.stderr, /\x1b\[K.*volume 1/, '--progress forces it')
})

t.test('SIGINT and SIGTERM mid-upload: exit 130/143, nothing stored, no temporary', async (t) => {
  const dir = t.testdir({ src: { a: 's'.repeat(2_000_000) } })
  sh(`${seal(`${dir}/src`)} > "${dir}/a.bts"`)
  const archive = readFileSync(`${dir}/a.bts`)
  for (const [sig, want] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const store = `${dir}/store-${sig}`
    const child = spawn(process.execPath, [`${BIN}/bt-put.js`, '--volume-size', '256K', store], { stdio: ['pipe', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    child.stdin.on('error', () => undefined) // the signalled bt-put may exit before reading all that was written; its code tells
    // Part of the archive, then silence: bt-put is mid-volume when the signal lands.
    child.stdin.write(archive.subarray(0, 700_000))
    while (!existsSync(store) || readdirSync(store).length === 0) await new Promise((r) => setTimeout(r, 10))
    await new Promise((r) => setTimeout(r, 100))
    child.kill(sig)
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)))
    t.equal(code, want, `${sig} exits ${want}`)
    t.match(err, new RegExp(`interrupted by ${sig}`))
    t.same(readdirSync(store), [], `${sig}: no final object and no temporary`)
  }
})

t.test('a full store disk: exit 1 with a hint, nothing left', { skip: process.getuid?.() !== 0 && 'needs root to mount a tmpfs' }, async (t) => {
  const dir = t.testdir({ src: { a: 'f'.repeat(100) } })
  writeFileSync(`${dir}/src/big`, Buffer.alloc(3 << 20, 7))
  sh(`${seal(`${dir}/src`)} > "${dir}/a.bts"`)
  t.equal(sh(`mkdir "${dir}/full" && mount -t tmpfs -o size=2m tmpfs "${dir}/full"`).code, 0)
  try {
    const r = sh(`node ${BIN}/bt-put.js --volume-size 1M "${dir}/full/store" < "${dir}/a.bts"`)
    t.equal(r.code, 1, r.stderr)
    t.match(r.stderr, /bt-put: error: cannot write .*: no space left on device \(ENOSPC\)/i)
    t.match(r.stderr, /bt-put: hint: the filesystem is full/)
    t.same(readdirSync(`${dir}/full/store`), [], 'the partial volumes are removed')
  } finally {
    sh(`umount "${dir}/full"`)
  }
})
