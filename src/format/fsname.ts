// File names are bytes; JavaScript strings are UTF-16. A name that is not
// valid UTF-8 is carried in a string by Python's "surrogateescape" mapping
// (PEP 383): each octet 0x80-0xff that is not part of a valid UTF-8 sequence
// becomes the lone surrogate U+DC80-U+DCFF. The mapping is one to one, since
// valid UTF-8 never decodes to a lone surrogate, so a name survives
// scan -> stream -> restore exactly (backtory-stream(5), CONVENTIONS).
import { isUtf8 } from 'node:buffer'

const ESCAPED = /[\udc80-\udcff]/

/** The string for a name's octets: UTF-8 where it is valid, U+DC80+octet where it is not. */
export function fsToName(b: Buffer): string {
  if (isUtf8(b)) return b.toString('utf8')
  let out = ''
  let i = 0
  while (i < b.length) {
    const n = sequenceLength(b, i)
    if (n === 0) {
      out += String.fromCharCode(0xdc00 + b[i]!)
      i++
    } else {
      out += b.toString('utf8', i, i + n)
      i += n
    }
  }
  return out
}

/** The exact octets of a name, for fs calls: the string itself when it holds no escaped octet. */
export function nameToFs(s: string): string | Buffer {
  return ESCAPED.test(s) ? nameBytes(s) : s
}

/** The octets of a name as a Buffer (escaped octets restored). */
export function nameBytes(s: string): Buffer {
  if (!ESCAPED.test(s)) return Buffer.from(s, 'utf8')
  const parts: Buffer[] = []
  let run = ''
  for (const ch of s) {
    const c = ch.charCodeAt(0)
    if (ch.length === 1 && c >= 0xdc80 && c <= 0xdcff) {
      if (run) parts.push(Buffer.from(run, 'utf8'))
      run = ''
      parts.push(Buffer.of(c - 0xdc00))
    } else {
      run += ch
    }
  }
  if (run) parts.push(Buffer.from(run, 'utf8'))
  return Buffer.concat(parts)
}

/** True when the name holds an escaped octet, that is, its octets are not UTF-8. */
export function isBinaryName(s: string): boolean {
  return ESCAPED.test(s)
}

/** Length of the valid UTF-8 sequence at b[i] (RFC 3629: no overlong form, no surrogate, at most U+10FFFF), or 0. */
function sequenceLength(b: Buffer, i: number): number {
  const c = b[i]!
  if (c < 0x80) return 1
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80
    const hi = c === 0xed ? 0x9f : 0xbf
    return cont(1, lo, hi) && cont(2) ? 3 : 0
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80
    const hi = c === 0xf4 ? 0x8f : 0xbf
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0
  }
  return 0
}
