// Writes a generator's buffers to an output with backpressure, and tells the
// producer when each buffer has been written so it can be reused.
import { once } from 'node:events'
import { type Writable } from 'node:stream'

export async function pump(source: Iterable<Buffer> | AsyncIterable<Buffer>, out: Writable, signal: AbortSignal,
  written: (b: Buffer) => void): Promise<void> {
  let failed: unknown
  const onError = (err: unknown) => {
    failed ??= err
  }
  out.on('error', onError)
  try {
    let sinceTurn = 0
    for await (const b of source) {
      if (failed) throw failed
      signal.throwIfAborted()
      if (!out.write(b, (err) => {
        if (!err) written(b)
      })) {
        await once(out, 'drain', { signal })
        sinceTurn = 0
      } else if ((sinceTurn += b.length) >= 1 << 22) {
        // A sync output (a file, /dev/null) never says "drain": give the event loop a
        // turn now and then, or write callbacks and signals would wait for the end.
        await new Promise((r) => setImmediate(r))
        sinceTurn = 0
      }
    }
    if (failed) throw failed
    await new Promise<void>((resolve, reject) => {
      // The callback gets the last write's error before 'error' is emitted (a small stream into /dev/full).
      out.end((err?: Error | null) => (err || failed ? reject(err ?? failed) : resolve()))
      out.once('error', reject)
    })
  } finally {
    out.off('error', onError)
  }
}
