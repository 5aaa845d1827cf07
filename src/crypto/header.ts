// The text parts of a sealed archive (backtory-seal(5)): the header, the
// signature line after it, and the end line of the trailer. Pure codecs over
// buffers; decoding is strict, so every accepted header has one encoding.
import { SealHeaderError } from '../errors.js'

export const MAGIC = 'backtory-seal/v1'
export const COMPRESSIONS = ['zstd', 'gzip', 'none'] as const
export type Compression = (typeof COMPRESSIONS)[number]
export type SignerAlg = 'ed25519' | 'rsa-pss-sha256'

/** The largest header accepted, magic to blank line: 64 recipients of RSA-8192 fit. */
export const MAX_HEADER = 1 << 16
/** The largest signature line accepted ("sig: " base64 LF): an RSA-16384 signature fits. */
export const MAX_SIG_LINE = 2800
/** "end: " 64 hex digits, a space, 20 decimal digits, LF. */
export const END_LINE = 91
export const MIN_CHUNK = 64
export const MAX_CHUNK = 1 << 22
export const MIN_LOG_N = 10
export const MAX_LOG_N = 22

export interface RsaStanza { type: 'rsa-oaep-sha256'; fingerprint: string; wrapped: Buffer }
export interface ScryptStanza { type: 'scrypt'; salt: Buffer; logN: number; r: number; p: number; wrapped: Buffer }
export type Stanza = RsaStanza | ScryptStanza

export interface SealHeader {
  id: string
  set: string
  kind: string
  time: string
  base?: string
  compress: Compression
  chunk: number
  stanzas: Stanza[]
  signer: { alg: SignerAlg; fingerprint: string }
}

const TOKEN = /^[\x21-\x7e]{1,255}$/
const SET = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
const FPR = /^[0-9a-f]{64}$/
const DEC = /^(0|[1-9][0-9]{0,9})$/

export function checkToken(what: string, v: string): string {
  if (!TOKEN.test(v)) throw new SealHeaderError(`${what} ${JSON.stringify(v)} is not 1 to 255 printable ASCII characters without spaces`)
  return v
}

export function checkSet(v: string): string {
  if (!SET.test(v)) throw new SealHeaderError(`set ${JSON.stringify(v)} is not 1 to 64 of A-Z a-z 0-9 . _ - (starting with a letter or digit)`)
  return v
}

export function checkChunk(n: number): number {
  if (!Number.isInteger(n) || n < MIN_CHUNK || n > MAX_CHUNK || (n & (n - 1)) !== 0) {
    throw new SealHeaderError(`chunk size ${n} is not a power of two from ${MIN_CHUNK} to ${MAX_CHUNK}`)
  }
  return n
}

/** Canonical base64 (RFC 4648, padded): decodes only what encodes back to the same text. */
export function b64(s: string, what: string): Buffer {
  const b = Buffer.from(s, 'base64')
  if (s === '' || b.toString('base64') !== s) throw new SealHeaderError(`${what} is not canonical base64`)
  return b
}

export function encodeHeader(h: SealHeader): Buffer {
  const lines = [MAGIC, `id: ${checkToken('id', h.id)}`, `set: ${checkSet(h.set)}`, `kind: ${checkToken('kind', h.kind)}`,
    `time: ${checkToken('time', h.time)}`]
  if (h.base !== undefined) lines.push(`base: ${checkToken('base', h.base)}`)
  lines.push(`compress: ${h.compress}`, `chunk: ${checkChunk(h.chunk)}`)
  for (const s of h.stanzas) {
    lines.push(s.type === 'scrypt'
      ? `scrypt: ${s.salt.toString('base64')} ${s.logN} ${s.r} ${s.p} ${s.wrapped.toString('base64')}`
      : `recipient: ${s.type} ${s.fingerprint} ${s.wrapped.toString('base64')}`)
  }
  lines.push(`signer: ${h.signer.alg} ${h.signer.fingerprint}`, '', '')
  return Buffer.from(lines.join('\n'), 'latin1')
}

function decodeStanza(name: string, value: string): Stanza {
  const w = value.split(' ')
  if (name === 'recipient') {
    if (w.length !== 3 || w[0] !== 'rsa-oaep-sha256') throw new SealHeaderError(`recipient ${JSON.stringify(value.slice(0, 80))} is not "rsa-oaep-sha256 FINGERPRINT KEY"`)
    if (!FPR.test(w[1]!)) throw new SealHeaderError('recipient fingerprint is not 64 lowercase hex digits')
    return { type: 'rsa-oaep-sha256', fingerprint: w[1]!, wrapped: b64(w[2]!, 'wrapped key') }
  }
  if (w.length !== 5 || !w.slice(1, 4).every((x) => DEC.test(x))) throw new SealHeaderError('scrypt stanza is not "SALT LOGN R P KEY"')
  const [logN, r, p] = w.slice(1, 4).map(Number) as [number, number, number]
  const salt = b64(w[0]!, 'scrypt salt')
  const wrapped = b64(w[4]!, 'wrapped key')
  if (salt.length !== 16) throw new SealHeaderError(`scrypt salt has ${salt.length} bytes, not 16`)
  if (logN < MIN_LOG_N || logN > MAX_LOG_N) throw new SealHeaderError(`scrypt log2(N) ${logN} is outside ${MIN_LOG_N}..${MAX_LOG_N}`)
  if (r !== 8 || p !== 1) throw new SealHeaderError(`scrypt r=${r} p=${p}: only r=8 p=1 are allowed`)
  if (wrapped.length !== 48) throw new SealHeaderError(`scrypt-wrapped key has ${wrapped.length} bytes, not 48`)
  return { type: 'scrypt', salt, logN, r, p, wrapped }
}

/** Decodes a header: `bytes` runs from the magic line to the blank line inclusive. */
export function decodeHeader(bytes: Buffer): SealHeader {
  if (bytes.some((b) => b > 0x7e || (b < 0x20 && b !== 0x0a))) throw new SealHeaderError('it holds a byte that is not printable ASCII')
  const lines = bytes.toString('latin1').split('\n')
  if (lines[0] !== MAGIC) throw new SealHeaderError(`unknown version line ${JSON.stringify(lines[0])}`)
  if (lines.length < 3 || lines[lines.length - 1] !== '' || lines[lines.length - 2] !== '') throw new SealHeaderError('it does not end with a blank line')
  const fields: Array<[string, string]> = []
  for (const l of lines.slice(1, -2)) {
    const m = /^([a-z]+): (.+)$/.exec(l)
    if (!m) throw new SealHeaderError(`line ${JSON.stringify(l.slice(0, 80))} is not "name: value"`)
    fields.push([m[1]!, m[2]!])
  }
  let i = 0
  const take = (name: string, optional = false): string | undefined => {
    if (fields[i]?.[0] === name) return fields[i++]![1]
    if (optional) return undefined
    throw new SealHeaderError(fields[i] ? `expected "${name}:", found "${fields[i]![0]}:"` : `"${name}:" is missing`)
  }
  const id = checkToken('id', take('id')!)
  const set = checkSet(take('set')!)
  const kind = checkToken('kind', take('kind')!)
  const time = checkToken('time', take('time')!)
  const base = take('base', true)
  const compress = take('compress')! as Compression
  if (!COMPRESSIONS.includes(compress)) throw new SealHeaderError(`unknown compression ${JSON.stringify(compress)}`)
  const chunkText = take('chunk')!
  if (!DEC.test(chunkText)) throw new SealHeaderError(`chunk size ${JSON.stringify(chunkText)} is not a decimal number`)
  const chunk = checkChunk(Number(chunkText))
  const stanzas: Stanza[] = []
  while (fields[i]?.[0] === 'recipient' || fields[i]?.[0] === 'scrypt') stanzas.push(decodeStanza(fields[i]![0], fields[i++]![1]))
  if (stanzas.length === 0) throw new SealHeaderError('no recipient or scrypt stanza')
  if (stanzas.some((s) => s.type === 'scrypt') && stanzas.length > 1) throw new SealHeaderError('an scrypt stanza must be the only one')
  const signer = take('signer')!.split(' ')
  if (signer.length !== 2 || (signer[0] !== 'ed25519' && signer[0] !== 'rsa-pss-sha256') || !FPR.test(signer[1]!)) {
    throw new SealHeaderError('signer is not "ed25519 FINGERPRINT" or "rsa-pss-sha256 FINGERPRINT"')
  }
  if (i !== fields.length) throw new SealHeaderError(`unexpected field "${fields[i]![0]}:"`)
  const h: SealHeader = {
    id, set, kind, time, ...(base !== undefined ? { base: checkToken('base', base) } : {}), compress, chunk, stanzas,
    signer: { alg: signer[0] as SignerAlg, fingerprint: signer[1]! },
  }
  if (!encodeHeader(h).equals(bytes)) throw new SealHeaderError('it is not in canonical form')
  return h
}

export function encodeSigLine(sig: Buffer): Buffer {
  return Buffer.from(`sig: ${sig.toString('base64')}\n`, 'latin1')
}

export function decodeSigLine(line: Buffer, what: string): Buffer {
  const s = line.toString('latin1')
  const m = /^sig: ([A-Za-z0-9+/=]+)\n$/.exec(s)
  if (!m) throw new SealHeaderError(`the ${what} signature line is malformed`)
  return b64(m[1]!, `the ${what} signature`)
}

export function encodeEndLine(digest: Buffer, length: number): Buffer {
  return Buffer.from(`end: ${digest.toString('hex')} ${String(length).padStart(20, '0')}\n`, 'latin1')
}

/** The end line's digest (hex) and length, or undefined when the bytes are not an end line. */
export function decodeEndLine(line: Buffer): { digest: string; length: number } | undefined {
  const m = /^end: ([0-9a-f]{64}) ([0-9]{20})\n$/.exec(line.toString('latin1'))
  if (!m || line.length !== END_LINE) return undefined
  const length = Number(m[2])
  return Number.isSafeInteger(length) ? { digest: m[1]!, length } : undefined
}
