// Pure codec for the two tar building blocks backtory uses: the 512-byte ustar
// header and the pax extended-header body. No I/O; the reader and writer own that.
import { FrameError, FrameSizeError, type Place } from '../errors.js'
import { fsToName, nameBytes } from './fsname.js'

export const BLOCK = 512
export const ZERO_BLOCK = Buffer.alloc(BLOCK)

export type Typeflag = '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'x' | 'g'

export interface Ustar {
  name: string
  mode: number
  uid: number
  gid: number
  size: number
  mtime: number
  typeflag: string
  linkname: string
  uname: string
  gname: string
  devmajor: number
  devminor: number
}

/** Field offsets and widths of POSIX ustar (pax interchange format). */
const F = {
  name: [0, 100], mode: [100, 8], uid: [108, 8], gid: [116, 8], size: [124, 12], mtime: [136, 12],
  chksum: [148, 8], typeflag: [156, 1], linkname: [157, 100], magic: [257, 6], version: [263, 2],
  uname: [265, 32], gname: [297, 32], devmajor: [329, 8], devminor: [337, 8], prefix: [345, 155],
} as const

function putString(b: Buffer, [off, len]: readonly [number, number], s: string | Buffer): void {
  // Overlong values are cut here on purpose: the pax record carries the real one.
  // Names travel as their octets (fsname.ts): a non-UTF-8 name is written as it is.
  if (typeof s === 'string' && putAscii(b, off, s, len) >= 0) return
  const bytes = typeof s === 'string' ? nameBytes(s) : s
  bytes.copy(b, off, 0, Math.min(len, bytes.length))
}

/**
 * Writes the first `max` characters of `s` at b[off] when `s` is all ASCII
 * (one octet a character) and returns how many; -1, writing nothing, when it
 * is not. Most names and every number are ASCII, and a loop is cheaper than
 * making a Buffer of each.
 */
export function putAscii(b: Buffer, off: number, s: string, max = s.length): number {
  const n = s.length
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return -1
  const k = n < max ? n : max
  for (let i = 0; i < k; i++) b[off + i] = s.charCodeAt(i)
  return k
}

function putOctal(b: Buffer, [off, len]: readonly [number, number], n: number): void {
  // Values too large for the field are clamped; the pax record carries the real one.
  const max = 8 ** (len - 1) - 1
  let v = Math.min(Math.max(0, Math.trunc(n)), max)
  if (Number.isNaN(v)) {
    b.write(v.toString(8).padStart(len - 1, '0'), off, len - 1, 'ascii')
  } else {
    for (let i = off + len - 2; i >= off; i--) {
      b[i] = 0x30 + (v % 8)
      v = Math.floor(v / 8)
    }
  }
  b[off + len - 1] = 0
}

function getString(b: Buffer, [off, len]: readonly [number, number]): string {
  const limit = off + len
  let end = off
  let ascii = true
  for (; end < limit; end++) {
    const c = b[end]!
    if (c === 0) break
    if (c >= 0x80) ascii = false
  }
  if (end === off) return ''
  // Most names are ASCII: no UTF-8 check needed, and latin1 is the cheapest decoder.
  return ascii ? b.toString('latin1', off, end) : fsToName(b.subarray(off, end))
}

const SP = 0x20

function getOctal(b: Buffer, [off, len]: readonly [number, number], field: string): number {
  if (b[off]! & 0x80) {
    // GNU base-256: accepted for reading so that GNU tar output of huge values parses.
    if (b[off]! & 0x40) throw new FrameError('ustar header', `field ${field} is negative`)
    let n = 0
    for (let i = off + 1; i < off + len; i++) n = n * 256 + b[i]!
    return n
  }
  // Tolerance (backtory-stream(5), READING RULES): leading spaces, then octal
  // digits, then any mix of NULs and spaces to the end; no digit at all is 0.
  const end = off + len
  let i = off
  while (i < end && b[i] === SP) i++
  let n = 0
  for (; i < end; i++) {
    const c = b[i]!
    if (c < 0x30 || c > 0x37) break
    n = n * 8 + (c - 0x30)
  }
  for (; i < end; i++) if (b[i] !== 0 && b[i] !== SP) throw new FrameError('ustar header', `field ${field} is not octal`)
  return n
}

/** Rewrites the chksum field of a 512-byte header after its other fields were set (or edited). */
export function setChecksum(b: Buffer): Buffer {
  b.write(`${checksum(b).toString(8).padStart(6, '0')}\0 `, F.chksum[0], 8, 'ascii')
  return b
}

function checksum(b: Buffer): number {
  let sum = 8 * 0x20 // the chksum field counts as eight spaces
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += b[i]!
  return sum
}

/**
 * Splits a path into ustar prefix/name when it fits, so pax-unaware readers
 * still see it: at the leftmost slash whose prefix fits 155 octets and whose
 * non-empty rest fits 100 (backtory-stream(5), FRAMING). Else the name field
 * holds the first 100 octets and the prefix stays empty.
 */
export function splitName(path: string): [Buffer, Buffer] {
  const bytes = nameBytes(path)
  if (bytes.length <= 100) return [Buffer.alloc(0), bytes]
  for (let i = bytes.indexOf(0x2f); i !== -1; i = bytes.indexOf(0x2f, i + 1)) {
    if (i <= 155 && bytes.length - i - 1 <= 100 && i + 1 < bytes.length) return [bytes.subarray(0, i), bytes.subarray(i + 1)]
    if (i > 155) break
  }
  return [Buffer.alloc(0), bytes]
}

/**
 * A ustar header block. `into`, when given, is a zeroed 512-byte block to
 * fill (a slice of a frame's buffer), which saves a copy.
 */
export function encodeUstar(h: Ustar, into?: Buffer): Buffer {
  const b = into ?? Buffer.allocUnsafe(BLOCK).fill(0) // from the shared slab: a header per entry must not cost an ArrayBuffer each
  // An ASCII name of up to 100 octets goes as it is (splitName would not split it).
  if (h.name.length > 100 || putAscii(b, F.name[0], h.name) < 0) {
    const [prefix, name] = splitName(h.name)
    putString(b, F.name, name)
    putString(b, F.prefix, prefix)
  }
  putOctal(b, F.mode, h.mode & 0o7777)
  putOctal(b, F.uid, h.uid)
  putOctal(b, F.gid, h.gid)
  putOctal(b, F.size, h.size)
  putOctal(b, F.mtime, h.mtime)
  b.write(h.typeflag, F.typeflag[0], 1, 'ascii')
  if (h.linkname !== '') putString(b, F.linkname, h.linkname)
  putAscii(b, F.magic[0], 'ustar\x0000')
  if (h.uname !== '') putString(b, F.uname, h.uname)
  if (h.gname !== '') putString(b, F.gname, h.gname)
  putOctal(b, F.devmajor, h.devmajor)
  putOctal(b, F.devminor, h.devminor)
  return setChecksum(b)
}

export function decodeUstar(b: Buffer, where: Place): Ustar {
  const stored = getOctal(b, F.chksum, 'chksum')
  if (stored !== checksum(b)) throw new FrameError(where, 'ustar header checksum mismatch')
  // "ustar\0" (POSIX) or "ustar " (GNU, whose prefix area holds other things).
  const m = F.magic[0]
  if (b[m] !== 0x75 || b[m + 1] !== 0x73 || b[m + 2] !== 0x74 || b[m + 3] !== 0x61 || b[m + 4] !== 0x72 || (b[m + 5] !== 0 && b[m + 5] !== SP)) {
    throw new FrameError(where, 'not a ustar header')
  }
  const prefix = b[m + 5] === 0 ? getString(b, F.prefix) : ''
  const name = getString(b, F.name)
  const tf = b[F.typeflag[0]]!
  return {
    name: prefix ? `${prefix}/${name}` : name,
    mode: getOctal(b, F.mode, 'mode'),
    uid: getOctal(b, F.uid, 'uid'),
    gid: getOctal(b, F.gid, 'gid'),
    size: getOctal(b, F.size, 'size'),
    mtime: getOctal(b, F.mtime, 'mtime'),
    typeflag: tf === 0 ? '0' : TYPEFLAG_CHAR[tf] ?? String.fromCharCode(tf),
    linkname: getString(b, F.linkname),
    uname: getString(b, F.uname),
    gname: getString(b, F.gname),
    devmajor: getOctal(b, F.devmajor, 'devmajor'),
    devminor: getOctal(b, F.devminor, 'devminor'),
  }
}

/** One-character strings for the typeflag octets, made once. */
const TYPEFLAG_CHAR: string[] = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c))

export function isZeroBlock(b: Buffer): boolean {
  return b.equals(ZERO_BLOCK)
}

/** Bytes needed to pad `size` up to a whole block. */
export function padding(size: number): number {
  const r = size % BLOCK
  return r === 0 ? 0 : BLOCK - r
}

export type PaxRecords = Map<string, Buffer>

/** Encodes pax records "<len> <key>=<value>\n"; values are raw bytes (xattrs need that). */
export function encodePax(records: Iterable<[string, string | Buffer]>): Buffer {
  const list = Array.isArray(records) ? records as Array<[string, string | Buffer]> : [...records]
  const out = Buffer.allocUnsafe(paxLength(list))
  writePax(out, 0, list)
  return out
}

/** The length of encodePax(records). */
export function paxLength(records: Array<[string, string | Buffer]>): number {
  let total = 0
  for (const [key, value] of records) total += recordLength(key, value)
  return total
}

function recordLength(key: string, value: string | Buffer): number {
  const rest = Buffer.byteLength(key) + (typeof value === 'string' ? Buffer.byteLength(value) : value.length) + 3 // ' ' '=' '\n'
  const len = rest + digits(rest)
  return digits(len) === digits(rest) ? len : rest + digits(len)
}

function digits(n: number): number {
  let d = 1
  for (let x = n; x >= 10; x = Math.floor(x / 10)) d++
  return d
}

/** Writes encodePax(records) into out at off, in one pass and no Buffer per record; returns the end. */
export function writePax(out: Buffer, off: number, records: Array<[string, string | Buffer]>): number {
  for (const [key, value] of records) {
    const len = recordLength(key, value)
    off += putAscii(out, off, String(len))
    out[off++] = 0x20
    const k = putAscii(out, off, key)
    off += k >= 0 ? k : out.write(key, off, 'utf8')
    out[off++] = 0x3d
    if (typeof value !== 'string') off += value.copy(out, off)
    else {
      const v = putAscii(out, off, value)
      off += v >= 0 ? v : out.write(value, off, 'utf8')
    }
    out[off++] = 0x0a
  }
  return off
}

export function decodePax(body: Buffer, where: Place): PaxRecords {
  const out: PaxRecords = new Map()
  let off = 0
  while (off < body.length) {
    // "<len> ": a decimal length without a leading zero, at most 20 digits.
    let len = 0
    let sp = off
    for (; sp < body.length && sp - off <= 20; sp++) {
      const c = body[sp]!
      if (c === 0x20) break
      len = len * 10 + (c - 0x30)
      if (c < 0x30 || c > 0x39 || (sp === off && c === 0x30)) len = NaN
    }
    if (sp >= body.length || body[sp] !== 0x20 || sp - off > 20) throw new FrameError(where, 'pax record without a length')
    if (sp === off || Number.isNaN(len)) throw new FrameError(where, `pax record length ${JSON.stringify(body.toString('ascii', off, sp))}`)
    const end = off + len
    if (end > body.length || body[end - 1] !== 0x0a) throw new FrameError(where, 'pax record overruns its header')
    let eq = sp + 1
    let ascii = true
    let nul = false
    for (; eq < end; eq++) {
      const c = body[eq]!
      if (c === 0x3d) break
      if (c === 0) nul = true
      else if (c >= 0x80) ascii = false
    }
    if (eq >= end) throw new FrameError(where, 'pax record without "="')
    if (eq === sp + 1) throw new FrameError(where, 'pax record with an empty key')
    if (nul) throw new FrameError(where, 'pax key holds a NUL octet')
    const key = ascii ? body.toString('latin1', sp + 1, eq) : body.toString('utf8', sp + 1, eq)
    // Later records override earlier ones, as POSIX says.
    out.set(key, body.subarray(eq + 1, end - 1))
    off = end
  }
  return out
}

export function checkPaxSize(size: number, limit: number): void {
  if (size > limit) throw new FrameSizeError('pax extended header', size, limit)
}
