// Issue 10 (hardening): `bt-put file:///proc/x/y` spun at 70% CPU forever and
// ignored SIGTERM (Node's recursive mkdir loops on /proc). Every remote tool
// stops promptly on SIGTERM/SIGINT, also while it waits for a silent server or
// between retries.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createServer, type Socket } from 'node:net'
import { BIN } from '../helpers.js'

interface Ended { code: number | null; signal: NodeJS.Signals | null; ms: number; stderr: string; /** From the signal to the end. */ afterSignal: number }

/** Runs a bin, sends `sig` after `afterMs` (if given), and kills it for good at `limitMs`. */
function timed(tool: string, args: string[], o: { sig?: NodeJS.Signals; afterMs?: number; limitMs: number; input?: Buffer; when?: () => boolean }): Promise<Ended> {
  return new Promise((resolve) => {
    const t0 = Date.now()
    const c = spawn(process.execPath, [`${BIN}/${tool}.js`, ...args], { env: { ...process.env, BT_PASSWORD: 'x' }, stdio: ['pipe', 'ignore', 'pipe'] })
    let stderr = ''
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    c.stdin.on('error', () => undefined) // it may exit before reading its input
    c.stdin.end(o.input ?? Buffer.alloc(0))
    const timers = [setTimeout(() => c.kill('SIGKILL'), o.limitMs)]
    // With `when`: the signal goes once the tool is where the test wants it (waiting on the
    // server), not after a fixed time that a loaded machine may spend still starting Node.
    let sent = Date.now()
    const send = () => {
      if (o.when !== undefined && !o.when()) return void timers.push(setTimeout(send, 50))
      sent = Date.now()
      c.kill(o.sig)
    }
    if (o.sig) timers.push(setTimeout(send, o.afterMs ?? 0))
    c.on('close', (code, signal) => {
      timers.forEach(clearTimeout)
      resolve({ code, signal, ms: Date.now() - t0, stderr, afterSignal: Date.now() - sent })
    })
  })
}

t.test('bt-put file:///proc/x/y fails at once, naming the directory', async (t) => {
  const r = await timed('bt-put', ['file:///proc/x/y'], { limitMs: 10_000, input: Buffer.from('backtory-seal/v1\n') })
  t.not(r.signal, 'SIGKILL', 'it ended by itself')
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, /bt-put: error: cannot create "\/proc\/x\/y"/)
  t.match(r.stderr, /bt-put: hint: /)
  t.notMatch(r.stderr, /internal error/)
})

t.test('bt-restore /proc/x/y fails at once too', async (t) => {
  const r = await timed('bt-restore', ['/proc/x/y'], { limitMs: 10_000 })
  t.not(r.signal, 'SIGKILL', 'it ended by itself')
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, /bt-restore: error: cannot use "\/proc\/x\/y" as the target directory/)
})

t.test('SIGTERM while it waits for a silent server: 143 within seconds', { timeout: 300_000 }, async (t) => {
  const socks = new Set<Socket>()
  let connections = 0
  const srv = createServer((s) => {
    connections++
    socks.add(s)
    s.on('error', () => undefined) // the client goes away mid-wait; that is the test
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  t.teardown(() => {
    socks.forEach((s) => s.destroy())
    srv.close()
  })
  for (const scheme of ['ftp', 'sftp']) {
  const url = `${scheme}://u@127.0.0.1:${(srv.address() as { port: number }).port}/d/`
  for (const [tool, args] of [['bt-ls', [url]], ['bt-get', ['-o', `${t.testdirName}-x`, `${url}latest`]], ['bt-put', [url]]] as const) {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      const seen = connections
      const r = await timed(tool, [...args], { sig, afterMs: 1000, limitMs: 30_000, when: () => connections > seen })
      t.equal(r.code, sig === 'SIGTERM' ? 143 : 130, `${tool} ${sig}: ${r.stderr}`)
      t.ok(r.afterSignal < 5000, `${scheme}: ${tool} ${sig} ended ${r.afterSignal} ms after the signal`)
    }
  }
  }
})

t.test('SIGTERM between retries: 143 at once, not after the pause', async (t) => {
  // A server that hangs up on every connection: a dropped link, retried after a long pause.
  const srv = createServer((s) => s.destroy())
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  t.teardown(() => srv.close())
  const url = `ftp://u@127.0.0.1:${(srv.address() as { port: number }).port}/d/`
  const r = await timed('bt-ls', ['--retry-delay', '60', url], { sig: 'SIGTERM', afterMs: 1500, limitMs: 15_000 })
  t.match(r.stderr, /retrying in 60/, 'it was waiting to retry')
  t.equal(r.code, 143, r.stderr)
  t.ok(r.ms < 5000, `ended after ${r.ms} ms`)
})
