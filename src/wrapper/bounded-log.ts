// The stages' and hooks' messages of one backup run, held until the end: a
// cron run prints them only when it failed, and a run that succeeded prints a
// summary instead. A stage gone mad must not grow us without bound, so the
// first HEAD bytes and the last TAIL bytes are kept and what lies between is
// counted: the start says what began to go wrong, the end how it ended.
import { Writable } from 'node:stream'

const HEAD = 64 * 1024
const TAIL = 448 * 1024

export class BoundedLog extends Writable {
  private head: Buffer[] = []
  private headBytes = 0
  private tail: Buffer[] = []
  private tailBytes = 0
  private dropped = 0

  constructor(private readonly headLimit = HEAD, private readonly tailLimit = TAIL) {
    super()
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.add(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
    cb()
  }

  /** Adds `b` now (a synchronous write, so text and stage output keep their order). */
  add(b: Buffer | string): void {
    let buf = typeof b === 'string' ? Buffer.from(b) : b
    if (this.headBytes < this.headLimit) {
      const n = Math.min(buf.length, this.headLimit - this.headBytes)
      this.head.push(buf.subarray(0, n))
      this.headBytes += n
      buf = buf.subarray(n)
    }
    if (buf.length === 0) return
    this.tail.push(buf)
    this.tailBytes += buf.length
    while (this.tailBytes > this.tailLimit) {
      const first = this.tail[0]!
      const over = this.tailBytes - this.tailLimit
      if (first.length <= over) {
        this.tail.shift()
        this.tailBytes -= first.length
        this.dropped += first.length
      } else {
        this.tail[0] = first.subarray(over)
        this.tailBytes -= over
        this.dropped += over
      }
    }
  }

  isEmpty(): boolean {
    return this.headBytes === 0
  }

  /** Everything kept, with a line where bytes were left out. */
  text(): string {
    const gap = this.dropped > 0 ? `\n[... ${this.dropped} bytes of messages left out ...]\n` : ''
    return Buffer.concat(this.head).toString() + gap + Buffer.concat(this.tail).toString()
  }
}
