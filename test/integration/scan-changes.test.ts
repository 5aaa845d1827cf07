// Files that vanish or change while bt-scan runs: a warning naming the file,
// exit 3, and a stream that is still valid and says what is incomplete.
import t from 'tap'
import { spawn } from 'node:child_process'
import { appendFileSync, rmSync, writeFileSync } from 'node:fs'
import { BIN, runBin } from '../helpers.js'

/** Runs bt-scan with a stalled reader; `during` runs once the scanner is blocked inside the big file. */
function scanWhile(dir: string, during: () => void): Promise<{ code: number | null; stream: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${BIN}/bt-scan.js`, dir], { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    let err = ''
    let fired = false
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    child.stdout.on('data', (b: Buffer) => {
      out.push(b)
      if (fired) return
      fired = true
      // Stop reading: the pipe fills and the scanner blocks inside "a-big".
      child.stdout.pause()
      setTimeout(() => {
        during()
        child.stdout.resume()
      }, 300)
    })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stream: Buffer.concat(out), stderr: err }))
  })
}

const big = Buffer.alloc(48 * 1024 * 1024, 0x5a)

t.test('a file deleted during the scan: warning, exit 3, valid stream', async (t) => {
  const dir = t.testdir({ 'b-small': 'gone soon' })
  writeFileSync(`${dir}/a-big`, big)
  const r = await scanWhile(dir, () => rmSync(`${dir}/b-small`))
  t.equal(r.code, 3, r.stderr)
  t.match(r.stderr, /^bt-scan: warning: "b-small" vanished during the scan$/m)
  const ls = await runBin('bt-ls', [], r.stream)
  t.equal(ls.code, 0, 'the stream is complete and verifies')
  t.notMatch(ls.stdout.toString(), /b-small/)
  t.match(ls.stdout.toString(), /a-big/)
})

t.test('a file that grows while read: flagged incomplete, exit 3, restore warns', async (t) => {
  const dir = t.testdir({ 'b-small': 'stays' })
  writeFileSync(`${dir}/a-big`, big)
  const r = await scanWhile(dir, () => appendFileSync(`${dir}/a-big`, 'more'))
  t.equal(r.code, 3, r.stderr)
  t.match(r.stderr, /"a-big" changed while being read; its copy in the stream is marked incomplete/)
  const ls = await runBin('bt-ls', [], r.stream)
  t.equal(ls.code, 0)
  t.match(ls.stdout.toString(), /^# incomplete: a-big: changed while being read$/m)
  const dst = t.testdir()
  const rs = await runBin('bt-restore', [dst], r.stream)
  t.equal(rs.code, 3, 'restore finishes but says it is partial')
  t.match(rs.stderr, /warning: "a-big" was incomplete when backed up/)
})

t.test('a file that shrinks while read: zero-filled to its size, flagged', async (t) => {
  const dir = t.testdir({ 'b-small': 'stays' })
  writeFileSync(`${dir}/a-big`, big)
  const r = await scanWhile(dir, () => writeFileSync(`${dir}/a-big`, 'tiny'))
  t.equal(r.code, 3, r.stderr)
  t.match(r.stderr, /"a-big" shrank while being read/)
  t.equal((await runBin('bt-ls', [], r.stream)).code, 0, 'the stream stays valid')
})
