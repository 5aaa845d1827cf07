// A strict directory-listing parser for FTP (MLSD, Unix or DOS LIST). basic-ftp's
// own parser picks a format from the last line and silently drops every line it
// cannot read, so a listing of garbage could look like an empty directory, and
// an empty directory is what tells bt-put there is nothing to age out. Here
// every line must parse, or the whole listing is an error.
import { FileType, type FileInfo } from 'basic-ftp'
import * as mlsd from 'basic-ftp/dist/parseListMLSD.js'
import * as unix from 'basic-ftp/dist/parseListUnix.js'
import * as dos from 'basic-ftp/dist/parseListDOS.js'
import { RemoteError } from '../errors.js'

export interface ListedFile {
  name: string
  size: number
  mtime?: Date
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']

/**
 * The time of a Unix LIST line: "Jun  1 12:34" (this year or last, in the
 * server's clock, which vsftpd keeps in UTC) or "Jun  1  2023" (midnight).
 * Minute precision at best: enough to age out stale temporaries.
 */
export function parseListDate(raw: string, now = new Date()): Date | undefined {
  const m = /^([A-Za-z]{3})\s+(\d{1,2})\s+(?:(\d{1,2}):(\d{2})|(\d{4}))$/.exec(raw.trim())
  if (!m) return undefined
  const month = MONTHS.indexOf(m[1]!.toLowerCase())
  if (month < 0) return undefined
  const day = Number(m[2])
  if (m[5] !== undefined) return new Date(Date.UTC(Number(m[5]), month, day))
  let d = new Date(Date.UTC(now.getUTCFullYear(), month, day, Number(m[3]), Number(m[4])))
  if (d.getTime() > now.getTime() + 86_400_000) d = new Date(Date.UTC(now.getUTCFullYear() - 1, month, day, Number(m[3]), Number(m[4])))
  return d
}

function garbage(line: string): RemoteError {
  const shown = line.length > 120 ? `${line.slice(0, 120)}…` : line
  return new RemoteError('BT_REMOTE_PROTOCOL',
    `the server's directory listing cannot be read (not MLSD, Unix or DOS format): ${JSON.stringify(shown)}`)
}

function parseOne(line: string): FileInfo | 'skip' {
  if (mlsd.testLine(line)) {
    const f = mlsd.parseLine(line)
    if (f === undefined) return 'skip' // "." or ".." or an empty name
    // MLSD without a type fact, or a file without its size: not a listing to trust.
    if (!/(^|;)type=/i.test(line) || (f.isFile && !/(^|;)size=\d+;/i.test(line))) throw garbage(line)
    return f
  }
  if (unix.testLine(line)) {
    const f = unix.parseLine(line)
    if (f === undefined) return 'skip' // "." and ".."
    if (f.isFile && !f.modifiedAt) f.modifiedAt = parseListDate(f.rawModifiedAt)
    return f
  }
  if (dos.testLine(line)) {
    const f = dos.parseLine(line)
    if (f === undefined) throw garbage(line)
    return f
  }
  throw garbage(line)
}

/** Every entry of a raw listing; throws BT_REMOTE_PROTOCOL when any line cannot be read. */
export function parseListStrict(raw: string): FileInfo[] {
  const out: FileInfo[] = []
  for (const line of raw.split(/\r?\n/)) {
    if (line.trim() === '' || /^total\s+\d+\s*$/i.test(line)) continue
    const f = parseOne(line)
    if (f !== 'skip' && f.name !== '.' && f.name !== '..') out.push(f)
  }
  return out
}

/** Plain files only: directories, links and anything unknown are left out. */
export function filesOf(entries: FileInfo[]): ListedFile[] {
  return entries
    .filter((f) => f.type === FileType.File && !f.name.includes('/'))
    .map((f) => ({ name: f.name, size: f.size, ...(f.modifiedAt ? { mtime: f.modifiedAt } : {}) }))
}
