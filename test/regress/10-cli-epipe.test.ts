// Issue 10 (hardening): a tool whose reader goes away (`… | head`) exits 141
// (128 + SIGPIPE) quietly, as Unix tools do, never 70 or a "closed early" error.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { sh } from '../helpers.js'
import { startVsftpd, vsftpdMissing } from '../servers/vsftpd.js'

/** Runs `cmd | head -c N`; the tool's own status and stderr, without the shell's. */
function headed(cmd: string, n: number): { rc: string; stderr: string } {
  const r = sh(`{ ${cmd}; echo "rc=$?" >&2; } | head -c ${n} > /dev/null`)
  const m = /rc=(\d+)\n?$/.exec(r.stderr)
  return { rc: m?.[1] ?? `none (${r.code})`, stderr: r.stderr.replace(/rc=\d+\n?$/, '') }
}

function tree(dir: string): void {
  writeFileSync(`${dir}/src/big`, randomBytes(8 << 20))
  for (let i = 0; i < 300; i++) writeFileSync(`${dir}/src/f${i}`, `${i}\n`)
}

t.test('every tool that writes standard output: a dead reader is a quiet 141', async (t) => {
  const dir = t.testdir({ src: {}, store: {}, st: {} })
  tree(dir)
  const k = sh(`bt-keygen.js --out "${dir}/admin" && bt-keygen.js --type ed25519 --out "${dir}/host" && ` +
    `bt-scan.js "${dir}/src" > "${dir}/s.bt" && bt-seal.js --to "${dir}/admin.pub" --sign "${dir}/host.key" < "${dir}/s.bt" > "${dir}/s.bts" && ` +
    `bt-put.js "file://${dir}/store/" < "${dir}/s.bts"`)
  t.equal(k.code, 0, k.stderr)
  const cases: Array<[string, number]> = [
    [`bt-scan.js "${dir}/src"`, 100],
    [`bt-ls.js "${dir}/s.bt"`, 10],
    [`bt-ls.js < "${dir}/s.bt"`, 10],
    [`bt-seal.js --to "${dir}/admin.pub" --sign "${dir}/host.key" < "${dir}/s.bt"`, 10],
    [`bt-open.js --key "${dir}/admin.key" --verify "${dir}/host.pub" < "${dir}/s.bts"`, 10],
    [`bt-delta.js --state "${dir}/st" --auto < "${dir}/s.bt"`, 10],
    [`bt-restore.js --to-stdout big < "${dir}/s.bt"`, 10],
    [`bt-get.js "file://${dir}/store/latest"`, 10],
    [`bt-get.js -o - "file://${dir}/store/latest"`, 10],
  ]
  for (const [cmd, n] of cases) {
    const r = headed(cmd, n)
    t.equal(r.rc, '141', `${cmd}: ${r.stderr}`)
    t.notMatch(r.stderr, /error/, `${cmd}: no error printed`)
  }
})

const missing = vsftpdMissing()
t.test('bt-get from FTP into head: 141, not 70 (3 of 3)', { skip: missing }, async (t) => {
  const dir = t.testdir({ src: {} })
  tree(dir)
  const srv = await startVsftpd()
  t.teardown(() => srv.stop())
  const d = srv.dir('epipe')
  writeFileSync(`${dir}/pw`, `${srv.password}\n`)
  const url = `ftp://${srv.user}@127.0.0.1:${srv.port}${d.dir}/`
  const k = sh(`bt-keygen.js --out "${dir}/admin" && bt-keygen.js --type ed25519 --out "${dir}/host" && ` +
    `bt-scan.js "${dir}/src" | bt-seal.js --to "${dir}/admin.pub" --sign "${dir}/host.key" | ` +
    `bt-put.js --password-file "${dir}/pw" ${url}`)
  t.equal(k.code, 0, k.stderr)
  for (let i = 0; i < 3; i++) {
    const r = headed(`bt-get.js --password-file "${dir}/pw" ${url}latest`, 10)
    t.equal(r.rc, '141', r.stderr)
    t.notMatch(r.stderr, /error/, 'no error printed')
  }
})
