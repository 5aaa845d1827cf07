// A temporary file that holds one entry's output until its size and kind are
// known: a tar header states the size before the data, and a pipe cannot seek.
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs'
import { writeAll } from '../sys/io.js'
import { tmpdir } from 'node:os'

export class Spool {
  private readonly dir: string
  private readonly fd: number
  size = 0

  constructor(base = tmpdir()) {
    this.dir = mkdtempSync(`${base}/bt-delta-`)
    this.fd = openSync(`${this.dir}/spool`, 'w+', 0o600)
  }

  reset(): void {
    ftruncateSync(this.fd, 0)
    this.size = 0
  }

  write(b: Buffer): void {
    writeAll(this.fd, b, 0, b.length, this.size)
    this.size += b.length
  }

  *read(chunk = 1 << 20): Generator<Buffer> {
    for (let pos = 0; pos < this.size;) {
      const b = Buffer.allocUnsafe(Math.min(chunk, this.size - pos))
      const n = readSync(this.fd, b, 0, b.length, pos)
      if (n === 0) throw new Error('spool file shrank while being read')
      yield n === b.length ? b : b.subarray(0, n)
      pos += n
    }
  }

  close(): void {
    closeSync(this.fd)
    rmSync(this.dir, { recursive: true, force: true })
  }
}
