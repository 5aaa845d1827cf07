// Passes input bytes to an output unchanged while handing the same bytes to a
// parser, with the output's backpressure applied to both.
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
      total += c.length
      if (!out.write(c)) await once(out, 'drain')
      yield c
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
