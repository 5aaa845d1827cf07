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

export class Window {
  private readonly bufs: Buffer[] = []
  private held = 0
  /** Offset of the first byte still kept. */
  start = 0
  /** Offset just past the last byte pushed. */
  end = 0

  constructor(private readonly limit: number) {}

  push(b: Buffer): void {
    this.bufs.push(b)
    this.held += b.length
    this.end += b.length
    while (this.bufs.length > 1 && this.held - this.bufs[0]!.length >= this.limit) {
      const old = this.bufs.shift()!
      this.held -= old.length
      this.start += old.length
    }
  }

  /** The kept bytes from `from` (start <= from <= end) to the end. */
  *from(from: number): Generator<Buffer> {
    if (from < this.start || from > this.end) throw new RangeError(`offset ${from} is outside the kept window ${this.start}..${this.end}`)
    let at = this.start
    for (const b of [...this.bufs]) {
      const next = at + b.length
      if (next > from) yield b.subarray(Math.max(0, from - at))
      at = next
    }
  }
}
