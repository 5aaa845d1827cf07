// The delta encoder: rsync's search (TR-CS-96-05, section 3) over the new file,
// streaming and in bounded memory. See backtory-delta(7) for the design and the
// measurements behind the constants.
import type { Signature } from './signature.js'
import { STRONG_LEN, strongSum } from './signature.js'
import { rollsum } from './rollsum.js'
import { MAX_OP_LENGTH, encodeCopy, encodeLiteral } from './format.js'

/** A pending literal run is sent once it reaches this, so it never holds more. */
export const LITERAL_RUN = 64 * 1024
/** Input is copied into the work buffer this much at a time, whatever the chunk size. */
const SLICE = 256 * 1024
/** Prefilter bits per block: at 32, about 3% of positions in unrelated data reach the table. */
const BITS_PER_BLOCK = 32
const MAX_BITMAP_BITS = 24
/** Fibonacci hashing: spreads the weak sum over the top bits both indexes take. */
const GOLDEN = 0x9e3779b1 | 0

export interface DeltaStats {
  copiedBytes: number
  literalBytes: number
  copyOps: number
  literalOps: number
}

function log2ceil(n: number): number {
  let k = 0
  while (2 ** k < n) k++
  return k
}

export class DeltaEncoder {
  readonly stats: DeltaStats = { copiedBytes: 0, literalBytes: 0, copyOps: 0, literalOps: 0 }

  private readonly B: number
  private readonly fullBlocks: number
  private readonly tailLen: number
  private readonly weak: Int32Array
  private readonly strong: Buffer

  // The search structures cover the full blocks only; the short last block can
  // only match at the very end of the new file and is checked there.
  private readonly bitmap: Int32Array
  private readonly bitShift: number
  private readonly head: Int32Array
  private readonly next: Int32Array
  private readonly tableShift: number

  // work = [pending literal: lit..pos) [window: pos..pos+B) [unscanned ..end)
  private readonly work: Buffer
  private lit = 0
  private pos = 0
  private end = 0
  private a = 0
  private b = 0
  private haveSum = false
  /** Block matched last, or -1: the next-block fast path tries prev + 1 first. */
  private prev = -1
  private copyOffset = 0
  private copyLength = 0
  private out: Buffer[] = []
  private done = false

  constructor(sig: Signature) {
    const B = sig.blockSize
    this.B = B
    this.fullBlocks = Math.floor(sig.length / B)
    this.tailLen = sig.length % B
    this.weak = sig.weak
    this.strong = sig.strong
    if (sig.weak.length !== Math.ceil(sig.length / B) || sig.strong.length !== sig.weak.length * STRONG_LEN) {
      throw new RangeError('inconsistent signature: block counts do not match the length')
    }
    const n = this.fullBlocks
    const bitBits = Math.min(MAX_BITMAP_BITS, Math.max(10, log2ceil(n * BITS_PER_BLOCK)))
    this.bitShift = 32 - bitBits
    this.bitmap = new Int32Array(2 ** bitBits / 32)
    const tableBits = Math.max(1, log2ceil(n))
    this.tableShift = 32 - tableBits
    this.head = new Int32Array(2 ** tableBits).fill(-1)
    this.next = new Int32Array(n)
    for (let i = 0; i < n; i++) this.insert(i)
    this.work = Buffer.allocUnsafe(LITERAL_RUN + B + SLICE)
  }

  /** Adds block i to the table unless an equal block is already there: a long run of one block stays one entry. */
  private insert(i: number): void {
    const w = this.weak[i]
    const h = Math.imul(w, GOLDEN)
    const slot = h >>> this.tableShift
    for (let j = this.head[slot]; j >= 0; j = this.next[j]) {
      if (this.weak[j] === w && this.strong.compare(this.strong, i * STRONG_LEN, (i + 1) * STRONG_LEN, j * STRONG_LEN, (j + 1) * STRONG_LEN) === 0) return
    }
    this.next[i] = this.head[slot]
    this.head[slot] = i
    const hb = h >>> this.bitShift
    this.bitmap[hb >>> 5] |= 1 << (hb & 31)
  }

  update(chunk: Uint8Array): Buffer[] {
    if (this.done) throw new Error('DeltaEncoder.update after finish')
    let off = 0
    while (off < chunk.length) {
      if (this.work.length - this.end < SLICE / 2) this.compact()
      const n = Math.min(chunk.length - off, this.work.length - this.end)
      this.work.set(chunk.subarray(off, off + n), this.end)
      this.end += n
      off += n
      this.scan()
    }
    return this.take()
  }

  finish(): Buffer[] {
    if (this.done) throw new Error('DeltaEncoder.finish called twice')
    this.done = true
    let stop = this.end
    const t = this.tailLen
    if (t > 0 && this.end - this.lit >= t) {
      const at = this.end - t
      const i = this.fullBlocks
      if (rollsum(this.work, at, this.end) === this.weak[i] && this.strongEquals(at, t, i)) stop = at
    }
    this.literal(this.lit, stop)
    if (stop < this.end) this.copy(this.fullBlocks * this.B, t)
    this.flushCopy()
    this.lit = this.pos = this.end
    return this.take()
  }

  private take(): Buffer[] {
    const out = this.out
    this.out = []
    return out
  }

  private compact(): void {
    const from = this.lit
    if (from === 0) return
    this.work.copyWithin(0, from, this.end)
    this.lit = 0
    this.pos -= from
    this.end -= from
  }

  private strongEquals(at: number, len: number, block: number): boolean {
    const s = strongSum(this.work.subarray(at, at + len))
    return s.compare(this.strong, block * STRONG_LEN, (block + 1) * STRONG_LEN) === 0
  }

  /** The block whose weak and strong sums match the window at p, or -1. */
  private lookup(weak: number, slot: number, p: number): number {
    let s: Buffer | undefined
    for (let i = this.head[slot]; i >= 0; i = this.next[i]) {
      if (this.weak[i] !== weak) continue
      s ??= strongSum(this.work.subarray(p, p + this.B))
      if (s.compare(this.strong, i * STRONG_LEN, (i + 1) * STRONG_LEN) === 0) return i
    }
    return -1
  }

  /** Searches what the work buffer holds, leaving pos at the first window not yet decided. */
  private scan(): void {
    const B = this.B
    const w = this.work
    const end = this.end
    if (this.fullBlocks === 0) {
      // Nothing to search for: all literal, keeping the last B bytes for the short-block check.
      this.advanceLiteral(Math.max(this.pos, end - B))
      return
    }
    const bitmap = this.bitmap
    const bitShift = this.bitShift
    const tableShift = this.tableShift
    // B * out mod 2^16 from the low half of B keeps the product a small int32.
    const Bm = B & 0xffff
    let p = this.pos
    while (end - p >= B) {
      const nb = this.prev + 1
      if (this.prev >= 0 && nb < this.fullBlocks) {
        // In an unchanged stretch the next window is the next block: one strong
        // sum confirms it, and neither weak sum nor table is touched.
        if (this.strongEquals(p, B, nb)) {
          this.match(p, nb)
          p += B
          continue
        }
        this.prev = -1
      }
      if (!this.haveSum) {
        const s = rollsum(w, p, p + B)
        this.a = s & 0xffff
        this.b = s >>> 16
        this.haveSum = true
      }
      let a = this.a
      let b = this.b
      let found = -1
      for (;;) {
        // Stop rolling at the end of the data or when the literal run is full.
        const limit = Math.min(end - B, this.lit + LITERAL_RUN)
        for (;;) {
          const h = Math.imul((b << 16) | a, GOLDEN)
          const hb = h >>> bitShift
          if ((bitmap[hb >>> 5] & (1 << (hb & 31))) !== 0) {
            found = this.lookup((b << 16) | a, h >>> tableShift, p)
            if (found >= 0) break
          }
          if (p >= limit) break
          const out = w[p]
          a = (a - out + w[p + B]) & 0xffff
          b = (b - Bm * out + a) & 0xffff
          p++
        }
        if (found >= 0 || p >= end - B) break
        this.literal(this.lit, p)
      }
      this.a = a
      this.b = b
      if (found < 0) break
      this.match(p, found)
      p += B
    }
    this.pos = p
  }

  private match(p: number, block: number): void {
    this.literal(this.lit, p)
    this.copy(block * this.B, this.B)
    this.prev = block
    this.haveSum = false
    this.lit = p + this.B
  }

  private advanceLiteral(to: number): void {
    while (to - this.lit > LITERAL_RUN) this.literal(this.lit, this.lit + LITERAL_RUN)
    this.pos = to
  }

  /** Sends work[from, to) as literal ops of at most LITERAL_RUN bytes. */
  private literal(from: number, to: number): void {
    if (to <= from) return
    this.flushCopy()
    for (let at = from; at < to; at += LITERAL_RUN) {
      const piece = this.work.subarray(at, Math.min(to, at + LITERAL_RUN))
      this.out.push(encodeLiteral(piece))
      this.stats.literalBytes += piece.length
      this.stats.literalOps++
    }
    this.lit = to
  }

  private copy(offset: number, length: number): void {
    if (this.copyLength > 0 && this.copyOffset + this.copyLength === offset && this.copyLength + length <= MAX_OP_LENGTH) {
      this.copyLength += length
      return
    }
    this.flushCopy()
    this.copyOffset = offset
    this.copyLength = length
  }

  private flushCopy(): void {
    if (this.copyLength === 0) return
    this.out.push(encodeCopy(this.copyOffset, this.copyLength))
    this.stats.copiedBytes += this.copyLength
    this.stats.copyOps++
    this.copyLength = 0
  }
}
