// Passes input bytes to an output unchanged after handing them to a parser,
// with the output's backpressure applied to both.
import { once } from 'node:events'
import { type Readable, type Writable } from 'node:stream'
import { finished } from 'node:stream/promises'

export interface Tee {
  source: AsyncGenerator<Buffer>
  bytes(): number
  /** Ends the output and waits until it has been flushed. */
  end(): Promise<void>
}

export function tee(input: Readable, out: Writable): Tee {
  let failed: unknown
  let total = 0
  out.on('error', (err) => {
    failed ??= err // surfaced by the next write or by end(): the reader must not run ahead of a dead output
  })
  async function* source(): AsyncGenerator<Buffer> {
    for await (const c of input as AsyncIterable<Buffer>) {
      if (failed) throw failed
      // The parser sees each chunk before it goes out: a stream it refuses at
      // its header (a quick scan given to --full) passes on nothing whole.
      yield c
      total += c.length
      if (!out.write(c)) await once(out, 'drain')
    }
  }
  return {
    source: source(),
    bytes: () => total,
    end: async () => {
      if (failed) throw failed
      out.end()
      await finished(out)
    },
  }
}
