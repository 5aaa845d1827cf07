import { type Writable } from 'node:stream'
import { writeInto } from '../sys/io.js'

/** Writes a line and waits when the reader is slow, so a listing keeps memory flat. */
export function writeLine(out: Writable, line: string): Promise<void> {
  return writeInto(out, `${line}\n`)
}
