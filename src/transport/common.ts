// Small pieces every transport shares.
import { type Writable } from 'node:stream'
import { UsageError } from '../errors.js'

/** Object names are plain names in one directory: refuse anything a server could read as a path or an option. */
export function checkName(name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0') || name.startsWith('-') || /[\r\n]/.test(name)) {
    throw new UsageError(`${JSON.stringify(name)} is not a plain object name`)
  }
  return name
}

/** Writes `b` to `into`, waiting for 'drain' when its buffer is full (backpressure), failing if it errors or closes. */
export function writeInto(into: Writable, b: Buffer): Promise<void> {
  if (into.destroyed) return Promise.reject(into.errored ?? new Error('output closed'))
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
    const closed = () => done(into.errored ?? new Error('output closed'))
    into.once('drain', ok)
    into.once('error', done)
    into.once('close', closed)
  })
}
