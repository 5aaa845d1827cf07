// Read buffers come back once the writer has handed them to the kernel, so a
// long scan reuses a handful of them instead of leaving a trail of garbage for
// the collector: memory stays flat however many bytes pass.

export class BufferPool {
  private readonly free: Buffer[] = []
  private readonly ours = new WeakSet<ArrayBuffer>()

  constructor(readonly size: number, private readonly keep = 16) {}

  /** A buffer of `n` bytes (at most `size`); its content is garbage. */
  acquire(n: number): Buffer {
    let b = this.free.pop()
    if (!b) {
      b = Buffer.allocUnsafeSlow(this.size)
      this.ours.add(b.buffer as ArrayBuffer)
    }
    return n === this.size ? b : b.subarray(0, n)
  }

  /** Gives a buffer back. Only call it when nothing refers to the buffer any more. */
  release(b: Buffer): void {
    if (!this.ours.has(b.buffer as ArrayBuffer) || this.free.length >= this.keep) return
    this.free.push(Buffer.from(b.buffer, 0, this.size))
  }
}
