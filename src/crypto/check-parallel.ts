// SealCheck on another core. Checking an archive means hashing every byte
// (SHA-256, ~1.8 GB/s on one core here), which on the thread that also moves
// the bytes would slow every transfer. The bytes are copied into one of four
// 1 MiB buffers that is then handed (transferred, not copied) to a worker
// thread, which hands it back once hashed. Memory is the four buffers,
// whatever the archive's size, and no garbage is made per byte; a slow check
// holds the transfer back. (A SharedArrayBuffer ring was measured slower:
// copies into shared memory do not take memcpy's fast path.)
import { Worker } from 'node:worker_threads'
import { BtError, type ExitCode } from '../errors.js'
import { type SealHeader } from './header.js'
import { type PublicKey } from './keys.js'

const SLOT = 1 << 20
const SLOTS = 4

type Out =
  | { t: 'ack'; buf: ArrayBuffer }
  | { t: 'error'; e: { code: string; exit: ExitCode; message: string; hints: string[] } }
  | { t: 'done'; header: SealHeader; signed: boolean }

export class ParallelCheck {
  private readonly worker: Worker
  private readonly free: ArrayBuffer[] = []
  private slot: Buffer | undefined
  private fill = 0
  private failure: BtError | undefined
  private result: { header: SealHeader; signed: boolean } | undefined
  private wake: (() => void) | undefined
  bytes = 0

  constructor(verify: PublicKey[] = []) {
    for (let i = 0; i < SLOTS; i++) this.free.push(new ArrayBuffer(SLOT))
    this.worker = new Worker(new URL('./check-worker.js', import.meta.url))
    this.worker.unref()
    this.worker.on('message', (m: Out) => {
      if (m.t === 'ack') this.free.push(m.buf)
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

  private async until(ok: () => boolean): Promise<void> {
    while (!ok() && !this.failure) await new Promise<void>((r) => (this.wake = r))
    if (this.failure) throw this.failure
  }

  /** Copies `b` to be checked, waiting for a free slot when the worker is behind; throws a failure it already found. */
  async push(b: Buffer): Promise<void> {
    if (this.failure) throw this.failure
    this.bytes += b.length
    for (let at = 0; at < b.length;) {
      if (!this.slot) {
        if (this.free.length === 0) await this.until(() => this.free.length > 0)
        this.slot = Buffer.from(this.free.shift()!)
        this.fill = 0
      }
      const n = b.copy(this.slot, this.fill, at, Math.min(b.length, at + SLOT - this.fill))
      at += n
      this.fill += n
      if (this.fill === SLOT) this.send()
    }
  }

  private send(): void {
    if (!this.slot || this.fill === 0) return
    const buf = this.slot.buffer as ArrayBuffer
    this.worker.postMessage({ t: 'data', buf, n: this.fill }, [buf])
    this.slot = undefined
  }

  async end(): Promise<{ header: SealHeader; signed: boolean }> {
    this.send()
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
