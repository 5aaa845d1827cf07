// Client-side plumbing for the FTP transport tests: open a transport on a vsftpd
// directory, collect what load() writes, catch a RemoteError.
import { PassThrough, Readable } from 'node:stream'
import { openFtp } from '../../src/transport/ftp.js'
import { type Transport, type TransportOptions } from '../../src/transport/transport.js'
import { RemoteError } from '../../src/errors.js'
import { type Vsftpd } from './vsftpd.js'

export interface Opened {
  transport: Transport
  warnings: string[]
}

export async function openOn(srv: Pick<Vsftpd, 'user' | 'password' | 'tls' | 'caPem'> & { port: number }, path: string,
  extra: Partial<TransportOptions> = {}): Promise<Opened> {
  const warnings: string[] = []
  const scheme = srv.tls ? 'ftps' : 'ftp'
  const transport = await openFtp(
    { scheme, host: '127.0.0.1', port: srv.port, user: srv.user, path, display: `${scheme}://${srv.user}@127.0.0.1:${srv.port}${path}` },
    { timeoutMs: 5000, password: srv.password, ...(srv.tls && srv.caPem ? { ca: srv.caPem } : {}), warn: (m) => warnings.push(m), notice: () => undefined, ...extra },
  )
  return { transport, warnings }
}

/** A Writable that keeps what it is given, and whether anyone ended it. */
export function collector(): { into: PassThrough; bytes(): Buffer; ended(): boolean } {
  const into = new PassThrough({ highWaterMark: 1 << 16 })
  const parts: Buffer[] = []
  into.on('data', (b: Buffer) => parts.push(b))
  let ended = false
  into.on('finish', () => { ended = true })
  return { into, bytes: () => Buffer.concat(parts), ended: () => ended || into.writableEnded || into.destroyed }
}

/** `buf` as a stream in chunks of `n` bytes. */
export function source(buf: Buffer, n = 65536): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < buf.length; i += n) yield buf.subarray(i, i + n)
  })(), { objectMode: false })
}

/** The RemoteError `p` rejects with (or a failure to compare against when it does not). */
export async function remoteFailure(p: Promise<unknown>): Promise<RemoteError | Error> {
  try {
    await p
  } catch (err) {
    if (err instanceof RemoteError) return err
    return err instanceof Error ? err : new Error(String(err))
  }
  return new Error('resolved, but a failure was expected')
}
