// What ssh2 and an SFTP server report, turned into RemoteErrors the retry
// layer can act on. SFTP v3 (what OpenSSH speaks) has few status codes: a
// missing file and a refused permission are distinct, but a full disk, a
// quota, an I/O error and "the target of a rename exists" all arrive as
// FAILURE with the text "Failure" (sftp-server maps every other errno there).
// The callers that can tell them apart by asking the server again do so
// (sftp.ts: statvfs after a failed write, stat after a failed rename).
import { RemoteError } from '../errors.js'

/** SFTP v3 status codes (draft-ietf-secsh-filexfer-02, 7). */
export const FX = { EOF: 1, NO_SUCH_FILE: 2, PERMISSION_DENIED: 3, FAILURE: 4, BAD_MESSAGE: 5, NO_CONNECTION: 6, CONNECTION_LOST: 7, OP_UNSUPPORTED: 8 } as const

/** An SFTP status, when the error is one (ssh2 puts the number in `code`). */
export function sftpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'number' ? code : undefined
}

/** ssh2 fails pending requests with this when the channel or connection closes. */
function isDrop(err: unknown): boolean {
  const msg = err instanceof Error ? err.message : ''
  const st = sftpStatus(err)
  return st === FX.NO_CONNECTION || st === FX.CONNECTION_LOST || /No response from server|Not connected|Channel is not open/i.test(msg)
}

/** Maps a failed SFTP request on `what` (a quoted name or a phrase) to a RemoteError. */
export function sftpError(err: unknown, what: string, display: string): RemoteError {
  if (err instanceof RemoteError) return err
  const msg = err instanceof Error ? err.message : String(err)
  switch (sftpStatus(err)) {
    case FX.NO_SUCH_FILE:
      return new RemoteError('BT_REMOTE_NOT_FOUND', `${what} at ${display}: no such file or directory`, { cause: err })
    case FX.PERMISSION_DENIED:
      return new RemoteError('BT_REMOTE_PERM', `${what} at ${display}: permission denied`, { cause: err })
    case FX.OP_UNSUPPORTED:
      return new RemoteError('BT_REMOTE_PROTOCOL', `${what} at ${display}: the server does not support this operation`, { cause: err })
  }
  if (isDrop(err)) return new RemoteError('BT_REMOTE_DROPPED', `${what} at ${display}: the connection was lost`, { cause: err, retryable: true })
  return new RemoteError('BT_REMOTE_PROTOCOL', `${what} at ${display}: the server said ${JSON.stringify(msg)}`, { cause: err })
}

type Ssh2Error = Error & { level?: string; code?: string | number }

/**
 * Maps a failure to connect, authenticate or keep the connection (ssh2's
 * `error` event, which tags the layer in `level`) to a RemoteError.
 */
export function connectionError(err: unknown, who: string): RemoteError {
  if (err instanceof RemoteError) return err
  const e = err as Ssh2Error
  const msg = e?.message ?? String(err)
  const code = typeof e?.code === 'string' ? e.code : ''
  if (e?.level === 'client-authentication') {
    return new RemoteError('BT_REMOTE_AUTH', `${who}: authentication failed (the server refused every key and password tried)`, { cause: err })
  }
  if (e?.level === 'client-timeout' || code === 'ETIMEDOUT') {
    return new RemoteError('BT_REMOTE_TIMEOUT', `${who}: ${/keepalive/i.test(msg) ? 'the server stopped answering' : 'timed out connecting'}`, { cause: err, retryable: true })
  }
  if (e?.level === 'client-dns') {
    return new RemoteError('BT_REMOTE_CONNECT', `${who}: cannot resolve the host name (${code || msg})`, { cause: err, retryable: code === 'EAI_AGAIN' })
  }
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'].includes(code)) {
    return new RemoteError('BT_REMOTE_CONNECT', `${who}: cannot connect (${code})`, { cause: err, retryable: true })
  }
  if (e?.level === 'client-socket' || ['ECONNRESET', 'EPIPE', 'ECONNABORTED'].includes(code)) {
    return new RemoteError('BT_REMOTE_DROPPED', `${who}: the connection was lost (${code || msg})`, { cause: err, retryable: true })
  }
  if (e?.level === 'handshake' || e?.level === 'protocol') {
    return new RemoteError('BT_REMOTE_PROTOCOL', `${who}: SSH handshake failed: ${msg}`, { cause: err })
  }
  return new RemoteError('BT_REMOTE_DROPPED', `${who}: the connection failed: ${msg}`, { cause: err, retryable: true })
}
