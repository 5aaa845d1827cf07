// Checks a sealed archive as its bytes pass, without any key: the header's
// form, the trailer found where its own length field says it begins, the
// layout of the chunks that length implies, and the trailer's SHA-256 over
// everything before it. With the signer's public key it also checks both
// signatures. bt-put runs it before making an upload final, bt-get while it
// downloads (decrypting, and so the GCM tags, is bt-open's job).
//
// It is bt-open --verify-only's verdict at the cost of the hash alone: the
// header is parsed by the same SealedParser, then every byte but the last
// (trailer-sized) tail goes straight to SHA-256, with no per-chunk copying or
// searching, since the trailer's position follows from the total length.
import { createHash } from 'node:crypto'
import { BadSignatureError, ChunkAuthError, SealTrailingError, SealTruncatedError } from '../errors.js'
import { END_LINE, type SealHeader, decodeEndLine, decodeSigLine } from './header.js'
import { type PublicKey, verifyMessage } from './keys.js'
import { checkHeader, type ParsedHeader, SealedParser } from './opener.js'
import { TAG } from './seal.js'

export class SealCheck {
  private readonly parser = new SealedParser()
  private head: Buffer[] = []
  private parsed: ParsedHeader | undefined
  private signer: PublicKey | undefined
  private readonly hash = createHash('sha256')
  /** Bytes hashed so far: all but the held-back tail. */
  private hashed = 0
  /** The last bytes seen, at least the trailer's length of them once there are that many. */
  private tail = Buffer.alloc(0)
  private trailerLength = 0
  bytes = 0

  /** verify: trusted signers; empty means the signatures are not checked (the digest still is). */
  constructor(private readonly verify: PublicKey[] = []) {}

  get header(): SealHeader | undefined {
    return this.parsed?.header
  }

  /** Takes the next bytes; throws as soon as they cannot be part of a sealed archive. */
  push(b: Buffer): void {
    this.bytes += b.length
    if (this.parsed) return this.body(b)
    // Held until the header is complete: copies, since the caller may reuse b.
    b = Buffer.from(b)
    this.parser.push(b)
    this.head.push(b)
    const h = this.parser.header()
    if (!h) return
    this.begin(h)
    // The bytes after the header's signature line are the first of the body.
    const all = Buffer.concat(this.head)
    this.head = []
    this.hash.update(all.subarray(0, h.length))
    this.hashed = h.length
    this.body(all.subarray(h.length))
  }

  private begin(h: ParsedHeader): void {
    this.parsed = h
    this.trailerLength = END_LINE + (h.length - h.text.length)
    if (this.verify.length) this.signer = checkHeader(h, this.verify, false)
  }

  private body(b: Buffer): void {
    const keep = this.trailerLength
    const total = this.tail.length + b.length
    if (total <= keep) {
      this.tail = Buffer.concat([this.tail, b]) // a copy, as below
      return
    }
    const out = total - keep // the bytes of tail + b that cannot be the trailer
    if (out <= this.tail.length) {
      this.hash.update(this.tail.subarray(0, out))
      this.tail = Buffer.concat([this.tail.subarray(out), b])
    } else {
      this.hash.update(this.tail)
      this.hash.update(b.subarray(0, out - this.tail.length))
      this.tail = Buffer.from(b.subarray(out - this.tail.length)) // a copy: the caller may reuse b
    }
    this.hashed += out
  }

  /** At the end of input: the header, once the trailer is found, its digest matches and (with keys) both signatures verify. */
  end(): { header: SealHeader; signed: boolean } {
    if (!this.parsed) {
      const h = this.parser.header(true)! // throws: empty, not sealed, or cut inside the header
      this.begin(h)
    }
    const h = this.parsed!
    const endLine = this.tail.subarray(0, END_LINE)
    const e = this.tail.length === this.trailerLength ? decodeEndLine(endLine) : undefined
    if (!e || e.length !== this.hashed) {
      if (e && e.length < this.hashed) {
        throw new SealTrailingError(`the trailer at its end vouches for ${e.length} bytes, but ${this.hashed} precede it: data was added, or another archive appended`)
      }
      if (e) throw new SealTruncatedError(`the trailer at its end vouches for ${e.length} bytes, but only ${this.hashed} precede it`)
      throw new SealTruncatedError(`no trailer at its end (after ${this.bytes} bytes): it was cut short, or its end was damaged or appended to`)
    }
    // The chunks the length implies: full ones of chunk + TAG octets, then a final one of TAG to chunk + TAG.
    const sealed = h.header.chunk + TAG
    const payload = this.hashed - h.length
    const full = payload <= sealed ? 0 : Math.ceil((payload - sealed) / sealed)
    const last = payload - full * sealed
    if (last < TAG) throw new SealTruncatedError(`the final chunk has ${last} bytes, fewer than its ${TAG}-byte tag`)
    if (last === TAG && full > 0) throw new ChunkAuthError(`chunk ${full} is an empty final chunk after full ones (not canonical)`)
    const sig = decodeSigLine(this.tail.subarray(END_LINE), 'trailer')
    if (this.signer && !verifyMessage(this.signer, h.header.signer.alg, endLine, sig)) {
      throw new BadSignatureError(`trailer (signer ${this.signer.fingerprint})`)
    }
    if (e.digest !== this.hash.digest('hex')) {
      throw new ChunkAuthError(`the archive's SHA-256 does not match its trailer: a byte before the trailer was changed`)
    }
    return { header: h.header, signed: this.signer !== undefined }
  }
}
