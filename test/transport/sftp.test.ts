// sftp:// against a real OpenSSH sshd on 127.0.0.1 (test/servers/sshd.ts):
// the conformance suite, then what only SSH has — authentication, host key
// trust, OpenSSH's non-replacing RENAME, a full disk, and connections that
// drop or stall mid-transfer. Needs root; CI runs it as root.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { Readable, Writable } from 'node:stream'
import { RemoteError } from '../../src/errors.js'
import { openSftp, type SftpOptions } from '../../src/transport/sftp.js'
import { type Transport } from '../../src/transport/transport.js'
import { conformance } from './conformance.js'
import { sshdMissing, startSshd, type Sshd } from '../servers/sshd.js'

const why = sshdMissing()
if (why !== undefined) {
  t.comment(`skip: ${why}`)
  t.pass('skipped')
} else {
  await suite(await startSshd())
}

async function suite(srv: Sshd): Promise<void> {
  const opened: Transport[] = []
  t.teardown(async () => {
    for (const tx of opened) await tx.close()
    await srv.stop()
  })
  t.afterEach((t) => {
    if (t.passing()) return
    t.comment(srv.log().split('\n').slice(-30).join('\n'))
  })
  let n = 0
  const base = (over: Partial<SftpOptions> = {}): SftpOptions => ({
    timeoutMs: 5000, identities: [srv.identity], knownHosts: srv.knownHostsFile,
    warn: () => undefined, notice: () => undefined, ...over,
  })
  async function open(over: Partial<SftpOptions> = {}, path?: string, port = srv.port): Promise<Transport> {
    const p = path ?? srv.dir(`t${n++}`).dir
    const tx = await openSftp({ scheme: 'sftp', host: '127.0.0.1', port, user: srv.user, path: p, display: `sftp://${srv.user}@127.0.0.1:${port}${p}` }, base(over))
    opened.push(tx)
    return tx
  }
  const code = (err: unknown): string | undefined => (err instanceof RemoteError ? err.code : (err as Error)?.message)
  const retryable = (err: unknown): boolean | undefined => (err instanceof RemoteError ? err.retryable : undefined)

  await t.test('conformance', (t) => conformance(t, () => open()))

  await t.test('save, list, stat, load, rename, remove', async (t) => {
    const d = srv.dir('basic')
    const tx = await open({}, d.dir)
    const data = randomBytes(1_000_003)
    await tx.save('a.tmp', Readable.from([data]), 0)
    t.ok(readFileSync(`${d.localDir}/a.tmp`).equals(data), 'bytes on the server are the bytes sent')
    spawnSync('mkdir', [`${d.localDir}/subdir`])
    const list = await tx.list()
    t.same(list.map((o) => [o.name, o.size]), [['a.tmp', data.length]], 'files only, with sizes')
    t.ok(list[0].mtime instanceof Date && Math.abs(list[0].mtime.getTime() - Date.now()) < 60_000, 'with mtime')
    t.equal((await tx.stat('a.tmp'))?.size, data.length)
    t.equal(await tx.stat('missing'), undefined)
    t.equal(await tx.stat('subdir'), undefined, 'a directory is not an object')
    await tx.rename('a.tmp', 'a')
    const got = await collect((w) => tx.load('a', w, 0))
    t.ok(got.equals(data), 'load gives the bytes back')
    await tx.remove('a')
    await tx.remove('a')
    t.same((await tx.list()).map((o) => o.name), [], 'removed; removing again is no error')
    await t.rejects(tx.load('a', sink(), 0), { code: 'BT_REMOTE_NOT_FOUND' })
    for (const bad of ['x/y', '-rf', '', '..']) await t.rejects(tx.stat(bad), { code: 'BT_USAGE' }, `refuses ${JSON.stringify(bad)}`)
  })

  await t.test('paths: absolute, /~/ relative to the login directory, prepare makes parents', async (t) => {
    const d = srv.dir('paths')
    const nested = `${d.homeDir}/x/y`
    const tx = await open({}, nested)
    await t.rejects(tx.list(), { code: 'BT_REMOTE_NOT_FOUND' })
    await tx.prepare()
    await tx.prepare()
    await tx.save('f', Readable.from([Buffer.from('hi')]), 0)
    t.equal(readFileSync(`${d.localDir}/x/y/f`, 'utf8'), 'hi', '/~/ is under the home directory')
    const abs = await open({}, `${d.dir}/x/y/`)
    t.same((await abs.list()).map((o) => o.name), ['f'], 'the absolute path names the same directory')
    const wrong = await open({}, `/${d.homeDir.slice(3)}`)
    const err = await wrong.list().catch((e: unknown) => e)
    t.equal(code(err), 'BT_REMOTE_NOT_FOUND')
    t.match((err as RemoteError).hints.join('\n'), /sftp:\/\/.*\/~\//, 'hints at the /~/ form')
  })

  await t.test('rename never replaces an existing object', async (t) => {
    const d = srv.dir('rename')
    const tx = await open({}, d.dir)
    await tx.save('a', Readable.from([Buffer.from('new')]), 0)
    await tx.save('b', Readable.from([Buffer.from('old')]), 0)
    await t.rejects(tx.rename('a', 'b'), { code: 'BT_REMOTE_EXISTS' })
    t.equal(readFileSync(`${d.localDir}/b`, 'utf8'), 'old', 'the target is untouched')
    t.equal(readFileSync(`${d.localDir}/a`, 'utf8'), 'new', 'the source is still there')
    await t.rejects(tx.rename('nope', 'c'), { code: 'BT_REMOTE_NOT_FOUND' })
  })

  await t.test('resume: save at an offset continues the object; load from an offset', async (t) => {
    const d = srv.dir('resume')
    const tx = await open({}, d.dir)
    const data = randomBytes(3 * 65536 + 12345)
    const cut = 100_001
    await tx.save('v', Readable.from([data.subarray(0, cut)]), 0)
    await tx.save('v', Readable.from(chunks(data.subarray(cut), 7777)), cut)
    t.ok(readFileSync(`${d.localDir}/v`).equals(data), 'byte-identical after the resume')
    await t.rejects(tx.save('v', Readable.from([Buffer.from('x')]), 5), { code: 'BT_REMOTE_PROTOCOL' }, 'an offset that is not the size is refused')
    await t.rejects(tx.save('w', Readable.from([Buffer.from('x')]), 5), { code: 'BT_REMOTE_NOT_FOUND' }, 'resuming a missing object is refused')
    t.ok(readFileSync(`${d.localDir}/v`).equals(data), 'and changes nothing')
    for (const off of [0, 1, 65536, 65537, data.length - 1, data.length]) {
      t.ok((await collect((w) => tx.load('v', w, off))).equals(data.subarray(off)), `load from ${off}`)
    }
    await tx.save('v', Readable.from([Buffer.from('short')]), 0)
    t.equal(readFileSync(`${d.localDir}/v`, 'utf8'), 'short', 'offset 0 truncates')
    await tx.save('e', Readable.from([]), 0)
    t.equal((await tx.stat('e'))?.size, 0, 'an empty object')
  })

  await t.test('load honours backpressure and never ends its output', async (t) => {
    const d = srv.dir('slow')
    const tx = await open({}, d.dir)
    const data = randomBytes(4 << 20)
    writeFileSync(`${d.localDir}/big`, data)
    let maxBuffered = 0
    const parts: Buffer[] = []
    const w = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, cb) {
        parts.push(chunk)
        maxBuffered = Math.max(maxBuffered, w.writableLength)
        setTimeout(cb, 1)
      },
    })
    await tx.load('big', w, 0)
    t.equal(w.writableEnded, false, 'not ended')
    await new Promise<void>((r) => (w.writableLength === 0 ? r() : w.once('drain', r)))
    t.ok(Buffer.concat(parts).equals(data))
    t.ok(maxBuffered <= 64 * 1024 + 256 * 1024, `the output never held much (${maxBuffered} bytes)`)
  })

  await t.test('authentication', async (t) => {
    const other = keygen('ed25519', '')
    const started = Date.now()
    const err = await (await open({ identities: [other.key] })).list().catch((e: unknown) => e)
    t.equal(code(err), 'BT_REMOTE_AUTH', 'a key the server does not know')
    t.equal(retryable(err), false)
    t.match((err as Error).message, `${srv.user}@127.0.0.1:${srv.port}`, 'names user@host')
    t.ok(Date.now() - started < 3000, 'fails quickly')
    await t.rejects((await open({ identities: [], password: 'wrong' })).list(), { code: 'BT_REMOTE_AUTH' }, 'a wrong password')
    t.same(await (await open({ identities: [], password: srv.password })).list(), [], 'the right password')
    t.same(await (await open({ identities: [other.key, srv.identity] })).list(), [], 'the keys are tried in turn')
    await t.rejects(open({ identities: [] }), { code: 'BT_REMOTE_AUTH' }, 'nothing to log in with')
    const enc = keygen('ed25519', 'secret-pass')
    await t.rejects(open({ identities: [enc.key] }), { code: 'BT_REMOTE_AUTH', message: /encrypted and no passphrase/ })
    await t.rejects(open({ identities: [enc.key], passphrase: 'wrong' }), { code: 'BT_REMOTE_AUTH', message: /cannot be decrypted/ })
    await t.rejects(open({ identities: [Buffer.from('not a key')] }), { code: 'BT_REMOTE_AUTH' })
    const tx = await open({ identities: [enc.key], passphrase: 'secret-pass', password: srv.password })
    t.same(await tx.list(), [], 'a decrypted key that the server refuses, then the password')
  })

  await t.test('authentication through ssh-agent', async (t) => {
    const sock = `${srv.dir('agent').localDir}/agent.sock`
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' })
    t.teardown(() => {
      agent.kill()
    })
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20))
    const keyFile = `${srv.dir('agent-key').localDir}/k`
    writeFileSync(keyFile, srv.identity, { mode: 0o600 })
    t.equal(spawnSync('ssh-add', [keyFile], { env: { ...process.env, SSH_AUTH_SOCK: sock } }).status, 0, 'ssh-add')
    t.same(await (await open({ identities: [], agent: sock })).list(), [], 'the agent\'s key logs in')
    const other = keygen('ed25519', '')
    t.same(await (await open({ identities: [other.key], agent: `${sock}.missing` , password: srv.password })).list(), [],
      'an unreachable agent and a refused key fall through to the password')
  })

  await t.test('host key trust', async (t) => {
    const dir = srv.dir('trust')
    const tmp = `${srv.dir('trust-files').localDir}/kh`
    const noTrust = await (await open({ knownHosts: undefined }, dir.dir)).list().catch((e: unknown) => e)
    t.equal(code(noTrust), 'BT_REMOTE_TRUST', 'neither known_hosts nor a pin')
    t.equal(retryable(noTrust), false)
    const hints = (noTrust as RemoteError).hints.join('\n')
    t.match(hints, srv.hostKeyFingerprint, 'the hint shows the fingerprint')
    t.match(hints, `ssh-keyscan -p ${srv.port} 127.0.0.1 >> `, 'and the ssh-keyscan remedy')

    writeFileSync(tmp, `other.example ${srv.hostKeyLine}\n127.0.0.1 ${srv.hostKeyLine}\n`)
    await t.rejects((await open({ knownHosts: tmp }, dir.dir)).list(), { code: 'BT_REMOTE_TRUST', message: /unknown host key/ },
      'a plain 127.0.0.1 entry does not cover another port than 22')

    const other = keygen('ed25519', '')
    writeFileSync(tmp, `[127.0.0.1]:${srv.port} ${other.pubLine}\n`)
    await t.rejects((await open({ knownHosts: tmp }, dir.dir)).list(), { code: 'BT_REMOTE_TRUST', message: /HOST KEY MISMATCH/ }, 'a changed host key')

    await t.rejects((await open({ knownHosts: undefined, fingerprint: fingerprintOf(other.pubLine) }, dir.dir)).list(),
      { code: 'BT_REMOTE_TRUST', message: /HOST KEY MISMATCH/ }, 'a wrong pin')
    t.same(await (await open({ knownHosts: undefined, fingerprint: srv.hostKeyFingerprint }, dir.dir)).list(), [], 'the right pin')
    t.same(await (await open({}, dir.dir)).list(), [], 'the [host]:port known_hosts entry')

    writeFileSync(tmp, `# comment\n[127.0.0.1]:${srv.port} ${srv.hostKeyLine}\n`)
    const hashed = spawnSync('ssh-keygen', ['-H', '-f', tmp], { encoding: 'utf8' })
    t.equal(hashed.status, 0, 'ssh-keygen -H hashes the file')
    t.match(readFileSync(tmp, 'utf8'), /^\|1\|/m)
    t.same(await (await open({ knownHosts: tmp }, dir.dir)).list(), [], 'a hashed entry (made by ssh-keygen -H)')

    writeFileSync(tmp, `@revoked * ${srv.hostKeyLine}\n[127.0.0.1]:${srv.port} ${srv.hostKeyLine}\n`)
    await t.rejects((await open({ knownHosts: tmp }, dir.dir)).list(), { code: 'BT_REMOTE_TRUST', message: /revoked/ }, '@revoked wins')

    const notes: string[] = []
    writeFileSync(tmp, `@cert-authority * ${other.pubLine}\n`)
    await t.rejects((await open({ knownHosts: tmp, notice: (m) => notes.push(m) }, dir.dir)).list(), { code: 'BT_REMOTE_TRUST' })
    t.match(notes.join('\n'), /cert-authority/, 'a CA line is noted, not used')
    await t.rejects(open({ knownHosts: undefined, fingerprint: 'MD5:aa:bb' }), { code: 'BT_REMOTE_TRUST' }, 'a malformed pin, at once')
  })

  await t.test('a full disk is a clear, final error', async (t) => {
    const d = srv.smallDisk('full', 256 * 1024)
    const tx = await open({}, d.dir)
    const err = await tx.save('big', Readable.from(chunks(randomBytes(2 << 20), 65536)), 0).catch((e: unknown) => e)
    t.equal(code(err), 'BT_REMOTE_FULL')
    t.equal(retryable(err), false, 'not retried')
    t.match((err as Error).message, /disk is full/)
    t.same(await tx.list().then((l) => l.map((o) => o.name)), ['big'], 'the connection is still usable')
    await tx.remove('big')
  })

  await t.test('connection failures', async (t) => {
    const refused = await (await open({}, '/', await closedPort())).list().catch((e: unknown) => e)
    t.equal(code(refused), 'BT_REMOTE_CONNECT')
    t.equal(retryable(refused), true)

    const d = srv.dir('drop')
    const data = randomBytes(6 << 20)
    const proxy = await faultProxy(srv.port, { cutAfter: 4 << 20 })
    t.teardown(() => proxy.close())
    const tx = await open({ knownHosts: undefined, fingerprint: srv.hostKeyFingerprint }, d.dir, proxy.port)
    const err = await tx.save('v', Readable.from(chunks(data, 65536)), 0).catch((e: unknown) => e)
    t.equal(code(err), 'BT_REMOTE_DROPPED', 'the upload fails when the connection is cut')
    t.equal(retryable(err), true, 'retryable')
    // The server's old session may still be writing what it had buffered: wait until the size settles.
    let held = -1
    for (let last = -2; held !== last; await new Promise((r) => setTimeout(r, 150))) {
      last = held
      held = (await tx.stat('v'))?.size ?? -1
    }
    t.ok(held > 0 && held < data.length, `the next call reconnects and sees ${held} bytes`)
    await tx.save('v', Readable.from(chunks(data.subarray(held), 65536)), held)
    t.ok(readFileSync(`${d.localDir}/v`).equals(data), 'and the resumed object is byte-identical')

    const stall = await faultProxy(srv.port, { stallAfter: 1 << 20 })
    t.teardown(() => stall.close())
    const slow = await open({ timeoutMs: 1500, knownHosts: undefined, fingerprint: srv.hostKeyFingerprint }, d.dir, stall.port)
    const started = Date.now()
    const err2 = await slow.save('w', Readable.from(chunks(data, 65536)), 0).catch((e: unknown) => e)
    t.equal(code(err2), 'BT_REMOTE_TIMEOUT', 'a stalled upload times out')
    t.equal(retryable(err2), true)
    t.ok(Date.now() - started < 8000, `and does not hang (${Date.now() - started} ms)`)
    const stall2 = await faultProxy(srv.port, { stallAfter: 1 << 20 })
    t.teardown(() => stall2.close())
    const slow2 = await open({ timeoutMs: 1500, knownHosts: undefined, fingerprint: srv.hostKeyFingerprint }, d.dir, stall2.port)
    const err3 = await collect((w) => slow2.load('v', w, 0)).catch((e: unknown) => e)
    t.equal(code(err3), 'BT_REMOTE_TIMEOUT', 'a stalled download times out')
  })
}

function chunks(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < buf.length; i += n) out.push(buf.subarray(i, i + n))
  return out
}

function sink(): Writable {
  return new Writable({ write: (_c, _e, cb) => cb() })
}

async function collect(fn: (w: Writable) => Promise<void>): Promise<Buffer> {
  const parts: Buffer[] = []
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk)
      cb()
    },
  })
  await fn(w)
  if (w.writableEnded || w.destroyed) throw new Error('load ended or destroyed its output')
  return Buffer.concat(parts)
}

function keygen(type: string, passphrase: string): { key: Buffer; pubLine: string } {
  const dir = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim()
  spawnSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-f', `${dir}/k`])
  const out = { key: readFileSync(`${dir}/k`), pubLine: readFileSync(`${dir}/k.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ') }
  spawnSync('rm', ['-rf', dir])
  return out
}

function fingerprintOf(pubLine: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(pubLine.split(' ')[1], 'base64')).digest('base64').replace(/=+$/, '')}`
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/**
 * A TCP proxy to 127.0.0.1:port whose first connection, once it has carried
 * `cutAfter` bytes (both directions), is cut (both sides destroyed), or after
 * `stallAfter` bytes stops forwarding without closing. Later connections pass through.
 */
async function faultProxy(port: number, o: { cutAfter?: number; stallAfter?: number }): Promise<{ port: number; close(): Promise<void> }> {
  let first = true
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(port, '127.0.0.1')
    sockets.add(client).add(upstream)
    const faulty = first
    first = false
    let passed = 0
    let stalled = false
    const end = (): void => {
      client.destroy()
      upstream.destroy()
    }
    const relay = (to: Socket) => (b: Buffer): void => {
      if (stalled) return
      passed += b.length
      if (faulty && o.cutAfter !== undefined && passed > o.cutAfter) return end()
      if (faulty && o.stallAfter !== undefined && passed > o.stallAfter) {
        stalled = true
        return
      }
      to.write(b)
    }
    client.on('data', relay(upstream))
    upstream.on('data', relay(client))
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy()
      server.close(() => r())
    }),
  }
}
