// The wire-level pieces of the FTP transport (ftp.ts) that work around or
// under basic-ftp: forwarding a download with its backpressure, keeping the
// control connection alive when a data connection breaks so the server's
// reason can still be read, watching for that reply, and TLS under a timeout.
import { Writable } from 'node:stream'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { type Client, FTPError, type FTPContext } from 'basic-ftp'
import { type RemoteError } from '../errors.js'
import { type tlsOptions } from './ftp-tls.js'

/**
 * A Writable that feeds `into` with its backpressure and never ends or destroys it.
 * `flushed()` settles once `into` has taken in (called back for) every chunk given
 * to it: a write that returned true may still sit in `into`'s buffer when the
 * transfer ends, and load() resolves only after the data really went on.
 */
export function forwardTo(into: Writable, failed: (err: Error) => void): Writable & { flushed(): Promise<void> } {
  let pending = 0
  let intoError: Error | undefined
  let wake: (() => void) | undefined
  const closed = (): Error => new Error('the destination of the download was closed')
  const done = (err?: Error | null): void => {
    pending--
    if (err) intoError ??= err
    if (pending === 0 || err) wake?.()
  }
  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      if (intoError) return cb(intoError)
      if (into.destroyed || into.writableEnded) return cb(closed())
      pending++
      if (into.write(chunk, done)) return cb()
      const settle = (err?: Error): void => {
        into.off('drain', onDrain)
        into.off('error', onError)
        into.off('close', onClose)
        cb(err)
      }
      const onDrain = (): void => settle()
      const onError = (err: Error): void => {
        failed(err)
        settle(err)
      }
      const onClose = (): void => settle(closed())
      into.on('drain', onDrain)
      into.on('error', onError)
      into.on('close', onClose)
    },
  })
  const flushed = (): Promise<void> => new Promise<void>((resolve, reject) => {
    const finish = (): void => {
      wake = undefined
      into.off('error', onError)
      into.off('close', onClose)
      if (intoError) {
        failed(intoError)
        reject(intoError)
      } else if (pending > 0) {
        const err = closed()
        failed(err)
        reject(err)
      } else {
        resolve()
      }
    }
    const onError = (err: Error): void => {
      intoError ??= err
      finish()
    }
    const onClose = (): void => finish()
    if (pending === 0 || intoError || into.destroyed) return finish()
    wake = finish
    into.on('error', onError)
    into.on('close', onClose)
  })
  return Object.assign(sink, { flushed })
}

/**
 * basic-ftp closes the whole session when the data connection fails, so the
 * server's reply that says why (451 on a full disk) is lost. Here a data
 * socket's error only fails the running transfer; the session is dropped by
 * the transport right after, once that reply had its chance. (An upload's
 * source stream must not fail either: see the relay in saveOnce.)
 */
export function keepControlOnDataErrors(ftp: FTPContext): void {
  const ctx = ftp as unknown as {
    _setupDefaultErrorHandlers(socket: NodeJS.EventEmitter, id: string): void
    _passToHandler(err: Error): void
  }
  const original = ctx._setupDefaultErrorHandlers.bind(ctx)
  ctx._setupDefaultErrorHandlers = (socket, id) => {
    if (id !== 'data socket') return original(socket, id)
    socket.once('error', (err: Error) => {
      err.message += ' (data socket)'
      ctx._passToHandler(err)
    })
    socket.once('close', (hadError: boolean) => {
      if (hadError) ctx._passToHandler(new Error('Socket closed due to transmission error (data socket)'))
    })
    socket.once('timeout', () => ftp.closeWithError(new Error('Timeout (data socket)')))
  }
}

/** Watches the control connection during a transfer for a final error reply. */
export function listenForReplies(c: Client): { final(ms: number): Promise<RemoteError | FTPError | undefined>; stop(): void } {
  const socket = c.ftp.socket
  let text = ''
  let found: FTPError | undefined
  let settled = false
  let wake: (() => void) | undefined
  let started = false
  const onData = (chunk: string | Buffer): void => {
    text += chunk.toString()
    // Whole reply lines only ("ddd text"; continuation lines of a multi-line reply do not match).
    let nl: number
    while (!settled && (nl = text.indexOf('\n')) >= 0) {
      const line = text.slice(0, nl).replace(/\r$/, '')
      text = text.slice(nl + 1)
      const m = /^([1-5]\d\d) (.*)$/.exec(line)
      if (!m) continue
      const code = Number(m[1])
      // Replies before the transfer's 1xx (EPSV/PASV) are not its outcome; an error reply always is.
      if (code < 200) started = true
      else if (started || code >= 400) {
        settled = true
        if (code >= 400) found = new FTPError({ code, message: `${m[1]} ${m[2]}` })
        wake?.()
      }
    }
  }
  socket.on('data', onData)
  return {
    async final(ms) {
      if (!settled && !socket.destroyed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms)
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
      }
      return found
    },
    stop: () => socket.off('data', onData),
  }
}

/** basic-ftp's upgradeSocket, but under the transport's timeout (see login). */
export function upgrade(socket: FTPContext['socket'], options: ReturnType<typeof tlsOptions>): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const s = tlsConnect({ ...options, socket }, () => {
      s.removeListener('error', reject)
      if (options.rejectUnauthorized !== false && !s.authorized) reject(s.authorizationError)
      else resolve(s)
    })
    s.once('error', reject)
  })
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  if (ms <= 0) return p
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timeout (${what})`)), ms)
  })
  return Promise.race([p, t]).finally(() => clearTimeout(timer))
}
