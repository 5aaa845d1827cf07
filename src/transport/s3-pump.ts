// A download's body into the caller's stream, with backpressure, never
// ending it: get.ts owns the output and may resume into it after a failure.
import { once } from 'node:events'
import { type Readable, type Writable } from 'node:stream'

export async function pumpBody(body: Readable, into: Writable): Promise<void> {
  try {
    for await (const chunk of body) {
      if (!into.write(chunk)) {
        // once() rejects when the output fails while we wait; a close without drain ends the wait too.
        const done = new AbortController()
        try {
          await Promise.race([once(into, 'drain', { signal: done.signal }),
            once(into, 'close', { signal: done.signal }).then(() => Promise.reject(new Error('the output closed')))])
        } finally {
          done.abort()
        }
      }
    }
  } finally {
    body.destroy()
  }
}
