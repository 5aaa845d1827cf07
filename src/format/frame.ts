// The typed view of a backtory stream. Every `BACKTORY.*` key is decoded here,
// once, into the Frame union; nothing else in the code looks at pax keys or names.
import { FrameError, type Place } from '../errors.js'
import { fsToName, isBinaryName, nameBytes } from './fsname.js'
import { type PaxRecords, type Ustar } from './tarblock.js'

/** The version writers write; readers read every one of READ_VERSIONS (backtory-stream(5), VERSIONING). */
export const STREAM_VERSION = '2'
export const READ_VERSIONS: readonly string[] = ['1', '2']
const MAX_OCTAL_SIZE = 0o77777777777

export interface Time {
  sec: number
  nsec: number
}

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'chardev' | 'blockdev' | 'directory' | 'fifo'

export interface EntryMeta {
  /** Relative to the scanned root; "." is the root itself; never a trailing slash. */
  path: string
  type: EntryType
  /** Permission bits including setuid, setgid and sticky (07777). */
  mode: number
  uid: number
  gid: number
  uname: string
  gname: string
  mtime: Time
  ctime?: Time
  /** Logical size of a regular file; 0 for every other type. */
  size: number
  linkpath?: string
  devmajor?: number
  devminor?: number
  ino?: string
  dev?: string
  xattrs: Array<[string, Buffer]>
  /** star-format ACL text for GNU tar and bsdtar (SCHILY.acl.*); written, never read back. */
  tarAcl?: { access?: string; default?: string }
  /** Set only in quick and diff streams; see EntryOp. */
  op?: EntryOp
  /** op "delta": bytes of delta data that follow; meta.size stays the new file's size. */
  deltaSize?: number
  /** op "delta": SHA-256 (hex) the base file must have; op "copy": of the source. */
  baseSha256?: string
  /** ops "delta" and "copy": SHA-256 (hex) of the resulting content. */
  sha256?: string
  /** op "copy": the path in the full whose content this file has. */
  from?: string
  /** Data segments [offset, length] of a sparse file; everything else is a hole. */
  sparse?: Array<[number, number]>
  /**
   * Set by the reader on a captured file (backtory-stream(5), CAPTURES): a run
   * of parts handed on as one entry. Its `parts`, and the entry's `size`, grow
   * as the body is read and are final once the body has been read to its end
   * or the next frame has been pulled. Writers ignore it.
   */
  capture?: { parts: number }
}

/** One part of a captured file, as StreamEncoder.entry writes it (backtory-stream(5), CAPTURES). */
export interface CapturePart {
  /** 0 for the first part. */
  index: number
  /** Another part follows: true on every part but the last. */
  more: boolean
}

/** The part size a writer uses: every part but the last holds exactly this many bytes. */
export const PART_SIZE = 4 << 20

export interface StreamInfo {
  version: string
  producer: string
  host: string
  source: string
  /** What the stream holds: "full" for a complete tree. */
  stream: string
  time: string
  id: string
  /** "quick" and "diff" streams: the id of the full they were made against. */
  base?: string
  /** "diff" streams: the digest of that full's index, as bt-delta recorded it. */
  baseIndex?: string
  /**
   * Version 2 quick and diff streams: what a path of the base that the stream
   * does not list is. Absent means "deleted", the only meaning of version 1.
   */
  unlisted?: Unlisted
}

export type Unlisted = 'deleted' | 'unchanged'
export const UNLISTED: readonly string[] = ['deleted', 'unchanged']

/** Stream kinds: a complete tree; a scan that marked quick-checked files unchanged; a differential. */
export const STREAM_KINDS = ['full', 'quick', 'diff'] as const

/**
 * How a differential (or quick) entry relates to the full: absent means the
 * content is here in full (a literal); the others carry no plain content.
 * "deleted" (version 2 diffs) names a path of the base that no longer exists.
 */
export type EntryOp = 'unchanged' | 'meta' | 'delta' | 'copy' | 'deleted'
const OPS_V1: readonly string[] = ['unchanged', 'meta', 'delta', 'copy']
const OPS_V2: readonly string[] = [...OPS_V1, 'deleted']

export interface HeaderFrame { kind: 'header'; info: StreamInfo }
export interface EntryFrame {
  kind: 'entry'
  meta: EntryMeta
  /** The content of a regular file (holes excluded), to be read before the next frame. */
  body: AsyncIterable<Buffer>
}
export interface IncompleteFrame { kind: 'incomplete'; path: string; reason: string }
export interface TrailerFrame {
  kind: 'trailer'
  entries: number
  bytes: number
  chain: string
  incomplete: number
}
export type Frame = HeaderFrame | EntryFrame | IncompleteFrame | TrailerFrame

const TYPEFLAG: Record<EntryType, string> = {
  file: '0', hardlink: '1', symlink: '2', chardev: '3', blockdev: '4', directory: '5', fifo: '6',
}
const TYPE_OF: Record<string, EntryType> = Object.fromEntries(
  Object.entries(TYPEFLAG).map(([t, f]) => [f, t as EntryType]))

export function typeflagOf(type: EntryType): string {
  return TYPEFLAG[type]
}

/** pax time text. Time is floor-seconds plus nanoseconds, so -1.5 s is {sec: -2, nsec: 5e8} and prints "-1.500000000". */
export function formatTime(t: Time): string {
  if (t.nsec === 0) return String(t.sec)
  if (t.sec < 0) return `-${-t.sec - 1}.${String(1_000_000_000 - t.nsec).padStart(9, '0')}`
  return `${t.sec}.${String(t.nsec).padStart(9, '0')}`
}

export function parseTime(s: string, where: Place): Time {
  const m = /^(-?)(0|[1-9][0-9]{0,15})(?:\.([0-9]{1,9})[0-9]*)?$/.exec(s)
  if (!m) throw new FrameError(where, `bad time ${JSON.stringify(s)}`)
  const whole = Number(m[2])
  const frac = m[3] ? Number(m[3].padEnd(9, '0')) : 0
  if (m[1] !== '-') return { sec: whole, nsec: frac }
  return frac === 0 ? { sec: -whole, nsec: 0 } : { sec: -whole - 1, nsec: 1_000_000_000 - frac }
}

/**
 * parseTime of a record's octets. The common form (non-negative seconds, up
 * to 9 fractional digits) is read from the bytes; anything else goes the
 * long way, which also makes the error message.
 */
function timeOfBytes(b: Buffer, where: Place): Time {
  const n = b.length
  let i = 0
  let sec = 0
  for (; i < n && i < 16; i++) {
    const c = b[i]!
    if (c < 0x30 || c > 0x39) break
    sec = sec * 10 + (c - 0x30)
  }
  if (i === 0 || (i > 1 && b[0] === 0x30)) return parseTime(b.toString('utf8'), where)
  if (i === n) return { sec, nsec: 0 }
  if (b[i] !== 0x2e || i + 1 === n) return parseTime(b.toString('utf8'), where)
  let nsec = 0
  let k = 0
  for (i++; i < n; i++, k++) {
    const c = b[i]!
    if (c < 0x30 || c > 0x39) return parseTime(b.toString('utf8'), where)
    if (k < 9) nsec = nsec * 10 + (c - 0x30)
  }
  for (; k < 9; k++) nsec *= 10
  return { sec, nsec }
}

/** The pax records of an entry, in a fixed order so that output is deterministic. */
export function entryRecords(meta: EntryMeta, stored: number, chain: string, part?: CapturePart): Array<[string, string | Buffer]> {
  const r: Array<[string, string | Buffer]> = []
  // The ustar size field ends at 8 GiB - 1; beyond that only the pax record holds the truth.
  if (stored > MAX_OCTAL_SIZE) r.push(['size', String(stored)])
  // A name that is not UTF-8 is written as its octets, and said so (POSIX hdrcharset).
  if (isBinaryName(meta.path) || (meta.linkpath !== undefined && isBinaryName(meta.linkpath))) r.push(['hdrcharset', 'BINARY'])
  if (meta.sparse) {
    r.push(['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0'],
      ['GNU.sparse.name', nameBytes(meta.path)], ['GNU.sparse.realsize', String(meta.size)])
  } else {
    // Directories keep tar's trailing slash, so `tar -t` shows them as tar would.
    r.push(['path', nameBytes(meta.type === 'directory' ? `${meta.path}/` : meta.path)])
  }
  if (meta.linkpath !== undefined) r.push(['linkpath', nameBytes(meta.linkpath)])
  r.push(['uid', String(meta.uid)], ['gid', String(meta.gid)])
  if (Buffer.byteLength(meta.uname) > 31) r.push(['uname', meta.uname])
  if (Buffer.byteLength(meta.gname) > 31) r.push(['gname', meta.gname])
  r.push(['mtime', formatTime(meta.mtime)])
  if (meta.ctime) r.push(['BACKTORY.ctime', formatTime(meta.ctime)])
  if (part) {
    r.push(['BACKTORY.part', String(part.index)])
    if (part.more) r.push(['BACKTORY.more', '1'])
  }
  if (meta.op) {
    r.push(['BACKTORY.op', meta.op])
    if (meta.op !== 'deleted') r.push(['BACKTORY.size', String(meta.size)])
    if (meta.baseSha256) r.push(['BACKTORY.base-sha256', meta.baseSha256])
    if (meta.sha256) r.push(['BACKTORY.sha256', meta.sha256])
    if (meta.from !== undefined) r.push(['BACKTORY.from', nameBytes(meta.from)])
  }
  if (meta.dev !== undefined) r.push(['BACKTORY.dev', meta.dev])
  if (meta.ino !== undefined) r.push(['BACKTORY.ino', meta.ino])
  for (const [name, value] of meta.xattrs) r.push([`SCHILY.xattr.${escapeKey(name)}`, value])
  if (meta.tarAcl?.access) r.push(['SCHILY.acl.access', meta.tarAcl.access])
  if (meta.tarAcl?.default) r.push(['SCHILY.acl.default', meta.tarAcl.default])
  r.push(['BACKTORY.chain', chain])
  return r
}

/** A pax key cannot hold "="; GNU tar's escapes: "%" as %25, "=" as %3D. */
export function escapeKey(name: string): string {
  return name.replace(/%/g, '%25').replace(/=/g, '%3D')
}

export function unescapeKey(key: string): string {
  return key.replace(/%3D/g, '=').replace(/%25/g, '%')
}

export function text(pax: PaxRecords, key: string): string | undefined {
  return pax.get(key)?.toString('utf8')
}

/** A path-valued record: its octets as a name (fsname.ts), with or without hdrcharset=BINARY. */
export function nameOf(pax: PaxRecords, key: string): string | undefined {
  const v = pax.get(key)
  return v === undefined ? undefined : fsToName(v)
}

export function int(pax: PaxRecords, key: string, fallback: number, where: Place): number {
  const v = pax.get(key)
  if (v === undefined) return fallback
  const n = decimal(v, 16)
  if (n < 0 || !Number.isSafeInteger(n)) throw new FrameError(where, `bad ${key} ${JSON.stringify(v.toString('utf8'))}`)
  return n
}

/** The value of decimal digits without a leading zero (at most `max` of them), or -1. */
function decimal(b: Buffer, max: number): number {
  const n = b.length
  if (n === 0 || n > max || (n > 1 && b[0] === 0x30)) return -1
  let v = 0
  for (let i = 0; i < n; i++) {
    const c = b[i]!
    if (c < 0x30 || c > 0x39) return -1
    v = v * 10 + (c - 0x30)
  }
  return v
}

export function decodeEntry(u: Ustar, pax: PaxRecords, where: Place, version = STREAM_VERSION): EntryMeta {
  const type = TYPE_OF[u.typeflag]
  if (!type) throw new FrameError(where, `unsupported tar entry type ${JSON.stringify(u.typeflag)}`)
  const sparse = text(pax, 'GNU.sparse.major') !== undefined
  if (sparse && (text(pax, 'GNU.sparse.major') !== '1' || text(pax, 'GNU.sparse.minor') !== '0')) {
    throw new FrameError(where, 'only GNU sparse format 1.0 is supported')
  }
  if (sparse && !pax.has('GNU.sparse.realsize')) throw new FrameError(where, 'a sparse file without GNU.sparse.realsize')
  // A sparse file's GNU.sparse.name wins over any path record (GNU tar's rule).
  const rawPath = (sparse ? nameOf(pax, 'GNU.sparse.name') : undefined) ?? nameOf(pax, 'path') ?? u.name
  if (rawPath === '') throw new FrameError(where, 'an entry with an empty path')
  const path = rawPath.charCodeAt(rawPath.length - 1) !== 0x2f ? rawPath : rawPath.replace(/\/+$/, '') || (rawPath.startsWith('/') ? '/' : '.')
  if (path === '.' && type !== 'directory') throw new FrameError(where, `the root "." as a ${type}: the root is a directory`)
  const mtimeBytes = pax.get('mtime')
  const ctimeBytes = pax.get('BACKTORY.ctime')
  const xattrs: Array<[string, Buffer]> = []
  for (const [k, v] of pax) if (k.charCodeAt(0) === 0x53 && k.startsWith('SCHILY.xattr.')) xattrs.push([unescapeKey(k.slice(13)), v])
  const meta: EntryMeta = {
    path,
    type,
    mode: u.mode & 0o7777,
    uid: int(pax, 'uid', u.uid, where),
    gid: int(pax, 'gid', u.gid, where),
    uname: text(pax, 'uname') ?? u.uname,
    gname: text(pax, 'gname') ?? u.gname,
    mtime: mtimeBytes === undefined ? { sec: u.mtime, nsec: 0 } : timeOfBytes(mtimeBytes, where),
    size: type === 'file' ? (sparse ? int(pax, 'GNU.sparse.realsize', 0, where) : storedSize(u, pax, where)) : 0,
    xattrs,
  }
  if (ctimeBytes !== undefined) meta.ctime = timeOfBytes(ctimeBytes, where)
  const linkpath = nameOf(pax, 'linkpath') ?? (u.linkname || undefined)
  if (type === 'symlink' || type === 'hardlink') {
    if (linkpath === undefined || linkpath === '') throw new FrameError(where, `${type} ${JSON.stringify(path)} without a target`)
    meta.linkpath = linkpath
  }
  if (type === 'chardev' || type === 'blockdev') {
    meta.devmajor = u.devmajor
    meta.devminor = u.devminor
  }
  const dev = devIno(pax, 'BACKTORY.dev', where)
  if (dev !== undefined) meta.dev = dev
  const ino = devIno(pax, 'BACKTORY.ino', where)
  if (ino !== undefined) meta.ino = ino
  if (sparse) meta.sparse = [] // filled from the map that opens the data
  const op = text(pax, 'BACKTORY.op')
  if (op !== undefined) {
    if (!(version === '1' ? OPS_V1 : OPS_V2).includes(op)) throw new FrameError(where, `unknown entry op ${JSON.stringify(op)}`)
    if (type !== 'file' || sparse) throw new FrameError(where, `op ${op} on a ${sparse ? 'sparse file' : type}`)
    meta.op = op as EntryOp
    if (op === 'deleted') {
      meta.size = 0
      const stored = storedSize(u, pax, where)
      if (stored !== 0) throw new FrameError(where, `op deleted with ${stored} bytes of data`)
      return meta
    }
    meta.size = int(pax, 'BACKTORY.size', -1, where)
    if (meta.size < 0) throw new FrameError(where, `op ${op} without BACKTORY.size`)
    const stored = storedSize(u, pax, where)
    if (op === 'delta') meta.deltaSize = stored
    else if (stored !== 0) throw new FrameError(where, `op ${op} with ${stored} bytes of data`)
    const hex = (key: string, need: boolean): string | undefined => {
      const v = text(pax, key)
      if (v === undefined && !need) return undefined
      if (v === undefined || !/^[0-9a-f]{64}$/.test(v)) throw new FrameError(where, `op ${op} needs ${key} as 64 hex digits`)
      return v
    }
    if (op === 'delta') meta.baseSha256 = hex('BACKTORY.base-sha256', true)
    if (op === 'delta' || op === 'copy') meta.sha256 = hex('BACKTORY.sha256', true)
    if (op === 'copy') {
      const from = nameOf(pax, 'BACKTORY.from')
      if (from === undefined) throw new FrameError(where, 'op copy without BACKTORY.from')
      meta.from = from
    }
  }
  return meta
}

/** BACKTORY.dev and BACKTORY.ino: decimal, but possibly above 2^53 - 1, so checked as text and kept as text. */
function devIno(pax: PaxRecords, key: string, where: Place): string | undefined {
  const v = pax.get(key)
  if (v === undefined) return undefined
  if (decimal(v, 20) < 0) throw new FrameError(where, `bad ${key} ${JSON.stringify(v.toString('utf8'))} (a decimal number)`)
  return v.toString('latin1')
}

/**
 * The part keys of an entry: undefined for an ordinary entry. Only a regular
 * file that is neither sparse nor a record may be a part.
 */
export function decodePart(pax: PaxRecords, meta: EntryMeta, where: Place): CapturePart | undefined {
  const more = text(pax, 'BACKTORY.more')
  if (!pax.has('BACKTORY.part')) {
    if (more !== undefined) throw new FrameError(where, 'BACKTORY.more without BACKTORY.part')
    return undefined
  }
  const index = int(pax, 'BACKTORY.part', 0, where)
  if (meta.type !== 'file' || meta.sparse || meta.op) {
    throw new FrameError(where, `BACKTORY.part on a ${meta.op ? `${meta.op} record` : meta.sparse ? 'sparse file' : meta.type}: only a plain regular file is a capture's part`)
  }
  if (more !== undefined && more !== '1') throw new FrameError(where, `bad BACKTORY.more ${JSON.stringify(more)} (only "1" is defined)`)
  return { index, more: more === '1' }
}

/** Bytes of data that follow the entry's ustar header (sparse map included). */
export function storedSize(u: Ustar, pax: PaxRecords, where: Place): number {
  return int(pax, 'size', u.size, where)
}

export function chainOf(pax: PaxRecords): string | undefined {
  return text(pax, 'BACKTORY.chain')
}
