// Issue 11 (found while building prune): `bt-scan --state S DIR | bt-delta
// --full --state S | bt-seal | bt-put URL` stored a listed, complete backup of
// kind "quick" — a scan that leaves unchanged files out — and bt-put exited 0.
// bt-delta refused the stream only after the whole of a small one had passed
// through. Now bt-delta passes on nothing of a stream it refuses at its
// header, bt-seal refuses to seal a quick scan, and nothing is stored.
import t from 'tap'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { BIN } from '../helpers.js'

/** bash, for pipefail and PIPESTATUS; the tools by their launchers. */
function bash(cmd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', cmd], { env: { ...process.env, PATH: `${BIN}:${process.env.PATH}` }, encoding: 'utf8' })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

t.test('a quick scan given to bt-delta --full is never stored', async (t) => {
  const d = t.testdir({ src: { a: 'one\n', b: 'two\n' }, S: {} })
  const store = `${d}/store`
  mkdirSync(store)
  const keys = bash(`cd ${d} && bt-keygen.js --out admin && bt-keygen.js --type ed25519 --out host`)
  t.equal(keys.code, 0, keys.stderr)
  const seal = `bt-seal.js --to ${d}/admin.pub --sign ${d}/host.key --set www`
  const first = bash(`set -o pipefail; bt-scan.js --state ${d}/S ${d}/src | bt-delta.js --auto --state ${d}/S | ${seal} | bt-put.js --state ${d}/S file://${store}`)
  t.equal(first.code, 0, first.stderr)
  writeFileSync(`${d}/src/c`, 'three\n')

  // The mistake: a quick-checked scan (bt-scan --state) where a full was meant.
  const quick = bash(`bt-scan.js --state ${d}/S ${d}/src | bt-delta.js --full --state ${d}/S | ${seal} | bt-put.js file://${store}; echo "codes ${'$'}{PIPESTATUS[*]}" >&2`)
  t.match(quick.stderr, /bt-delta: error: a full needs a complete scan; the input is a "quick" stream/)
  t.match(quick.stderr, /codes 0 4 4 4/, 'bt-delta, bt-seal and bt-put all fail')
  t.same(readdirSync(store).filter((n) => n.includes('_quick_')), [], 'no quick backup stored')
  const ls = bash(`bt-ls.js --json ${store}`)
  t.equal(ls.stdout.trim().split('\n').length, 1, 'only the first full is listed')

  // bt-seal alone refuses a quick scan: the guard does not rest on bt-delta.
  const direct = bash(`bt-scan.js --state ${d}/S ${d}/src | ${seal} > ${d}/q.bts`)
  t.equal(direct.code, 4, direct.stderr)
  t.match(direct.stderr, /bt-seal: error: the input is a quick-checked scan \(bt-scan --state\), which is input for bt-delta, not a backup/)
  t.match(direct.stderr, /bt-seal: hint: pipe it through bt-delta/)
})
