// bt-seal verifies the stream it seals while the bytes pass: every chunk of
// input goes to readFrames (through a bounded channel) before it goes on to be
// compressed and encrypted. The sealer learns the header frame from here, and
// writes its final chunk only once `done` has resolved, i.e. once the input's
// trailer verified. A slow verifier holds the input back (backpressure).
import { type StreamInfo } from '../format/frame.js'
import { readFrames } from '../format/reader.js'

const CAPACITY = 1 << 20

/** A bounded single-producer, single-consumer queue of buffers. */
class Channel implements AsyncIterable<Buffer> {
  private q: Buffer[] = []
  private bytes = 0
  private closed = false
  private failed: { err: unknown } | undefined
  private wakeReader: (() => void) | undefined
  private wakeWriter: (() => void) | undefined

  private wake(which: 'reader' | 'writer'): void {
    const f = which === 'reader' ? this.wakeReader : this.wakeWriter
    if (which === 'reader') this.wakeReader = undefined
    else this.wakeWriter = undefined
    f?.()
  }

  /** Queues `b`, then waits while the queue holds more than `limit` bytes. */
  async put(b: Buffer, limit = CAPACITY): Promise<void> {
    this.rethrow()
    this.q.push(b)
    this.bytes += b.length
    this.wake('reader')
    while (this.bytes > limit && !this.failed) await new Promise<void>((r) => (this.wakeWriter = r))
    this.rethrow()
  }

  private rethrow(): void {
    if (this.failed) throw this.failed.err
  }

  close(): void {
    this.closed = true
    this.wake('reader')
  }

  fail(err: unknown): void {
    this.failed ??= { err }
    this.wake('writer')
    this.wake('reader')
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const b = this.q.shift()
      if (b) {
        this.bytes -= b.length
        this.wake('writer')
        yield b
      } else if (this.closed) {
        return
      } else {
        await new Promise<void>((r) => (this.wakeReader = r))
      }
    }
  }
}

export class StreamCheck {
  /** The input's header frame, once it has been read. */
  info: StreamInfo | undefined
  /** Resolves when the input's trailer verified and nothing followed it; rejects with the reader's error. */
  readonly done: Promise<void>
  private readonly channel = new Channel()

  constructor(maxHeader?: number) {
    this.done = this.check(maxHeader).catch((err: unknown) => {
      this.channel.fail(err)
      throw err
    })
    // The sealer awaits `done`; this marks it handled for when sealing stops early for another reason.
    this.done.catch(() => undefined)
  }

  private async check(maxHeader?: number): Promise<void> {
    for await (const f of readFrames(this.channel, maxHeader === undefined ? {} : { maxHeader })) {
      if (f.kind === 'header') this.info = f.info
      // Entry bodies are left unread: readFrames drains them before the next frame.
    }
  }

  /** Passes `source` through, each chunk only after the verifier has it; until the header is known, only after it consumed it. */
  async *tee(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of source) {
        if (chunk.length === 0) continue
        await this.channel.put(chunk, this.info ? CAPACITY : 0)
        yield chunk
      }
    } finally {
      this.channel.close()
    }
  }
}
