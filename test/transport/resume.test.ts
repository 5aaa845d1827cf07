// bt-put's and bt-get's resumption logic, with faults injected between the
// engines and a real (file://) transport: a transfer cut after N bytes, once
// or repeatedly, on a backend that can resume and on one that cannot.
// The same faults over real TCP against vsftpd and sshd are in ftp.test.ts and sftp.test.ts.
import t from 'tap'
import { mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Readable, Writable } from 'node:stream'
import { RemoteError } from '../../src/errors.js'
import { FileTransport } from '../../src/transport/file.js'
import { getArchive } from '../../src/transport/get.js'
import { putArchive } from '../../src/transport/put.js'
import { type Transport } from '../../src/transport/transport.js'
import { Collect, quietRetry, sealedArchive, source } from './conformance.js'

/** Cuts each of the first `cuts` transfers after `after` bytes, like a dropped connection. */
class Flaky implements Transport {
  saves = 0
  loads = 0
  constructor(private readonly inner: Transport, private readonly after: number, private cuts: number, readonly canResume = true) {}
  get display() {
    return this.inner.display
  }
  prepare = () => this.inner.prepare()
  list = () => this.inner.list()
  stat = (n: string) => this.inner.stat(n)
  rename = (a: string, b: string) => this.inner.rename(a, b)
  remove = (n: string) => this.inner.remove(n)
  close = () => Promise.resolve()

  async save(name: string, data: Readable, offset: number): Promise<void> {
    this.saves++
    if (this.cuts <= 0) return this.inner.save(name, data, offset)
    this.cuts--
    const budget = this.after
    let sent = 0
    const limited = (async function* () {
      for await (const c of data) {
        const b = c as Buffer
        if (sent + b.length > budget) {
          yield b.subarray(0, budget - sent)
          throw new RemoteError('BT_REMOTE_DROPPED', 'connection reset (injected)', { retryable: true })
        }
        sent += b.length
        yield b
      }
    })()
    const { Readable } = await import('node:stream')
    return this.inner.save(name, Readable.from(limited, { objectMode: false }), offset).then(() => {
      throw new RemoteError('BT_REMOTE_DROPPED', 'connection reset (injected)', { retryable: true })
    }, (err) => {
      throw err
    })
  }

  async load(name: string, into: Writable, offset: number): Promise<void> {
    this.loads++
    if (this.cuts <= 0) return this.inner.load(name, into, offset)
    this.cuts--
    let left = this.after
    const cut = new Writable({
      write(chunk: Buffer, _e, cb) {
        if (left <= 0) return cb(new RemoteError('BT_REMOTE_DROPPED', 'connection reset (injected)', { retryable: true }))
        const part = chunk.subarray(0, left)
        left -= part.length
        into.write(part, () => cb(left <= 0 ? new RemoteError('BT_REMOTE_DROPPED', 'connection reset (injected)', { retryable: true }) : null))
      },
    })
    await this.inner.load(name, cut, offset).catch((err) => {
      throw err
    })
  }
}

const dir = () => join(mkdtempSync(join(tmpdir(), 'bt-resume-')), 'store')
const archive = sealedArchive()
const opts = (over: object = {}) => ({ volumeSize: 1 << 20, window: 2 << 20, retry: quietRetry(), verify: [], staleMs: 0, now: Date.now, ...over })

t.test('a cut upload resumes where the server stopped, on every volume', async (t) => {
  const d = dir()
  const notices: string[] = []
  const tx = new Flaky(new FileTransport(d), 300_000, 3)
  const r = await putArchive(source(archive, 40_000), tx, opts({ retry: quietRetry(notices) }))
  t.ok(tx.saves > r.volumes.length, 'there were extra attempts')
  t.match(notices.join('\n'), /resuming volume 1 at byte 300000/)
  const into = new Collect()
  await getArchive(new FileTransport(d), r.name, into, { retry: quietRetry(), verify: [] })
  t.ok(into.data.equals(archive), 'the stored archive is byte-identical')
})

t.test('a backend that cannot resume restarts the volume from the bytes kept', async (t) => {
  const d = dir()
  const notices: string[] = []
  const tx = new Flaky(new FileTransport(d), 500_000, 2, false)
  const r = await putArchive(source(archive, 40_000), tx, opts({ retry: quietRetry(notices) }))
  t.notMatch(notices.join('\n'), /resuming/, 'nothing was resumed')
  const into = new Collect()
  await getArchive(new FileTransport(d), r.name, into, { retry: quietRetry(), verify: [] })
  t.ok(into.data.equals(archive))
})

t.test('a volume larger than the window cannot restart: clean failure, nothing left', async (t) => {
  const d = dir()
  const tx = new Flaky(new FileTransport(d), 900_000, 1, false)
  const err = await putArchive(source(archive, 40_000), tx, opts({ volumeSize: 4 << 20, window: 256 << 10 })).catch((e) => e)
  t.equal(err.code, 'BT_REMOTE_DROPPED')
  t.match(err.message, /cannot resume volume 1/)
  t.same(readdirSync(d), [], 'no temporary and no final object remain')
})

t.test('retries are bounded', async (t) => {
  const d = dir()
  const tx = new Flaky(new FileTransport(d), 100_000, 1000)
  const err = await putArchive(source(archive), tx, opts({ retry: { ...quietRetry(), retries: 2 } })).catch((e) => e)
  t.equal(err.code, 'BT_REMOTE_DROPPED')
  t.match(err.message, /failed 3 times/)
  t.equal(tx.saves, 3, 'one attempt and two retries')
  t.same(readdirSync(d), [], 'nothing is left behind')
})

t.test('a cut download resumes from the byte it reached', async (t) => {
  const d = dir()
  const r = await putArchive(source(archive), new FileTransport(d), opts())
  const notices: string[] = []
  const tx = new Flaky(new FileTransport(d), 700_000, 3)
  const into = new Collect()
  await getArchive(tx, r.name, into, { retry: quietRetry(notices), verify: [] })
  t.ok(into.data.equals(archive), 'byte-identical after resuming')
  t.match(notices.join('\n'), /resuming .* at byte 700000/)
})
