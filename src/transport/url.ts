// Storage targets as URLs: file:///dir (or a plain path), ftp://user@host[:port]/dir,
// ftps://…, sftp://user@host[:port]/dir, s3://bucket/prefix/. A password never comes from the URL:
// it would show in `ps`, in shell history and in every log line that prints it.
import { resolve } from 'node:path'
import { UsageError } from '../errors.js'

export type Scheme = 'file' | 'ftp' | 'ftps' | 'sftp' | 's3'

export interface Target {
  scheme: Scheme
  host: string
  port?: number
  /** Empty for file://; may be empty until credentials.ts fills it from ~/.netrc. */
  user: string
  /**
   * The directory: absolute for file:// and ftp(s)://; for sftp:// as the URL gives it (see sftp.ts);
   * for s3:// the key prefix ("" or "a/b/"), and `host` is the bucket.
   */
  path: string
  /** The URL as printed in messages: no password, ever. */
  display: string
}

const SCHEMES = new Set(['file', 'ftp', 'ftps', 'sftp', 's3'])

export function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s)
}

/** Parses a target directory: a URL, or a plain local path (file://). */
export function parseTarget(s: string): Target {
  if (!isUrl(s)) {
    const path = resolve(s)
    return { scheme: 'file', host: '', user: '', path, display: path }
  }
  let u: URL
  try {
    u = new URL(s)
  } catch {
    throw new UsageError(`${JSON.stringify(redactUrl(s))} is not a valid URL`, 'write it as ftps://user@host/dir, sftp://user@host/dir, s3://bucket/prefix/ or file:///dir')
  }
  const scheme = u.protocol.slice(0, -1).toLowerCase()
  if (!SCHEMES.has(scheme)) {
    throw new UsageError(`unsupported URL scheme ${JSON.stringify(`${scheme}://`)}`, 'backtory stores to file://, ftp://, ftps://, sftp:// and s3://')
  }
  if (u.password !== '') {
    throw new UsageError(`refusing a password in the URL ${JSON.stringify(redactUrl(s))}: it would show in ps, shell history and logs`,
      'put it in ~/.netrc, in a file named by --password-file, or in BT_PASSWORD')
  }
  if (u.search !== '' || u.hash !== '') throw new UsageError(`the URL ${JSON.stringify(s)} has a query or fragment; backtory URLs have neither`)
  let path: string
  try {
    path = decodeURIComponent(u.pathname)
  } catch {
    throw new UsageError(`the path of ${JSON.stringify(s)} has a malformed %-escape`)
  }
  if (path.includes('\0')) throw new UsageError('the URL path contains a NUL byte')
  if (scheme === 'file') {
    if (u.host !== '' && u.host !== 'localhost') throw new UsageError(`file:// URLs name a local directory, not host ${JSON.stringify(u.host)}`, 'write file:///path/to/dir (three slashes)')
    return { scheme, host: '', user: '', path, display: path }
  }
  if (scheme === 's3') return s3Target(u, path, s)
  if (u.hostname === '') throw new UsageError(`the URL ${JSON.stringify(s)} names no host`)
  const user = decodeURIComponent(u.username)
  const port = u.port === '' ? undefined : Number(u.port)
  const display = `${scheme}://${user === '' ? '' : `${encodeURIComponent(user)}@`}${u.host}${u.pathname}`
  return { scheme: scheme as Scheme, host: u.hostname.replace(/^\[|\]$/g, ''), ...(port !== undefined ? { port } : {}), user, path, display }
}

/**
 * s3://BUCKET/PREFIX/: the bucket is the URL's host part, the prefix the rest
 * (a "directory" of keys, so it ends in "/" unless empty). No user, no port:
 * the endpoint and the credentials come from options and the environment.
 */
function s3Target(u: URL, path: string, s: string): Target {
  const bucket = u.hostname
  if (u.username !== '' || u.port !== '') {
    throw new UsageError(`the URL ${JSON.stringify(redactUrl(s))} has a user or a port; s3:// URLs name only BUCKET/PREFIX/`,
      'give the server with --endpoint URL (or BT_S3_ENDPOINT) and the keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials')
  }
  // Bucket names as S3 allows them (3-63 of a-z 0-9 . -); a URL host is already lowercased.
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new UsageError(`${JSON.stringify(bucket)} in ${JSON.stringify(s)} is not an S3 bucket name`, 'write s3://BUCKET/PREFIX/, BUCKET being 3 to 63 characters of a-z, 0-9, "." and "-"')
  }
  const parts = path.split('/').filter((p) => p !== '')
  if (parts.some((p) => p === '.' || p === '..')) throw new UsageError(`the prefix of ${JSON.stringify(s)} has "." or ".." in it`)
  const prefix = parts.length ? `${parts.join('/')}/` : ''
  return { scheme: 's3', host: bucket, user: '', path: prefix, display: `s3://${bucket}/${prefix}` }
}

/** Splits URL/NAME into the directory's target and the last component (bt-get). */
export function splitObjectUrl(s: string): { dir: string; name: string } {
  const trimmed = s.replace(/\/+$/, '')
  const at = trimmed.lastIndexOf('/')
  const name = trimmed.slice(at + 1)
  const dir = trimmed.slice(0, at + 1)
  if (at === -1 || name === '' || (isUrl(s) && /^[a-z][a-z0-9+.-]*:\/\/[^/]*\/?$/i.test(trimmed))) {
    throw new UsageError(`${JSON.stringify(redactUrl(s))} does not end in a backup name`, 'write URL/NAME, where NAME is what bt-ls URL lists, an id, or "latest"')
  }
  return { dir, name: decodeURIComponentSafe(name) }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** Hides passwords in URLs ("ftp://user:secret@host" -> "ftp://user:***@host"), wherever they stand in `s`. */
export function redactUrl(s: string): string {
  return s.replace(/([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^@/\s]*@/gi, '$1:***@')
}
