// The bytes of an upload, in the two shapes resuming needs: a reader that
// hands out at most N bytes at a time from an async source, and a window that
// keeps the last bytes sent, so a transfer cut after byte X can continue from
// whatever the server says it holds, as long as that is within the window.

export class Feeder {
  private readonly it: AsyncIterator<Buffer>
  private leftover: Buffer | undefined
  ended = false

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]()
  }

  /** The next bytes, at most `max` of them; undefined at the end of input. */
  async take(max: number): Promise<Buffer | undefined> {
    let b = this.leftover
    this.leftover = undefined
    while (!b || b.length === 0) {
      if (this.ended) return undefined
      const r = await this.it.next()
      if (r.done) {
        this.ended = true
        return undefined
      }
      b = r.value
    }
    if (b.length > max) {
      this.leftover = b.subarray(max)
      b = b.subarray(0, max)
    }
    return b
  }

  /** Whether any input is left, waiting for it if need be. */
  async more(): Promise<boolean> {
    const b = await this.take(Number.MAX_SAFE_INTEGER)
    if (b) this.leftover = b
    return b !== undefined
  }
}

/**
 * The last `limit` bytes sent, copied into one buffer of that size that is
 * reused from volume to volume. Keeping the pushed chunks themselves instead
 * would hold every input buffer for a window's worth of traffic: they then
 * outlive V8's young generation and pile up, dead, until a full collection
 * (some 60 MiB more peak RSS at the default 16 MiB window). Copying costs one
 * memcpy per byte; the input chunks then die young.
 */
export class Window {
  private ring: Buffer | undefined
  /** Offset of the first byte still kept. */
  start = 0
  /** Offset just past the last byte pushed. */
  end = 0

  constructor(private readonly limit: number) {}

  /** Bytes this window holds on to, whatever was pushed: at most its limit. */
  get capacity(): number {
    return this.ring?.length ?? 0
  }

  /** Forgets everything, keeping the buffer: the next volume starts at offset 0. */
  reset(): void {
    this.start = 0
    this.end = 0
  }

  push(b: Buffer): void {
    // Allocated on first use: a small archive never touches the whole limit.
    this.ring ??= Buffer.allocUnsafeSlow(this.limit)
    const src = b.length > this.limit ? b.subarray(b.length - this.limit) : b
    const at = (this.end + (b.length - src.length)) % this.limit
    const first = Math.min(src.length, this.limit - at)
    src.copy(this.ring, at, 0, first)
    if (first < src.length) src.copy(this.ring, 0, first)
    this.end += b.length
    this.start = Math.max(this.start, this.end - this.limit)
  }

  /**
   * The kept bytes from `from` (start <= from <= end) to the end, as copies:
   * a replay is read while fresh bytes overwrite the ring, and is rare.
   */
  *from(from: number): Generator<Buffer> {
    if (from < this.start || from > this.end) throw new RangeError(`offset ${from} is outside the kept window ${this.start}..${this.end}`)
    const end = this.end
    for (let off = from; off < end;) {
      if (off < this.start) throw new RangeError(`offset ${off} was overwritten while it was replayed`)
      const at = off % this.limit
      const n = Math.min(end - off, this.limit - at, 1 << 20)
      yield Buffer.from(this.ring!.subarray(at, at + n))
      off += n
    }
  }
}
