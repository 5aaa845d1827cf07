// bt-open's engine (backtory-seal(5), "Reading"). A synchronous parser splits
// the archive into header, chunks and trailer and authenticates each chunk;
// openArchive drives it over an async source, checks the signatures, and hands
// on only authenticated plaintext. The final chunk's plaintext goes out only
// after the signed trailer verified.
import { createHash } from 'node:crypto'
import {
  BadSignatureError, ChunkAuthError, NotRecipientError, NotSealedError, PassphraseError, SealHeaderError,
  SealTrailingError, SealTruncatedError, UnknownSignerError,
} from '../errors.js'
import { END_LINE, MAGIC, MAX_HEADER, MAX_SIG_LINE, type SealHeader, decodeEndLine, decodeHeader, decodeSigLine } from './header.js'
import { scryptUnwrap } from './kdf.js'
import { type PrivateKey, type PublicKey, unwrapKey, verifyMessage } from './keys.js'
import { ByteQueue, TAG, diagnoseChunk, openChunk } from './seal.js'

export interface ParsedHeader {
  header: SealHeader
  /** The header's bytes, magic line to blank line: what the header signature signs. */
  text: Buffer
  sig: Buffer
  /** Header plus signature line. */
  length: number
}

export interface Trailer { endLine: Buffer; sig: Buffer; digest: string; length: number; actualDigest: string }

export class SealedParser {
  private readonly q = new ByteQueue()
  private readonly hash = createHash('sha256')
  private hashed = 0
  private counter = 0
  private key: Buffer | undefined
  private started = false
  parsed: ParsedHeader | undefined
  private trailerLength = 0

  push(b: Buffer): void {
    this.q.push(b)
  }

  private consume(n: number): Buffer {
    const b = this.q.take(n)
    this.hash.update(b)
    this.hashed += n
    return b
  }

  /** The header once all of it and its signature line are in; undefined while more input is needed. */
  header(eof = false): ParsedHeader | undefined {
    if (this.parsed) return this.parsed
    const buf = this.q.peekAll()
    const magic = Buffer.from(`${MAGIC}\n`)
    const n = Math.min(buf.length, magic.length)
    if (!buf.subarray(0, n).equals(magic.subarray(0, n)) || (eof && buf.length === 0)) {
      if (buf.subarray(0, 14).equals(magic.subarray(0, 14))) throw new SealHeaderError(`unsupported version ${JSON.stringify(buf.subarray(0, buf.indexOf(10) === -1 ? 40 : buf.indexOf(10)).toString('latin1'))} (this backtory reads ${MAGIC})`)
      throw new NotSealedError(buf.length === 0 ? 'the input is empty' : 'no backtory-seal/v1 line at its start')
    }
    const end = buf.indexOf('\n\n')
    if (end === -1 || end + 2 > MAX_HEADER) {
      if (buf.length >= MAX_HEADER) throw new SealHeaderError(`no blank line in the first ${MAX_HEADER} bytes`)
      if (eof) throw new SealTruncatedError(`it ends inside the header, after ${buf.length} bytes`)
      return undefined
    }
    const sigEnd = buf.indexOf('\n', end + 2)
    if (sigEnd === -1) {
      if (buf.length - end - 2 > MAX_SIG_LINE) throw new SealHeaderError('the header signature line is too long')
      if (eof) throw new SealTruncatedError(`it ends inside the header signature, after ${buf.length} bytes`)
      return undefined
    }
    const header = decodeHeader(buf.subarray(0, end + 2))
    const sigLine = buf.subarray(end + 2, sigEnd + 1)
    const sig = decodeSigLine(sigLine, 'header')
    const text = this.consume(end + 2)
    this.consume(sigLine.length)
    this.trailerLength = END_LINE + sigLine.length
    this.parsed = { header, text, sig, length: this.hashed }
    return this.parsed
  }

  /** Begins the payload; without a key (verify-only) chunks are split and hashed, not opened. */
  start(key: Buffer | undefined): void {
    this.key = key
    this.started = true
  }

  private sealedChunk(): number {
    return this.parsed!.header.chunk + TAG
  }

  /** Plaintexts of the non-final chunks now complete (empty buffers in verify-only mode). */
  chunks(): Buffer[] {
    const out: Buffer[] = []
    if (!this.started) return out
    const size = this.sealedChunk()
    // More than a full chunk plus the trailer is left, so the chunk at the head is not the final one.
    while (this.q.length > size + this.trailerLength) {
      const at = this.hashed
      const sealed = this.consume(size)
      const l = this.endLineIn(sealed, at)
      if (l !== -1) {
        throw new SealTrailingError(`data follows the trailer, which ends at byte ${at + l + this.trailerLength}`)
      }
      if (this.key) {
        const plain = openChunk(this.key, this.counter, false, sealed)
        if (!plain) this.fail(sealed, false, at)
        out.push(plain!)
      } else {
        out.push(Buffer.alloc(0))
      }
      this.counter++
    }
    return out
  }

  /** Where in `sealed` (which starts at byte `at`) an end line begins that says so itself; -1 when none does. */
  private endLineIn(sealed: Buffer, at: number): number {
    for (let l = sealed.indexOf('end: '); l !== -1; l = sealed.indexOf('end: ', l + 1)) {
      const line = l + END_LINE <= sealed.length ? sealed.subarray(l, l + END_LINE)
        : Buffer.concat([sealed.subarray(l), this.q.peek(l + END_LINE - sealed.length)])
      if (decodeEndLine(line)?.length === at + l) return l
    }
    return -1
  }

  private fail(sealed: Buffer, final: boolean, at: number): never {
    const why = diagnoseChunk(this.key!, this.counter, final, sealed)
    const where = ` (bytes ${at} to ${at + sealed.length - 1})`
    if (why.includes('cut short')) throw new SealTruncatedError(why)
    if (why.includes('more data follows')) throw new SealTrailingError(`${why}${where}`)
    throw new ChunkAuthError(`${why}${where}`)
  }

  /** At the end of input: the final chunk's plaintext and the trailer, found where its end line says it is. */
  end(): { final: Buffer; trailer: Trailer } {
    const rest = this.q.peekAll()
    const min = TAG + this.trailerLength
    const expected = rest.length - this.trailerLength
    let found = expected >= 0 && decodeEndLine(rest.subarray(expected, expected + END_LINE))?.length === this.hashed + expected
      ? expected : this.endLineIn(rest, this.hashed)
    if (found > this.sealedChunk()) found = -1
    if (found === -1) {
      if (this.key && rest.length >= TAG && openChunk(this.key, this.counter, false, rest.subarray(0, Math.min(rest.length, this.sealedChunk())))) {
        const into = rest.length - this.sealedChunk()
        throw new SealTruncatedError(`it ends ${into > 0 ? `${into} bytes into chunk ${this.counter + 1}` : `after chunk ${this.counter}`}, ` +
          `and chunk ${this.counter} is not the final chunk: no trailer follows`)
      }
      throw new SealTruncatedError(rest.length < min ? `it ends ${rest.length} bytes after chunk ${this.counter - 1}, too few for a final chunk and the trailer`
        : `no trailer at its end (after ${this.hashed + rest.length} bytes): it was cut short or its end was damaged`)
    }
    if (found + this.trailerLength > rest.length) throw new SealTruncatedError(`it ends inside the trailer's signature line, after ${this.hashed + rest.length} bytes`)
    if (found + this.trailerLength < rest.length) {
      throw new SealTrailingError(`${rest.length - found - this.trailerLength} bytes after the trailer, which ends at byte ${this.hashed + found + this.trailerLength}`)
    }
    if (found < TAG) throw new SealTruncatedError(`the final chunk has ${found} bytes, fewer than its ${TAG}-byte tag`)
    const at = this.hashed
    const sealed = this.consume(found)
    let final: Buffer = Buffer.alloc(0)
    if (this.key) {
      const plain = openChunk(this.key, this.counter, true, sealed)
      if (!plain) this.fail(sealed, true, at)
      final = plain!
      if (final.length === 0 && this.counter > 0) throw new ChunkAuthError(`chunk ${this.counter} is an empty final chunk after full ones (not canonical)`)
    }
    const trailerBytes = this.q.take(this.trailerLength)
    const endLine = trailerBytes.subarray(0, END_LINE)
    const e = decodeEndLine(endLine)!
    return {
      final,
      trailer: { endLine, sig: decodeSigLine(trailerBytes.subarray(END_LINE), 'trailer'), digest: e.digest, length: e.length, actualDigest: this.hash.digest('hex') },
    }
  }
}

export interface OpenOptions {
  keys: PrivateKey[]
  passphrase?: Buffer
  verify: PublicKey[]
  /** Accept any signer, and check no signature (--no-verify). */
  noVerify?: boolean
  /** Check the archive without decrypting it: no key needed, no output. */
  verifyOnly?: boolean
  onHeader?: (h: ParsedHeader, signer: PublicKey | undefined) => void
}

/** The signer's key among `verify`, with the header signature checked; or an error naming the problem. */
export function checkHeader(p: ParsedHeader, verify: PublicKey[], noVerify: boolean): PublicKey | undefined {
  const s = p.header.signer
  const signer = verify.find((k) => k.fingerprint === s.fingerprint)
  if (!signer) {
    if (noVerify) return undefined
    throw new UnknownSignerError(`${s.alg} key ${s.fingerprint}`, verify.map((k) => k.fingerprint))
  }
  if (!verifyMessage(signer, s.alg, p.text, p.sig)) throw new BadSignatureError(`header (signer ${s.fingerprint})`)
  return signer
}

async function dataKeyFor(h: SealHeader, o: OpenOptions): Promise<Buffer> {
  const rsa = h.stanzas.filter((s) => s.type === 'rsa-oaep-sha256')
  const fprs = rsa.map((s) => s.fingerprint)
  if (o.passphrase) {
    const s = h.stanzas.find((x) => x.type === 'scrypt')
    if (!s || s.type !== 'scrypt') throw new NotRecipientError('a passphrase', fprs)
    const k = await scryptUnwrap(o.passphrase, s)
    if (!k) throw new PassphraseError()
    return k
  }
  for (const key of o.keys) {
    const s = rsa.find((x) => x.fingerprint === key.fingerprint)
    if (!s) continue
    const k = unwrapKey(key, s.wrapped)
    if (!k) throw new NotRecipientError(`key ${key.fingerprint} (its wrapped data key does not decrypt with ${JSON.stringify(key.path)})`, fprs)
    return k
  }
  const mine = o.keys.map((k) => k.fingerprint).join(', ')
  throw new NotRecipientError(o.keys.length === 1 ? `key ${mine}` : `any of the keys ${mine}`, fprs)
}

/** The authenticated, still compressed payload of the sealed archive `source`. */
export async function* openArchive(source: AsyncIterable<Buffer>, o: OpenOptions): AsyncGenerator<Buffer> {
  const p = new SealedParser()
  let signer: PublicKey | undefined
  const begin = async (h: ParsedHeader) => {
    signer = checkHeader(h, o.verify, o.noVerify ?? false)
    o.onHeader?.(h, signer)
    p.start(o.verifyOnly ? undefined : await dataKeyFor(h.header, o))
  }
  for await (const b of source) {
    p.push(b)
    if (!p.parsed) {
      const h = p.header()
      if (!h) continue
      await begin(h)
    }
    for (const c of p.chunks()) if (c.length) yield c
  }
  if (!p.parsed) await begin(p.header(true)!)
  for (const c of p.chunks()) if (c.length) yield c
  const { final, trailer } = p.end()
  if (signer && !verifyMessage(signer, p.parsed!.header.signer.alg, trailer.endLine, trailer.sig)) {
    throw new BadSignatureError(`trailer (signer ${signer.fingerprint})`)
  }
  if (trailer.digest !== trailer.actualDigest) {
    throw new ChunkAuthError(`the archive's SHA-256 does not match its trailer: a byte before the trailer was changed`)
  }
  if (final.length) yield final
}
