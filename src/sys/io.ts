import { writeSync } from 'node:fs'
import { type Writable } from 'node:stream'

/** writeSync until every byte is written (a write may be short); `pos` null means the file offset. */
export function writeAll(fd: number, b: Buffer, off = 0, len = b.length - off, pos: number | null = null): void {
  while (len > 0) {
    const n = writeSync(fd, b, off, len, pos)
    off += n
    len -= n
    if (pos !== null) pos += n
  }
}

/** Writes `b` to `into`, waiting for 'drain' when its buffer is full (backpressure), failing if it errors or closes. */
export function writeInto(into: Writable, b: Buffer | string): Promise<void> {
  if (into.destroyed) return Promise.reject(into.errored ?? closedError())
  if (into.write(b)) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const done = (err?: unknown) => {
      into.off('drain', ok)
      into.off('error', done)
      into.off('close', closed)
      if (err) reject(err)
      else resolve()
    }
    const ok = () => done()
    const closed = () => done(into.errored ?? closedError())
    into.once('drain', ok)
    into.once('error', done)
    into.once('close', closed)
  })
}

/** What writing to a closed output is, as Node itself reports it (the CLI maps it to exit 141). */
function closedError(): Error {
  return Object.assign(new Error('output closed'), { code: 'ERR_STREAM_DESTROYED' })
}
