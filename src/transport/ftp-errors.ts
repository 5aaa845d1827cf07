// What a failed FTP step means for the user and for the retry wrapper: every
// basic-ftp, socket and TLS failure becomes a RemoteError with a stable code,
// the server's own words and the original error as its cause.
import { FTPError } from 'basic-ftp'
import { RemoteError } from '../errors.js'

/** What was being done, for the message; `missing` is what a bare 550 means here. */
export interface FtpStep {
  what: string
  missing: 'BT_REMOTE_NOT_FOUND' | 'BT_REMOTE_PERM'
  /** An upload: a 451 write failure then means a full disk or quota. */
  upload?: boolean
}

const TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE', 'ERR_TLS_CERT_ALTNAME_INVALID', 'HOSTNAME_MISMATCH',
])
const CONNECT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EADDRNOTAVAIL'])
const DROP_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED'])
const FULL_TEXT = /no space|disk full|quota|storage|exceed|insufficient/i
const WRITE_TEXT = /writ/i
const MISSING_TEXT = /no such|not found|not exist|doesn.t exist|can.t find|cannot find|could not get file size/i
const DENIED_TEXT = /permission|denied|not allowed|forbidden|read-only/i

function reply(code: number, text: string, step: FtpStep, cause: unknown): RemoteError {
  const msg = `${step.what}: server said ${text.trim().replace(/\s+/g, ' ')}`
  if (code === 530) return new RemoteError('BT_REMOTE_AUTH', msg, { cause })
  if (code === 452 || code === 552 || FULL_TEXT.test(text)) return new RemoteError('BT_REMOTE_FULL', msg, { cause })
  if (code === 451 && step.upload && WRITE_TEXT.test(text)) {
    // vsftpd says only "451 Failure writing to local file." when write() fails: in
    // practice a full disk or quota, and retrying would only fill it again.
    return new RemoteError('BT_REMOTE_FULL', `${msg} (the server could not store the data: most likely its disk is full or the quota is reached)`, { cause })
  }
  if (code === 421 || code === 426) return new RemoteError('BT_REMOTE_DROPPED', msg, { retryable: true, cause })
  if (code === 425) return new RemoteError('BT_REMOTE_CONNECT', msg, { retryable: true, cause })
  if (code === 550 || code === 450) {
    if (MISSING_TEXT.test(text)) return new RemoteError('BT_REMOTE_NOT_FOUND', msg, { cause })
    if (DENIED_TEXT.test(text)) return new RemoteError('BT_REMOTE_PERM', msg, { cause })
    return new RemoteError(step.missing, msg, { cause })
  }
  if (code === 553 || code === 532) return new RemoteError('BT_REMOTE_PERM', msg, { cause })
  if (code === 500 || code === 501 || code === 502 || code === 504) return new RemoteError('BT_REMOTE_PROTOCOL', msg, { cause })
  if (code >= 400 && code < 500) return new RemoteError('BT_REMOTE_DROPPED', msg, { retryable: true, cause })
  return new RemoteError('BT_REMOTE_PERM', msg, { cause })
}

/** Maps any failure of an FTP step to a RemoteError (RemoteErrors pass through). */
export function ftpError(err: unknown, step: FtpStep): RemoteError {
  if (err instanceof RemoteError) return err
  if (err instanceof FTPError && typeof err.code === 'number') return reply(err.code, err.message, step, err)
  const e = err as NodeJS.ErrnoException
  // basic-ftp may reject with a TLS socket's authorizationError, a bare code string.
  const code = typeof err === 'string' ? err : typeof e?.code === 'string' ? e.code : ''
  const text = String(e?.message ?? err)
  const msg = `${step.what}: ${text.replace(/\s+/g, ' ')}`
  // basic-ftp reports a server reply that closed a client as "Client is closed because <reply>".
  const closedBy = /^Client is closed because (\d{3}) ([\s\S]*)$/.exec(text)
  if (closedBy) return reply(Number(closedBy[1]), `${closedBy[1]} ${closedBy[2]}`, step, err)
  if (TRUST_CODES.has(code) || /certificate|self.signed/i.test(text)) {
    return new RemoteError('BT_REMOTE_TRUST', `${msg}`, { cause: err })
  }
  if (/timeout|timed out/i.test(text) || code === 'ETIMEDOUT') {
    return new RemoteError('BT_REMOTE_TIMEOUT', msg, { retryable: true, cause: err })
  }
  if (CONNECT_CODES.has(code)) return new RemoteError('BT_REMOTE_CONNECT', msg, { retryable: true, cause: err })
  if (DROP_CODES.has(code) || /closed|FIN packet|transmission error|socket hang up|ended by the other party/i.test(text)) {
    return new RemoteError('BT_REMOTE_DROPPED', msg, { retryable: true, cause: err })
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return new RemoteError('BT_REMOTE_PROTOCOL', msg, { cause: err })
  return new RemoteError('BT_REMOTE_PROTOCOL', msg, { cause: err })
}
