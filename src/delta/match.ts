// The delta encoder: rsync's search (TR-CS-96-05, section 3) over the new file,
// streaming and in bounded memory. See backtory-delta(7) for the design and the
// measurements behind the constants.
import type { Signature } from './signature.js'
import { STRONG_LEN, strongSum } from './signature.js'
import { MAX_OP_LENGTH, encodeCopy, encodeLiteral } from './format.js'
import { GOLDEN, GOLDEN2, STATE_BYTES, hunter, type Hunt, type Sum } from './hunt.js'

/** A pending literal run is sent once it reaches this, so it never holds more. */
export const LITERAL_RUN = 64 * 1024
/** Input is copied into the work buffer this much at a time, whatever the chunk size. */
const SLICE = 256 * 1024
/**
 * The prefilter is a blocked Bloom filter: each block sets three bits of one
 * 32-bit word, so a probe is one load. At 32 bits per block about 0.3% of
 * positions in unrelated data reach the table; one bit per block in a plain
 * bitmap of the same size let 3% through, and every pass costs cache misses.
 */
const BITS_PER_BLOCK = 32
/** 1 MiB: the filter is probed at every byte at random, so it must stay in one core's L2. */
const MAX_FILTER_BITS = 23

export interface DeltaStats {
  copiedBytes: number
  literalBytes: number
  copyOps: number
  literalOps: number
  /** Strong checksums computed: one per copied block plus one per weak-checksum false alarm. */
  strongChecks: number
}

function log2ceil(n: number): number {
  let k = 0
  while (2 ** k < n) k++
  return k
}

export class DeltaEncoder {
  readonly stats: DeltaStats = { copiedBytes: 0, literalBytes: 0, copyOps: 0, literalOps: 0, strongChecks: 0 }

  private readonly B: number
  private readonly fullBlocks: number
  private readonly tailLen: number
  private readonly weak: Int32Array
  private readonly strong: Buffer

  // The search structures cover the full blocks only; the short last block can
  // only match at the very end of the new file and is checked there.
  private readonly filter: Int32Array
  private readonly wordShift: number
  // Open addressing, at most half full: slot k is table[2k] = weak sum and
  // table[2k + 1] = block + 1 (0: empty), so a probe touches one cache line.
  private readonly table: Int32Array
  private readonly tableShift: number
  private readonly tableMask: number

  // One WebAssembly memory holds, in order, the hunt state (a, b, stop reason),
  // the prefilter and the work buffer, so the hot loop reads them all directly.
  // work = [pending literal: lit..pos) [window: pos..pos+B) [unscanned ..end)
  private readonly work: Buffer
  private readonly workAt: number
  private readonly filterAt: number
  private readonly hunt: Hunt
  // From scratch in WebAssembly too: rollsum() stays monomorphic for the
  // signature builder, whose hot path it is.
  private readonly sum: Sum
  private lit = 0
  private pos = 0
  private end = 0
  /** a, b of the window at pos, and whether hunt() stopped on a prefilter hit. */
  private readonly sums: Int32Array
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
    const wordBits = Math.min(MAX_FILTER_BITS, Math.max(10, log2ceil(n * BITS_PER_BLOCK))) - 5
    this.wordShift = 32 - wordBits
    this.filterAt = STATE_BYTES
    this.workAt = this.filterAt + 4 * 2 ** wordBits
    const workLength = LITERAL_RUN + B + SLICE
    const memory = new WebAssembly.Memory({ initial: Math.ceil((this.workAt + workLength) / 65536) })
    ;({ hunt: this.hunt, sum: this.sum } = hunter(memory))
    this.sums = new Int32Array(memory.buffer, 0, 3)
    this.filter = new Int32Array(memory.buffer, this.filterAt, 2 ** wordBits)
    this.work = Buffer.from(memory.buffer, this.workAt, workLength)
    const tableBits = log2ceil(n) + 1
    this.tableShift = 32 - tableBits
    this.tableMask = 2 ** tableBits - 1
    this.table = new Int32Array(2 ** (tableBits + 1))
    for (let i = 0; i < n; i++) this.insert(i)
  }

  /** Adds block i to the table unless an equal block is already there: a long run of one block stays one entry. */
  private insert(i: number): void {
    const w = this.weak[i]
    const h = Math.imul(w, GOLDEN)
    const t = this.table
    let k = h >>> this.tableShift
    for (; t[2 * k + 1] !== 0; k = (k + 1) & this.tableMask) {
      const j = t[2 * k + 1] - 1
      if (t[2 * k] === w && this.strong.compare(this.strong, i * STRONG_LEN, (i + 1) * STRONG_LEN, j * STRONG_LEN, (j + 1) * STRONG_LEN) === 0) return
    }
    t[2 * k] = w
    t[2 * k + 1] = i + 1
    const g = Math.imul(w, GOLDEN2)
    this.filter[h >>> this.wordShift] |= (1 << (g >>> 27)) | (1 << ((g >>> 22) & 31)) | (1 << ((g >>> 17) & 31))
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
      this.sum(this.workAt + at, this.workAt + this.end)
      if (((this.sums[1] << 16) | this.sums[0]) === this.weak[i] && this.strongEquals(at, t, i)) stop = at
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
    this.stats.strongChecks++
    const s = strongSum(this.work.subarray(at, at + len))
    return s.compare(this.strong, block * STRONG_LEN, (block + 1) * STRONG_LEN) === 0
  }

  /** The block whose weak and strong sums match the window at p, or -1. */
  private lookup(weak: number, slot: number, p: number): number {
    let s: Buffer | undefined
    const t = this.table
    for (let k = slot; t[2 * k + 1] !== 0; k = (k + 1) & this.tableMask) {
      if (t[2 * k] !== weak) continue
      const i = t[2 * k + 1] - 1
      if (!s) {
        s = strongSum(this.work.subarray(p, p + this.B))
        this.stats.strongChecks++
      }
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
    const wordShift = this.wordShift
    const at = this.workAt
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
        this.sum(this.workAt + p, this.workAt + p + B)
        this.haveSum = true
      }
      const st = this.sums
      let found = -1
      for (;;) {
        // Stop at the end of the data or when the literal run is full.
        const limit = Math.min(end - B, this.lit + LITERAL_RUN)
        p = this.hunt(at + p, at + limit, B, wordShift, this.filterAt) - at
        if (st[2] === 1) {
          found = this.lookup((st[1] << 16) | st[0], Math.imul((st[1] << 16) | st[0], GOLDEN) >>> tableShift, p)
          if (found >= 0) break
          if (p < limit) {
            // A false positive: step past it and hunt on.
            const out = w[p]
            st[0] = (st[0] - out + w[p + B]) & 0xffff
            st[1] = (st[1] - Bm * out + st[0]) & 0xffff
            p++
            continue
          }
        }
        if (p >= end - B) break
        this.literal(this.lit, p)
      }
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
