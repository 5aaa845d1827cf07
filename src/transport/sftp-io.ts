// Requests with a deadline, and pipelined transfers. SFTP answers each WRITE
// and READ separately, so one request at a time pays a round trip per chunk;
// like OpenSSH's sftp (64 × 32 KiB), up to 2 MiB of requests are kept in
// flight, and memory stays bounded by that. A transfer that makes no progress
// for timeoutMs fails (and drops the connection) instead of hanging.
import { type Readable, type Writable } from 'node:stream'
import { RemoteError } from '../errors.js'
import { connectionError } from './sftp-errors.js'
import { type Session } from './sftp-connect.js'

/** At most this much in flight: ssh2's channel window, so requests never wait on it. */
export const IN_FLIGHT = 2 * 1024 * 1024
/** 1 GiB over loopback: 128 KiB requests moved ~450 MB/s up and ~720 MB/s down; 32 KiB half that. */
const CHUNK = 128 * 1024

/** The request size for this server: ssh2 learns OpenSSH's limits (limits@openssh.com), else assumes ~32 KB. */
function sizes(s: Session, which: 'read' | 'write'): { chunk: number; depth: number } {
  const limits = s.sftp as unknown as { _maxReadLen?: number; _maxWriteLen?: number }
  const max = (which === 'read' ? limits._maxReadLen : limits._maxWriteLen) ?? 32 * 1024
  const chunk = Math.max(4096, Math.min(CHUNK, max))
  return { chunk, depth: Math.max(1, Math.floor(IN_FLIGHT / chunk)) }
}

/** Calls one ssh2 SFTP method; rejects on its error, on a dead connection, or after timeoutMs. */
export function request<T>(s: Session, timeoutMs: number, who: string, call: (cb: (err: Error | null | undefined, res?: T) => void) => void): Promise<T> {
  if (s.dead) return Promise.reject(dropped(s, who))
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      kill(s)
      reject(new RemoteError('BT_REMOTE_TIMEOUT', `${who}: no answer from the server in ${timeoutMs} ms`, { retryable: true }))
    }, timeoutMs)
    try {
      call((err, res) => {
        clearTimeout(timer)
        if (err) reject(s.dead ? dropped(s, who) : err)
        else resolve(res as T)
      })
    } catch (err) {
      clearTimeout(timer)
      reject(err)
    }
  })
}

/** Drops a connection whose state is unknown (a request timed out). */
export function kill(s: Session): void {
  s.dead = true
  s.client.destroy()
}

export function dropped(s: Session, who: string): RemoteError {
  const why = s.lastError === undefined ? undefined : connectionError(s.lastError, who)
  return why?.retryable ? why : new RemoteError('BT_REMOTE_DROPPED', `${who}: the connection was lost`, { retryable: true, cause: s.lastError })
}

/** Fails with a timeout when nothing moved for timeoutMs while requests were outstanding. */
class Watchdog {
  private last = Date.now()
  private readonly timer: NodeJS.Timeout
  constructor(timeoutMs: number, busy: () => boolean, onStall: () => void) {
    this.timer = setInterval(() => {
      if (!busy()) this.last = Date.now()
      else if (Date.now() - this.last > timeoutMs) onStall()
    }, Math.max(50, Math.floor(timeoutMs / 8)))
  }
  progress(): void {
    this.last = Date.now()
  }
  stop(): void {
    clearInterval(this.timer)
  }
}

/**
 * Writes all of `data` at `offset` through `handle`, pipelined.
 * Does not destroy `data` on failure: the caller owns it.
 */
export async function writeAll(s: Session, handle: Buffer, data: Readable, offset: number, timeoutMs: number, who: string): Promise<number> {
  const { chunk: size, depth } = sizes(s, 'write')
  let pos = offset
  let inflight = 0
  let failure: unknown
  let wake: (() => void) | undefined
  const stalled = (): void => {
    failure ??= new RemoteError('BT_REMOTE_TIMEOUT', `${who}: the upload stalled (no progress for ${timeoutMs} ms)`, { retryable: true })
    kill(s)
    wake?.()
  }
  const dog = new Watchdog(timeoutMs, () => inflight > 0, stalled)
  const send = (buf: Buffer): void => {
    inflight++
    s.sftp.write(handle, buf, 0, buf.length, pos, (err) => {
      inflight--
      dog.progress()
      if (err) failure ??= s.dead ? dropped(s, who) : err
      wake?.()
    })
    pos += buf.length
  }
  const settle = async (max: number): Promise<void> => {
    while (inflight > max && !(failure && s.dead)) await new Promise<void>((r) => (wake = r))
  }
  try {
    let stage = Buffer.allocUnsafe(size)
    let staged = 0
    for await (const piece of data.iterator({ destroyOnReturn: false })) {
      const chunk = typeof piece === 'string' ? Buffer.from(piece) : (piece as Buffer)
      for (let at = 0; at < chunk.length && failure === undefined;) {
        if (staged === 0 && chunk.length - at >= size) {
          send(chunk.subarray(at, at + size))
          at += size
        } else {
          const n = Math.min(size - staged, chunk.length - at)
          chunk.copy(stage, staged, at, at + n)
          staged += n
          at += n
          if (staged < size) continue
          send(stage)
          stage = Buffer.allocUnsafe(size)
          staged = 0
        }
        await settle(depth - 1)
      }
      if (failure !== undefined) break
    }
    if (failure === undefined && staged > 0) send(stage.subarray(0, staged))
    await settle(0)
  } finally {
    dog.stop()
  }
  if (failure !== undefined) throw failure
  return pos - offset
}

/**
 * Copies from `offset` to the end of the file into `into`, pipelined,
 * waiting for `into` to drain. Never ends or destroys `into`.
 */
export async function readAll(s: Session, handle: Buffer, into: Writable, offset: number, timeoutMs: number, who: string): Promise<void> {
  const { chunk: size, depth } = sizes(s, 'read')
  if (into.destroyed || into.writableEnded) throw new Error('load: the output stream is already closed')
  let intoError: unknown
  let onInto: (() => void) | undefined
  const intoFailed = (err?: unknown): void => {
    intoError ??= err ?? new Error('load: the output stream closed before the download ended')
    onInto?.()
  }
  const onClose = (): void => intoFailed()
  into.on('error', intoFailed)
  into.on('close', onClose)
  const read = (at: number, len: number): Promise<Buffer> => new Promise((resolve, reject) => {
    s.sftp.read(handle, Buffer.allocUnsafe(len), 0, len, at, (err, n, buf) => {
      if (err) reject(s.dead ? dropped(s, who) : err)
      else resolve(buf.subarray(0, n))
    })
  })
  const queue: Array<{ at: number; p: Promise<Buffer> }> = []
  let next = offset
  let eof = false
  const fill = (): void => {
    while (!eof && queue.length < depth && !s.dead) {
      const p = read(next, size)
      p.catch(() => undefined) // awaited in order below; this only stops an early unhandled rejection
      queue.push({ at: next, p })
      next += size
    }
  }
  const deadline = <T>(p: Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined
    const stall = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        kill(s)
        reject(new RemoteError('BT_REMOTE_TIMEOUT', `${who}: the download stalled (no data for ${timeoutMs} ms)`, { retryable: true }))
      }, timeoutMs)
    })
    return Promise.race([p, stall]).finally(() => clearTimeout(timer))
  }
  try {
    fill()
    while (queue.length > 0) {
      const head = queue.shift() as { at: number; p: Promise<Buffer> }
      let buf = await deadline(head.p)
      let at = head.at
      for (;;) {
        if (buf.length === 0) {
          eof = true
          break
        }
        if (!into.write(buf) && intoError === undefined) {
          await new Promise<void>((r) => {
            onInto = r
            into.once('drain', r)
          })
          into.off('drain', onInto as () => void)
        }
        if (intoError !== undefined) throw intoError
        at += buf.length
        // A short read before the end: fetch the rest of this chunk before going on.
        if (at >= head.at + size) break
        buf = await deadline(read(at, head.at + size - at))
      }
      if (eof) break
      fill()
    }
  } finally {
    into.off('error', intoFailed)
    into.off('close', onClose)
  }
}
