// Line-oriented files read and written with plain sync syscalls: the index and
// the restore journal are read strictly in order, one line at a time.
import { closeSync, openSync, readSync } from 'node:fs'
import { writeAll } from '../sys/io.js'

export class LineReader {
  private readonly fd: number
  private buf = Buffer.alloc(0)
  private eof = false

  constructor(path: string) {
    this.fd = openSync(path, 'r')
  }

  next(): string | undefined {
    for (;;) {
      const nl = this.buf.indexOf(0x0a)
      if (nl !== -1) {
        const line = this.buf.toString('utf8', 0, nl)
        this.buf = this.buf.subarray(nl + 1)
        return line
      }
      if (this.eof) return undefined
      const chunk = Buffer.allocUnsafe(1 << 16)
      const n = readSync(this.fd, chunk, 0, chunk.length, null)
      if (n === 0) this.eof = true
      else this.buf = this.buf.length === 0 ? chunk.subarray(0, n) : Buffer.concat([this.buf, chunk.subarray(0, n)])
    }
  }

  close(): void {
    closeSync(this.fd)
  }
}

export class LineWriter {
  private readonly fd: number

  constructor(path: string) {
    this.fd = openSync(path, 'wx', 0o600)
  }

  write(line: string): void {
    const b = Buffer.from(`${line}\n`)
    writeAll(this.fd, b)
  }

  close(): void {
    closeSync(this.fd)
  }
}
