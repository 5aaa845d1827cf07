// Issue 10 (hardening): bt-ls's text listing printed names raw, so a name
// holding a newline forged listing lines, the trailer's "verified" line
// included. Every human-readable output escapes control and invisible
// characters C-style (as GNU ls -b and tar do); --json stays exact.
import t from 'tap'
import { writeFileSync, symlinkSync } from 'node:fs'
import { runBin, sh } from '../helpers.js'

const FORGED = 'x\n# trailer: 0 entries, 0 incomplete, 0 bytes, chain sha256:00, verified'
const NAMES = [FORGED, 'esc\x1b[31mred', 'tab\there', 'back\\slash', 'rtl\u202Egpj.exe', 'del\x7f', 'nel\u0085line', 'sep\u2028line']
/** A raw control, a bidi override or a line separator on a human-readable line. */
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]/

t.test('bt-ls: one line per entry, names escaped; --json exact', async (t) => {
  const dir = t.testdir({ src: {} })
  for (const n of NAMES) writeFileSync(`${dir}/src/${n}`, 'x')
  symlinkSync('target\nwith newline', `${dir}/src/link`)
  const scan = await runBin('bt-scan', [`${dir}/src`])
  t.equal(scan.code, 0, scan.stderr)
  const ls = await runBin('bt-ls', [], scan.stdout)
  t.equal(ls.code, 0, ls.stderr)
  const lines = ls.stdout.toString().split('\n').slice(0, -1)
  t.equal(lines.length, 1 + 1 + NAMES.length + 1 + 1, 'header, root, the names, the link, trailer: one line each')
  t.equal(lines.filter((l) => l.startsWith('# trailer')).length, 1, 'one trailer line')
  t.match(lines.at(-1), /^# trailer: 10 entries/, 'the real trailer is the last line')
  lines.forEach((l, i) => t.notMatch(l, RAW, `no raw control on line ${i + 1}`))
  const text = ls.stdout.toString()
  t.match(text, ' x\\n# trailer: 0 entries', 'a newline shows as \\n')
  t.match(text, ' esc\\x1b[31mred\n')
  t.match(text, ' tab\\there\n')
  t.match(text, ' back\\\\slash\n', 'a backslash shows doubled')
  t.match(text, ' rtl\\u{202E}gpj.exe\n')
  t.match(text, ' del\\x7f\n')
  t.match(text, ' nel\\u{0085}line\n')
  t.match(text, ' sep\\u{2028}line\n')
  t.match(text, ' link -> target\\nwith newline\n')
  const json = await runBin('bt-ls', ['--json'], scan.stdout)
  const paths = json.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { path?: string; linkpath?: string })
  NAMES.forEach((n, i) => t.ok(paths.some((p) => p.path === n), `--json holds name ${i + 1} exactly`))
  t.ok(paths.some((p) => p.linkpath === 'target\nwith newline'), '--json holds the link target exactly')
})

t.test('bt-restore --list and -v, and messages naming entries, are escaped too', async (t) => {
  const dir = t.testdir({ src: {} })
  for (const n of NAMES) writeFileSync(`${dir}/src/${n}`, 'x')
  const r = sh(`bt-scan.js "${dir}/src" > "${dir}/s.bt" && bt-restore.js --list < "${dir}/s.bt"`)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.split('\n').length - 1, NAMES.length + 3, 'header, root, names, trailer: one line each')
  t.notMatch(r.stdout.replace(/\n/g, ''), RAW)
  const v = sh(`bt-restore.js -v "${dir}/dst" < "${dir}/s.bt"`)
  t.equal(v.code, 0, v.stderr)
  t.notMatch(v.stderr.replace(/\n/g, ''), RAW, '-v escapes')
  t.equal(v.stderr.split('\n').length - 1, NAMES.length + 1, 'one -v line per entry')
  const w = sh(`bt-restore.js --to-stdout 'no\u202Esuch\x1b' < "${dir}/s.bt"`)
  t.not(w.code, 0)
  t.notMatch(w.stderr.replace(/\n/g, ''), RAW, 'an error naming an entry escapes it')
})

t.test('bt-ls --verify of a store says what it checked: the header\'s signature, not "verified"', async (t) => {
  const dir = t.testdir({ src: { a: 'x' } })
  const k = sh(`cd "${dir}" && bt-keygen.js --out admin && bt-keygen.js --type ed25519 --out host && ` +
    'bt-scan.js src | bt-seal.js --to admin.pub --sign host.key | bt-put.js "$PWD/store"')
  t.equal(k.code, 0, k.stderr)
  const r = sh(`cd "${dir}" && bt-ls.js --verify host.pub store`)
  t.equal(r.code, 0, r.stderr)
  t.notMatch(r.stdout, /\bverified\b/, 'no claim that the backup was verified')
  t.match(r.stdout, /\tsigner [0-9a-f]{16} header-signature-good\t/)
  t.match(r.stderr, /checked each backup's sealed header and its signature, not its contents: bt-get --verify checks every byte/)
  const j = sh(`cd "${dir}" && bt-ls.js --json --verify host.pub store`)
  t.match(JSON.parse(j.stdout), { header: { verified: true, checked: 'header-signature' } })
})
