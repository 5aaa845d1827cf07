// A pull-based byte source over any async iterable of Buffers. It hashes every
// byte it hands out, which is what lets the reader check the chain digest at
// each frame without a second pass or a copy.
import { createHash, type Hash } from 'node:crypto'

const EMPTY = Buffer.alloc(0)

export class ByteSource {
  private readonly it: AsyncIterator<Buffer | string>
  private buf: Buffer = EMPTY
  private off = 0
  private eof = false
  private readonly hash: Hash = createHash('sha256')
  /** Bytes handed out so far. */
  consumed = 0

  constructor(source: AsyncIterable<Buffer | string>) {
    this.it = source[Symbol.asyncIterator]()
  }

  /** SHA-256 over every byte handed out so far. */
  digest(): string {
    return this.hash.copy().digest('hex')
  }

  private async fill(): Promise<boolean> {
    while (this.off >= this.buf.length) {
      if (this.eof) return false
      const r = await this.it.next()
      if (r.done) {
        this.eof = true
        return false
      }
      this.buf = typeof r.value === 'string' ? Buffer.from(r.value) : r.value
      this.off = 0
    }
    return true
  }

  /** Up to `max` bytes from what is buffered (zero-copy); empty at end of input. */
  async take(max: number): Promise<Buffer> {
    if (max <= 0 || !(await this.fill())) return EMPTY
    const n = Math.min(max, this.buf.length - this.off)
    const out = this.buf.subarray(this.off, this.off + n)
    this.off += n
    this.consume(out)
    return out
  }

  /** Exactly `n` bytes, or fewer only at end of input. */
  async exact(n: number): Promise<Buffer> {
    const first = await this.take(n)
    if (first.length === n || first.length === 0) return first
    const parts = [first]
    let got = first.length
    while (got < n) {
      const more = await this.take(n - got)
      if (more.length === 0) break
      parts.push(more)
      got += more.length
    }
    return Buffer.concat(parts, got)
  }

  /** Discards `n` bytes; returns how many were there. */
  async skip(n: number): Promise<number> {
    let left = n
    while (left > 0) {
      const c = await this.take(left)
      if (c.length === 0) break
      left -= c.length
    }
    return n - left
  }

  /** Lets the source go (a generator's finally runs, a Readable is destroyed). */
  async close(): Promise<void> {
    await this.it.return?.()
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill())
  }

  private consume(b: Buffer): void {
    this.hash.update(b)
    this.consumed += b.length
  }
}
