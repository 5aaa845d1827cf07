// What every tool shares: --help, --version, unknown flags, exit codes,
// refusing a terminal, EPIPE, signals, and -o that appears only on success.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { BIN, runBin, sh } from '../helpers.js'
import { leftovers } from '../tree.js'

const tools = ['bt-scan', 'bt-restore', 'bt-ls', 'bt-delta']

for (const tool of tools) {
  t.test(`${tool} --help and --version`, async (t) => {
    const h = await runBin(tool, ['--help'])
    t.equal(h.code, 0)
    t.match(h.stdout.toString(), new RegExp(`^${tool} - `))
    t.match(h.stdout.toString(), /usage:/)
    t.equal(h.stderr, '')
    const v = await runBin(tool, ['--version'])
    t.equal(v.code, 0)
    t.match(v.stdout.toString(), new RegExp(`^${tool} \\(backtory\\) \\d+\\.\\d+\\.\\d+\\n$`))
  })

  t.test(`${tool} rejects an unknown flag with exit 2`, async (t) => {
    const r = await runBin(tool, ['--no-such-flag'])
    t.equal(r.code, 2)
    t.equal(r.stdout.length, 0, 'nothing on stdout')
    t.match(r.stderr, new RegExp(`^${tool}: error: unknown option --no-such-flag\\n${tool}: hint: see ${tool} --help\\n$`))
  })
}

t.test('usage errors exit 2', async (t) => {
  t.equal((await runBin('bt-scan', [])).code, 2, 'bt-scan without DIR')
  t.equal((await runBin('bt-scan', ['a', 'b'])).code, 2, 'bt-scan with two DIRs')
  const dir = t.testdir({ file: 'x' })
  const notDir = await runBin('bt-scan', [`${dir}/file`])
  t.equal(notDir.code, 2)
  t.match(notDir.stderr, /is not a directory/)
  t.equal((await runBin('bt-restore', [])).code, 2, 'bt-restore without DIR')
  t.equal((await runBin('bt-scan', ['--exclude', '', dir])).code, 2, 'empty option value')
  t.equal((await runBin('bt-scan', ['-o', 'a', '-o', 'b', dir])).code, 2, 'single option given twice')
})

t.test('a missing directory is an I/O failure, exit 1, naming it', async (t) => {
  const r = await runBin('bt-scan', ['/no/such/dir'])
  t.equal(r.code, 1)
  t.match(r.stderr, /^bt-scan: error: cannot scan "\/no\/such\/dir": no such file or directory \(ENOENT\)$/m)
})

t.test('a plain tar or garbage is not a backtory stream: exit 4 with a hint', async (t) => {
  const dir = t.testdir({ a: 'x' })
  const tar = sh(`tar -C "${dir}" -cf - a`).stdout
  for (const tool of ['bt-ls', 'bt-restore']) {
    const args = tool === 'bt-restore' ? [`${dir}/out`] : []
    const r = await runBin(tool, args, tar)
    t.equal(r.code, 4, `${tool} on a plain tar`)
    t.match(r.stderr, new RegExp(`^${tool}: error: input is not a backtory stream \\(no header frame\\)\\n${tool}: hint: did you pipe a plain tar`))
    const g = await runBin(tool, args, 'hello world')
    t.equal(g.code, 4, `${tool} on garbage`)
    const e = await runBin(tool, args, '')
    t.equal(e.code, 4, `${tool} on empty input`)
    t.match(e.stderr, /the input is empty/)
  }
})

t.test('bt-scan refuses to write a binary stream to a terminal', async (t) => {
  const dir = t.testdir({ a: 'x' })
  const r = sh(`script -qec "${BIN}/bt-scan.js ${dir}" /dev/null`)
  t.equal(r.code, 2, r.stdout)
  t.match(r.stdout, /refusing to write a binary stream to a terminal/)
})

t.test('-o FILE appears only on success', async (t) => {
  const dir = t.testdir({ src: { a: 'x' } })
  const ok = await runBin('bt-scan', ['-o', `${dir}/out.bt`, `${dir}/src`])
  t.equal(ok.code, 0)
  t.ok(existsSync(`${dir}/out.bt`))
  t.equal(readdirSync(dir).filter((n) => n.includes('.tmp-')).length, 0)
  // Killed midway: neither the file nor its temporary may remain.
  writeFileSync(`${dir}/src/big`, Buffer.alloc(64 * 1024 * 1024, 1))
  const child = spawn(process.execPath, [`${BIN}/bt-scan.js`, '-o', `${dir}/killed.bt`, `${dir}/src`])
  // Signal only once the temporary output exists: the scan is under way by then.
  while (!existsSync(`${dir}/killed.bt.tmp-${child.pid}`)) await new Promise((r) => setTimeout(r, 10))
  child.kill('SIGTERM')
  const [code] = await new Promise<[number | null]>((r) => child.on('close', (c) => r([c])))
  t.equal(code, 143, 'SIGTERM exits 143')
  t.notOk(existsSync(`${dir}/killed.bt`), 'no output file after a failure')
  t.equal(readdirSync(dir).filter((n) => n.includes('.tmp-')).length, 0, 'no temporary file either')
})

t.test('EPIPE: a reader that goes away is a quiet failure (141), not success', async (t) => {
  const dir = t.testdir({ src: {} })
  writeFileSync(`${dir}/src/big`, Buffer.alloc(32 * 1024 * 1024, 1))
  const r = sh(`{ bt-scan.js "${dir}/src"; echo "rc=$?" >&2; } | head -c 1000 > /dev/null`)
  t.notMatch(r.stderr, /bt-scan: error/, 'quiet, as Unix tools are')
  t.match(r.stderr, /rc=141/)
})

t.test('SIGINT and SIGTERM stop bt-restore with 130/143 and no temporary files', async (t) => {
  for (const [sig, want] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    const dir = t.testdir({ src: {} })
    writeFileSync(`${dir}/src/big`, Buffer.alloc(8 * 1024 * 1024, 1))
    t.equal(sh(`bt-scan.js "${dir}/src" > "${dir}/s.bt"`).code, 0)
    const stream = readFileSync(`${dir}/s.bt`)
    const child = spawn(process.execPath, [`${BIN}/bt-restore.js`, `${dir}/dst`], { stdio: ['pipe', 'ignore', 'pipe'] })
    // The signalled bt-restore may exit before it has read what was written: that EPIPE is not the test's failure.
    child.stdin.on('error', () => undefined)
    let err = ''
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    // Half the stream, then silence: bt-restore is mid-file when the signal lands.
    child.stdin.write(stream.subarray(0, 4 * 1024 * 1024))
    while (!existsSync(`${dir}/dst`) || readdirSync(`${dir}/dst`).length === 0) await new Promise((r) => setTimeout(r, 10))
    await new Promise((r) => setTimeout(r, 100))
    child.kill(sig)
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)))
    t.equal(code, want, `${sig} exits ${want}`)
    t.match(err, new RegExp(`interrupted by ${sig}`))
    t.same(existsSync(`${dir}/dst`) ? leftovers(`${dir}/dst`) : [], [], 'no temporary files')
    t.notOk(existsSync(`${dir}/dst/big`), 'no partial file in place')
  }
})
