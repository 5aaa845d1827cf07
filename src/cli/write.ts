import { once } from 'node:events'
import { type Writable } from 'node:stream'

/** Writes a line and waits when the reader is slow, so a listing keeps memory flat. */
export async function writeLine(out: Writable, line: string): Promise<void> {
  if (!out.write(`${line}\n`)) await once(out, 'drain')
}
