// Issue 10, item 6: two runs on one state directory were not refused; one of
// them failed with a raw ENOENT when the other replaced the index under it.
// bt-scan --state holds scan.lock and bt-delta delta.lock (two locks: the two
// run at once in one pipeline); a second run is refused with the holder's name,
// and a lock left by a killed run never blocks (flock(2) dies with its holder).
import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { BIN, sh, xorshift } from '../helpers.js'

function noise(n: number, seed: number): Buffer {
  const rnd = xorshift(seed)
  const b = Buffer.alloc(n)
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(Math.floor(rnd() * 0x100000000), i)
  return b
}

/** Starts `tool` reading from a pipe the test holds open and writing to a pipe nobody reads: it holds its lock until killed. */
async function holder(tool: string, args: string[], lock: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [`${BIN}/${tool}.js`, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin!.on('error', () => undefined)
  let err = ''
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()))
  ;(child as ChildProcess & { err: () => string }).err = () => err
  for (let i = 0; i < 500; i++) {
    let text = ''
    try {
      text = readFileSync(lock, 'utf8')
    } catch {
      // not created yet
    }
    if (text.includes(`pid ${child.pid},`)) return child
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`${tool} never took ${lock}`)
}

// 'exit', not 'close': an output pipe nobody reads never ends, so 'close' would never come.
const killed = (c: ChildProcess) => new Promise((r) => {
  if (c.exitCode !== null || c.signalCode !== null) return r(undefined)
  c.on('exit', r)
  c.kill('SIGKILL')
})

t.test('two pipelines on one state directory: the second is refused and names the first', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' }, state: {} })
  const S = `${dir}/state`
  t.equal(sh(`bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js --auto --state "${S}" > /dev/null && bt-delta.js -q --state "${S}" --confirm`).code, 0, 'a stored full')
  writeFileSync(`${dir}/src/big`, noise(8 << 20, 1))

  // The first pipeline's bt-scan blocks on its output (nobody reads it yet): it holds scan.lock.
  const scan = await holder('bt-scan', ['--state', S, `${dir}/src`], `${S}/scan.lock`)
  const second = sh(`bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js --auto --state "${S}" > "${dir}/second.bt"`)
  t.not(second.code, 0, 'the second pipeline fails')
  t.match(second.stderr, new RegExp(`bt-scan: error: the state directory ".*state" is in use by bt-scan \\(pid ${scan.pid}, started \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)`))
  t.match(second.stderr, /bt-scan: hint: wait for that run to end and run again/)
  t.notMatch(second.stderr, /ENOENT/)

  // And a second bt-delta while the first pipeline's bt-delta runs.
  const delta = await holder('bt-delta', ['--auto', '--state', S], `${S}/delta.lock`)
  scan.stdout!.pipe(delta.stdin!)
  const other = sh(`bt-scan.js "${dir}/src" | bt-delta.js --state "${S}" > /dev/null`)
  t.equal(other.code, 1)
  t.match(other.stderr, new RegExp(`bt-delta: error: the state directory ".*state" is in use by bt-delta \\(pid ${delta.pid}, started `))
  // The first pipeline finishes untroubled.
  const out: Buffer[] = []
  delta.stdout!.on('data', (b: Buffer) => out.push(b))
  const [sc, dc] = await Promise.all([new Promise((r) => scan.on('close', r)), new Promise((r) => delta.on('close', r))])
  t.same([sc, dc], [0, 0], 'the first pipeline succeeds')
  writeFileSync(`${dir}/first.bt`, Buffer.concat(out))
  t.match(sh(`bt-ls.js "${dir}/first.bt"`).stdout, /^# backtory stream v2 diff /, 'a differential')
})

t.test('a lock held by a killed run never blocks', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' }, state: {} })
  const S = `${dir}/state`
  writeFileSync(`${dir}/src/big`, noise(8 << 20, 2))
  const scan = await holder('bt-scan', ['--state', S, `${dir}/src`], `${S}/scan.lock`)
  const delta = await holder('bt-delta', ['--state', S, '--full'], `${S}/delta.lock`)
  scan.stdout!.pipe(delta.stdin!)
  for (let i = 0; i < 1500 && !readdirSync(S).some((n) => n.startsWith('.gen-')); i++) await new Promise((r) => setTimeout(r, 20))
  t.ok(readdirSync(S).some((n) => n.startsWith('.gen-')), `bt-delta is writing an index: ${(delta as ChildProcess & { err: () => string }).err()}`)
  await killed(scan)
  await killed(delta)
  t.match(readFileSync(`${S}/scan.lock`, 'utf8'), new RegExp(`pid ${scan.pid},`), 'the dead run\'s lock file is still there')
  const r = sh(`bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js --auto --state "${S}" > /dev/null`)
  t.equal(r.code, 0, r.stderr)
  t.same(readdirSync(S).filter((n) => n.startsWith('.gen-')), [], 'the killed run\'s half-written index is gone')
})
