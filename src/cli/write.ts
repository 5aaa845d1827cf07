import { type Writable } from 'node:stream'
import { writeInto } from '../sys/io.js'

/** Writes a line and waits when the reader is slow, so a listing keeps memory flat. */
export function writeLine(out: Writable, line: string): Promise<void> {
  return writeInto(out, `${line}\n`)
}

const BATCH = 1 << 16
const BATCH_MS = 100

/**
 * A listing's lines, written some 64 KiB at a time (or after 100 ms): one
 * write per line cost a listing of 100k entries a quarter of its time.
 * Backpressure holds as with writeLine, a batch at a time.
 */
export class LineBatch {
  private text = ''
  private since = 0

  constructor(private readonly out: Writable) {}

  /** Adds a line; a promise to await when a batch went out. */
  add(line: string): Promise<void> | undefined {
    if (this.text === '') this.since = Date.now()
    this.text += `${line}\n`
    if (this.text.length < BATCH && Date.now() - this.since < BATCH_MS) return undefined
    return this.flush()
  }

  flush(): Promise<void> {
    const t = this.text
    this.text = ''
    return t === '' ? Promise.resolve() : writeInto(this.out, t)
  }
}
