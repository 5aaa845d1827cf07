import { type Writable } from 'node:stream'
import { writeInto } from '../sys/io.js'

/** Writes a line and waits when the reader is slow, so a listing keeps memory flat. */
export function writeLine(out: Writable, line: string): Promise<void> {
  return writeInto(out, `${line}\n`)
}

const BATCH = 1 << 16
const BATCH_MS = 100

/**
 * A listing's lines, written some 64 KiB at a time: one write per line cost a
 * listing of 100k entries a quarter of its time. A line that comes 100 ms or
 * more after the last write goes out at once (the first line too), so a slow
 * stream is listed as it arrives, and `bt-ls | head` ends as soon as head has
 * had enough. Backpressure holds as with writeLine, a batch at a time.
 */
export class LineBatch {
  private text = ''
  private last = 0

  constructor(private readonly out: Writable) {}

  /** Adds a line; a promise to await when a batch went out. */
  add(line: string): Promise<void> | undefined {
    this.text += `${line}\n`
    if (this.text.length < BATCH && Date.now() - this.last < BATCH_MS) return undefined
    return this.flush()
  }

  flush(): Promise<void> {
    const t = this.text
    this.text = ''
    this.last = Date.now()
    return t === '' ? Promise.resolve() : writeInto(this.out, t)
  }
}
