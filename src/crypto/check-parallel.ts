// SealCheck on another core. Checking an archive means hashing every byte
// (SHA-256, ~450 MB/s on one core here), which on the thread that also moves
// the bytes to the network would halve an upload's speed. The bytes are
// copied to a worker thread; at most `limit` bytes may wait there unchecked,
// so a slow check holds the transfer back instead of filling memory.
import { Worker } from 'node:worker_threads'
import { BtError, type ExitCode } from '../errors.js'
import { type SealHeader } from './header.js'
import { type PublicKey } from './keys.js'

const BATCH = 1 << 20

type Out =
  | { t: 'ack'; n: number }
  | { t: 'error'; e: { code: string; exit: ExitCode; message: string; hints: string[] } }
  | { t: 'done'; header: SealHeader; signed: boolean }

export class ParallelCheck {
  private readonly worker: Worker
  private pending = 0
  private failure: BtError | undefined
  private result: { header: SealHeader; signed: boolean } | undefined
  private wake: (() => void) | undefined
  bytes = 0

  constructor(verify: PublicKey[] = [], private readonly limit = 4 << 20) {
    this.worker = new Worker(new URL('./check-worker.js', import.meta.url))
    this.worker.unref()
    this.worker.on('message', (m: Out) => {
      if (m.t === 'ack') this.pending -= m.n
      else if (m.t === 'error') this.failure = new BtError(m.e.code, m.e.exit, m.e.message, m.e.hints)
      else this.result = { header: m.header, signed: m.signed }
      this.notify()
    })
    this.worker.on('error', (err) => {
      this.failure ??= new BtError('BT_INTERNAL', 70, `the archive check failed: ${err.message}`)
      this.notify()
    })
    this.worker.postMessage({ t: 'start', verify })
  }

  private notify(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  private until(ok: () => boolean): Promise<void> {
    return (async () => {
      while (!ok() && !this.failure) await new Promise<void>((r) => (this.wake = r))
      if (this.failure) throw this.failure
    })()
  }

  private batch: Buffer[] = []
  private batched = 0

  /** Queues `b` to be checked; throws a failure the check already found. Await ready() for backpressure. */
  push(b: Buffer): void {
    if (this.failure) throw this.failure
    this.bytes += b.length
    this.pending += b.length
    this.batch.push(b)
    this.batched += b.length
    if (this.batched >= BATCH) this.flush()
  }

  // One message per MiB, not per pipe read: the copy is one memcpy, and its
  // buffer moves to the worker (transferred, not cloned a second time).
  private flush(): void {
    if (this.batched === 0) return
    const out = Buffer.allocUnsafeSlow(this.batched)
    let at = 0
    for (const b of this.batch) at += b.copy(out, at)
    this.batch = []
    this.batched = 0
    this.worker.postMessage({ t: 'data', b: out }, [out.buffer as ArrayBuffer])
  }

  /** Resolves once few enough bytes wait unchecked. */
  ready(): Promise<void> {
    if (this.pending > this.limit) this.flush()
    return this.pending <= this.limit && !this.failure ? Promise.resolve() : this.until(() => this.pending <= this.limit)
  }

  async end(): Promise<{ header: SealHeader; signed: boolean }> {
    this.flush()
    this.worker.postMessage({ t: 'end' })
    try {
      await this.until(() => this.result !== undefined)
      return this.result!
    } finally {
      await this.close()
    }
  }

  async close(): Promise<void> {
    await this.worker.terminate()
  }
}
