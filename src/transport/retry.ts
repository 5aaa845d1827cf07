// Bounded retries with exponential backoff, as a wrapper around any
// transport. Only failures a reconnect can cure are retried (a dropped
// connection, a timeout); a wrong password, a full disk or an untrusted
// server fail at once. Transfers (save/load) are not retried here: resuming
// one needs to know its offset, which put.ts and get.ts track.
import { BtError, RemoteError } from '../errors.js'
import { type RemoteObject, type Transport } from './transport.js'
import { type Readable, type Writable } from 'node:stream'

export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number
  /** The first pause, milliseconds; each later one doubles, up to maxDelayMs. */
  delayMs: number
  maxDelayMs: number
  notice(message: string): void
  signal?: AbortSignal
}

export function isRetryable(err: unknown): boolean {
  return err instanceof RemoteError && err.retryable
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** How long work started after SIGINT/SIGTERM (a failed run's cleanup) may wait on the server. */
export const AFTER_ABORT_MS = 3000

/**
 * `work`, or the signal's reason as soon as the signal aborts while it is
 * pending: a wait on a silent server (up to --timeout) must not delay a
 * SIGTERM. The work itself ends when the transport is closed (withRetry does
 * that on abort). Work started after the abort (a failed run's cleanup, or a
 * first step that the signal beat) gets AFTER_ABORT_MS: a cleanup that cannot
 * finish is done by the next run, which removes stale temporaries.
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work
  if (signal.aborted) {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        work.catch(() => undefined)
        reject(signal.reason)
      }, AFTER_ABORT_MS)
      timer.unref()
      work.then(resolve, reject).finally(() => clearTimeout(timer))
    })
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => undefined) // settles after the transport closed; the abort already answered
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/**
 * Runs `step` until it succeeds, a failure is not retryable, or the retries
 * are spent; between attempts the transport is closed, so the next one reconnects.
 */
export async function retrying<T>(what: string, tx: Transport, p: RetryPolicy, step: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await untilAborted(step(attempt), p.signal)
    } catch (err) {
      if (!isRetryable(err) || attempt >= p.retries || p.signal?.aborted) {
        if (isRetryable(err) && attempt > 0) {
          const e = err as RemoteError
          throw new RemoteError('BT_REMOTE_DROPPED', `${what} failed ${attempt + 1} times; last: ${e.message}`, { cause: err })
        }
        throw err
      }
      const delay = Math.min(p.maxDelayMs, p.delayMs * 2 ** attempt)
      p.notice(`${what}: ${(err as BtError).message}; retrying in ${(delay / 1000).toFixed(1)} s (attempt ${attempt + 2} of ${p.retries + 1})`)
      await tx.close().catch(() => undefined)
      await sleep(delay, p.signal)
    }
  }
}

/** The transport with its small steps (list, stat, rename, remove, prepare) retried. */
export function withRetry(tx: Transport, p: RetryPolicy): Transport {
  // SIGINT/SIGTERM: drop the connection, so whatever waits on it (a reply, a stalled transfer) ends now.
  p.signal?.addEventListener('abort', () => void tx.close().catch(() => undefined), { once: true })
  return {
    get display() {
      return tx.display
    },
    get canResume() {
      return tx.canResume
    },
    prepare: () => retrying('creating the directory', tx, p, () => tx.prepare()),
    list: () => retrying('listing', tx, p, () => tx.list()),
    stat: (name: string): Promise<RemoteObject | undefined> => retrying(`checking ${name}`, tx, p, () => tx.stat(name)),
    save: (name: string, data: Readable, offset: number) => tx.save(name, data, offset),
    load: (name: string, into: Writable, offset: number) => tx.load(name, into, offset),
    rename: async (from: string, to: string) => {
      await retrying(`renaming ${from}`, tx, p, async (attempt) => {
        try {
          await tx.rename(from, to)
        } catch (err) {
          // A rename whose reply was lost may have happened: the next attempt then finds `from` gone and `to` there.
          if (attempt > 0 && err instanceof RemoteError && (err.code === 'BT_REMOTE_NOT_FOUND' || err.code === 'BT_REMOTE_EXISTS') &&
            (await tx.stat(from)) === undefined && (await tx.stat(to)) !== undefined) return
          throw err
        }
      })
    },
    remove: (name: string) => retrying(`removing ${name}`, tx, p, () => tx.remove(name)),
    ...(tx.retention ? { retention: (name: string) => retrying(`checking the lock of ${name}`, tx, p, () => tx.retention!(name)) } : {}),
    // After SIGINT/SIGTERM a close waits at most a second (an SFTP close waits for a connect under way).
    close: () => p.signal?.aborted ? Promise.race([tx.close(), new Promise<void>((r) => setTimeout(r, 1000).unref())]) : tx.close(),
  }
}
