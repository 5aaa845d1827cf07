// A pull-based byte source over any async iterable of Buffers. It hashes every
// byte it hands out, which is what lets the reader check the chain digest at
// each frame without a second pass or a copy.
//
// Hashing is batched: the bytes the reader parses itself (headers, padding,
// skipped data) join the hash in one update per run, when a digest is asked
// for, when bytes are handed out with take(), or before the next chunk is
// pulled, so every byte is hashed before its chunk is let go and before any
// caller outside the reader sees it. One update per frame instead of one per
// block is most of the cost of the digest on small files.
import { createHash, type Hash } from 'node:crypto'

const EMPTY = Buffer.alloc(0)

export class ByteSource {
  private readonly it: AsyncIterator<Buffer | string>
  private buf: Buffer = EMPTY
  private off = 0
  /** buf[0, hashed) is in the hash; buf[hashed, off) is handed out but not hashed yet. */
  private hashed = 0
  /** Bytes of the chunks before buf. */
  private base = 0
  private eof = false
  private readonly hash: Hash = createHash('sha256')

  constructor(source: AsyncIterable<Buffer | string>) {
    this.it = source[Symbol.asyncIterator]()
  }

  /** Bytes handed out so far. */
  get consumed(): number {
    return this.base + this.off
  }

  /** SHA-256 over every byte handed out so far. */
  digest(): string {
    this.flush()
    return this.hash.copy().digest('hex')
  }

  private flush(): void {
    if (this.off > this.hashed) {
      this.hash.update(this.hashed === 0 && this.off === this.buf.length ? this.buf : this.buf.subarray(this.hashed, this.off))
      this.hashed = this.off
    }
  }

  private async fill(): Promise<boolean> {
    while (this.off >= this.buf.length) {
      if (this.eof) return false
      this.flush()
      const r = await this.it.next()
      if (r.done) {
        this.eof = true
        return false
      }
      this.base += this.buf.length
      this.buf = typeof r.value === 'string' ? Buffer.from(r.value) : r.value
      this.off = 0
      this.hashed = 0
    }
    return true
  }

  /** Up to `max` bytes from what is buffered (zero-copy, hashed before they are returned); empty at end of input. */
  async take(max: number): Promise<Buffer> {
    if (max <= 0) return EMPTY
    if (this.off >= this.buf.length && !(await this.fill())) return EMPTY
    return this.takeBuffered(max)
  }

  /** take() without waiting: undefined when nothing is buffered. */
  takeSync(max: number): Buffer | undefined {
    if (this.off >= this.buf.length || max <= 0) return undefined
    return this.takeBuffered(max)
  }

  private takeBuffered(max: number): Buffer {
    const n = Math.min(max, this.buf.length - this.off)
    const out = this.buf.subarray(this.off, this.off + n)
    this.off += n
    this.flush()
    return out
  }

  /**
   * Exactly `n` bytes when they are buffered already, else undefined (then
   * call exact). For the reader's own parsing: the bytes are hashed later.
   */
  exactSync(n: number): Buffer | undefined {
    if (this.buf.length - this.off < n) return undefined
    const out = this.buf.subarray(this.off, this.off + n)
    this.off += n
    return out
  }

  /** Exactly `n` bytes, or fewer only at end of input. For the reader's own parsing, like exactSync. */
  async exact(n: number): Promise<Buffer> {
    const fast = this.exactSync(n)
    if (fast) return fast
    if (!(await this.fill())) return EMPTY
    const first = this.exactSync(n)
    if (first) return first
    // Spans chunks: the pieces are copied out, as the chunk they lie in is let go (and hashed) before the next is pulled.
    const out = Buffer.allocUnsafe(n)
    let got = 0
    while (got < n) {
      if (this.off >= this.buf.length && !(await this.fill())) break
      const k = Math.min(n - got, this.buf.length - this.off)
      this.buf.copy(out, got, this.off, this.off + k)
      this.off += k
      got += k
    }
    return got === n ? out : out.subarray(0, got)
  }

  /** Discards up to `n` bytes that are buffered already; returns how many. */
  skipSync(n: number): number {
    const k = Math.max(0, Math.min(n, this.buf.length - this.off))
    this.off += k
    return k
  }

  /** Discards `n` bytes; returns how many were there. */
  async skip(n: number): Promise<number> {
    let left = n - this.skipSync(n)
    while (left > 0) {
      if (!(await this.fill())) break
      left -= this.skipSync(left)
    }
    return n - left
  }

  /** Lets the source go (a generator's finally runs, a Readable is destroyed). */
  async close(): Promise<void> {
    await this.it.return?.()
  }

  async atEnd(): Promise<boolean> {
    return this.off >= this.buf.length && !(await this.fill())
  }
}
