// Storage targets as URLs: file:///dir (or a plain path), ftp://user@host[:port]/dir,
// ftps://…, sftp://user@host[:port]/dir. A password never comes from the URL:
// it would show in `ps`, in shell history and in every log line that prints it.
import { resolve } from 'node:path'
import { UsageError } from '../errors.js'

export type Scheme = 'file' | 'ftp' | 'ftps' | 'sftp'

export interface Target {
  scheme: Scheme
  host: string
  port?: number
  /** Empty for file://; may be empty until credentials.ts fills it from ~/.netrc. */
  user: string
  /** The directory: absolute for file:// and ftp(s)://; for sftp:// as the URL gives it (see sftp.ts). */
  path: string
  /** The URL as printed in messages: no password, ever. */
  display: string
}

const SCHEMES = new Set(['file', 'ftp', 'ftps', 'sftp'])

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
    throw new UsageError(`${JSON.stringify(redactUrl(s))} is not a valid URL`, 'write it as ftps://user@host/dir, sftp://user@host/dir or file:///dir')
  }
  const scheme = u.protocol.slice(0, -1).toLowerCase()
  if (!SCHEMES.has(scheme)) {
    throw new UsageError(`unsupported URL scheme ${JSON.stringify(`${scheme}://`)}`, 'backtory stores to file://, ftp://, ftps:// and sftp://')
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
  if (u.hostname === '') throw new UsageError(`the URL ${JSON.stringify(s)} names no host`)
  const user = decodeURIComponent(u.username)
  const port = u.port === '' ? undefined : Number(u.port)
  const display = `${scheme}://${user === '' ? '' : `${encodeURIComponent(user)}@`}${u.host}${u.pathname}`
  return { scheme: scheme as Scheme, host: u.hostname.replace(/^\[|\]$/g, ''), ...(port !== undefined ? { port } : {}), user, path, display }
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
