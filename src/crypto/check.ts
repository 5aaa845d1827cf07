// Checks a sealed archive as its bytes pass, without any key: the header's
// form, the layout of the chunks, and the trailer's SHA-256 and length over
// everything before it. With the signer's public key it also checks both
// signatures. bt-put runs it before making an upload final; bt-get while it
// downloads. (Decrypting, and so the GCM tags, is bt-open's job.)
import { BadSignatureError, ChunkAuthError } from '../errors.js'
import { type SealHeader } from './header.js'
import { type PublicKey, verifyMessage } from './keys.js'
import { checkHeader, type ParsedHeader, SealedParser } from './opener.js'

export class SealCheck {
  private readonly p = new SealedParser()
  private parsed: ParsedHeader | undefined
  private signer: PublicKey | undefined
  bytes = 0

  /** verify: trusted signers; empty means the signatures are not checked (the digest still is). */
  constructor(private readonly verify: PublicKey[] = []) {}

  get header(): SealHeader | undefined {
    return this.parsed?.header
  }

  /** Takes the next bytes; throws as soon as they cannot be part of a sealed archive. */
  push(b: Buffer): void {
    this.bytes += b.length
    this.p.push(b)
    if (!this.parsed && !this.begin(this.p.header())) return
    this.p.chunks()
  }

  private begin(h: ParsedHeader | undefined): boolean {
    if (!h) return false
    this.parsed = h
    if (this.verify.length) this.signer = checkHeader(h, this.verify, false)
    this.p.start(undefined)
    return true
  }

  /** At the end of input: the header, once the trailer is found, its digest matches and (with keys) both signatures verify. */
  end(): { header: SealHeader; signed: boolean } {
    if (!this.parsed) this.begin(this.p.header(true))
    this.p.chunks()
    const { trailer } = this.p.end()
    if (this.signer && !verifyMessage(this.signer, this.parsed!.header.signer.alg, trailer.endLine, trailer.sig)) {
      throw new BadSignatureError(`trailer (signer ${this.signer.fingerprint})`)
    }
    // The parser found the end line where its own length field says it begins; the digest is what is left to compare.
    if (trailer.digest !== trailer.actualDigest) {
      throw new ChunkAuthError(`the archive's SHA-256 does not match its trailer: a byte before the trailer was changed`)
    }
    return { header: this.parsed!.header, signed: this.signer !== undefined }
  }
}
