// S3 and network failures as RemoteErrors with backtory's codes. Only the
// S3 error code and HTTP status are carried over, never the SDK's text,
// which can quote the signed request; the secret key is never part of any.
import { BtError, EXIT, RemoteError } from '../errors.js'

interface SdkError {
  name?: string
  code?: string
  message?: string
  $metadata?: { httpStatusCode?: number }
  Code?: string
}

export function s3Status(err: unknown): number | undefined {
  return (err as SdkError)?.$metadata?.httpStatusCode
}

export function s3Code(err: unknown): string {
  const e = err as SdkError
  return e?.Code ?? e?.name ?? e?.code ?? 'Error'
}

/** Whether `err` says the object or bucket is not there (a HEAD's 404 has no body, so no code). */
export function isNotFound(err: unknown): boolean {
  return ['NoSuchKey', 'NotFound', 'NoSuchBucket', 'NoSuchUpload'].includes(s3Code(err)) || s3Status(err) === 404
}

const TLS = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME|HOSTNAME_MISMATCH/

/** `what` ("uploading x to s3://b/p/") failed with `err`: the RemoteError to throw. */
export function s3Error(what: string, err: unknown, where: string): BtError {
  if (err instanceof BtError) return err
  const code = s3Code(err)
  const status = s3Status(err)
  const sys = (err as SdkError)?.code ?? ''
  const said = `${code}${status ? ` (HTTP ${status})` : ''}`
  const fail = (c: string, text: string, retryable = false, hints: string[] = []) =>
    new RemoteError(c, `${what} failed: ${text}`, { retryable, cause: err, hints })
  if (code === 'NoSuchBucket') {
    return fail('BT_REMOTE_NOT_FOUND', `the bucket does not exist at ${where}`, false, ['create the bucket first (with object lock enabled if you want --retain), or check the bucket name and --endpoint'])
  }
  if (isNotFound(err)) return fail('BT_REMOTE_NOT_FOUND', `no such object (${said})`)
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired', 'InvalidSecurity'].includes(code)) {
    return fail('BT_REMOTE_AUTH', `the server refused the credentials (${said})`, false,
      ['check the access key and the secret key (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials with AWS_PROFILE, or --credentials-file)'])
  }
  if (code === 'QuotaExceeded' || code === 'EntityTooLarge' || code === 'InsufficientStorage' || status === 507) {
    return fail('BT_REMOTE_FULL', `the bucket or the account is over its quota (${said})`)
  }
  if (code === 'PreconditionFailed' || status === 412) return fail('BT_REMOTE_EXISTS', `the object already exists (${said})`)
  if (code === 'AccessDenied' || status === 403) return fail('BT_REMOTE_PERM', `access denied (${said})`)
  if (TLS.test(sys) || TLS.test(code)) {
    return fail('BT_REMOTE_TRUST', `the server's TLS certificate is not trusted (${sys || code})`, false,
      ['give its CA with --ca FILE (PEM), or add the CA to the system\'s trust store'])
  }
  if (sys === 'ECONNREFUSED' || sys === 'ENOTFOUND' || sys === 'EAI_AGAIN' || sys === 'EHOSTUNREACH' || sys === 'ENETUNREACH') {
    return fail('BT_REMOTE_CONNECT', `cannot connect (${sys})`, sys !== 'ENOTFOUND', ['check --endpoint (or BT_S3_ENDPOINT) and the network'])
  }
  if (code === 'TimeoutError' || sys === 'ETIMEDOUT' || code === 'RequestTimeout' || code === 'RequestTimeoutException') {
    return fail('BT_REMOTE_TIMEOUT', 'the server stopped answering', true)
  }
  if (sys === 'ECONNRESET' || sys === 'EPIPE' || sys === 'ECONNABORTED' || code === 'AbortError' || /socket hang up|aborted|premature close/i.test((err as SdkError)?.message ?? '')) {
    return fail('BT_REMOTE_DROPPED', `the connection dropped (${sys || code})`, true)
  }
  if (status !== undefined && status >= 500) return fail('BT_REMOTE_DROPPED', `the server failed (${said})`, true)
  if (code === 'InvalidBucketName' || code === 'InvalidArgument' || code === 'InvalidRequest') {
    return new BtError('BT_REMOTE_PROTOCOL', EXIT.FAILURE, `${what} failed: the server refused the request (${said})`)
  }
  return fail('BT_REMOTE_PROTOCOL', `unexpected answer ${said}`)
}

/** A locked object: S3 Object Lock keeps it until `until` (or a legal hold until released). */
export class LockedError extends BtError {
  constructor(name: string, where: string, until: Date | undefined, mode: string | undefined) {
    super('BT_LOCKED', EXIT.FAILURE, until
      ? `${name} in ${where} is locked until ${until.toISOString()} (S3 Object Lock, ${mode?.toLowerCase() ?? 'retention'} mode)`
      : `${name} in ${where} is under an S3 Object Lock legal hold`,
    until ? ['it can be removed after that date; a backup stored with --retain cannot be removed earlier, by design']
      : ['the bucket owner must release the legal hold first'])
  }
}
