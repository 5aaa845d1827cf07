// Block signatures of a base file: what the delta encoder searches for in the
// new file. One weak rolling checksum and one truncated SHA-256 per block.
import { hash } from 'node:crypto'
import { rollsum } from './rollsum.js'
import { SignatureFormatError } from './errors.js'

export interface Signature {
  blockSize: number
  /** Length of the base file; the last block is short when it is not a multiple of blockSize. */
  length: number
  /** Weak checksum per block (see rollsum.ts). */
  weak: Int32Array
  /** STRONG_LEN bytes per block: SHA-256 of the block truncated. */
  strong: Buffer
}

/**
 * 128 bits: a false match needs a second preimage of truncated SHA-256 among
 * blocks that already agree on the weak sum, which is out of reach, and it halves
 * the index against a full digest. MD4 (rsync's choice) is broken and absent
 * from OpenSSL 3 by default.
 */
export const STRONG_LEN = 16
/** 4 KiB: the page of most databases and filesystems; see backtory-delta(7) for the measurements. */
export const MIN_BLOCK = 4096
/** Above 2^18 blocks the block size grows, so the search tables stay within a few MiB. */
export const MAX_BLOCKS = 2 ** 18
/** A block must fit a copy op's u32 length with room to spare. */
export const MAX_BLOCK = 2 ** 30

const MAGIC = 0x42545347 // "BTSG"
const VERSION = 1
const HEADER = 24
const RECORD = 4 + STRONG_LEN

/** The truncated SHA-256 of `data`. */
export function strongSum(data: Uint8Array): Buffer {
  return hash('sha256', data, 'buffer').subarray(0, STRONG_LEN)
}

/**
 * The block size for a base of `length` bytes: the smallest power of two of at
 * least MIN_BLOCK that gives at most MAX_BLOCKS blocks. A fixed floor, not
 * rsync's square root (32 KiB at 1 GiB), because the changes backtory exists for
 * are database pages rewritten in place, and a block larger than the page
 * sends the untouched rest of the block as literal.
 */
export function blockSizeFor(length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`invalid file length ${length}`)
  let size = MIN_BLOCK
  while (size < MAX_BLOCK && size * MAX_BLOCKS < length) size *= 2
  return size
}

function checkBlockSize(blockSize: number): void {
  if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > MAX_BLOCK) {
    throw new RangeError(`block size ${blockSize} is out of range (1 to ${MAX_BLOCK})`)
  }
}

/** Builds a signature from the base content fed in chunks of any size. */
export class SignatureBuilder {
  readonly blockSize: number
  private weak: Int32Array
  private strong: Buffer
  private count = 0
  private length = 0
  // A block split across chunks is gathered here (made on first need: a small
  // file usually arrives in one chunk); whole blocks inside a chunk are summed in place.
  private partial: Buffer | undefined
  private fill = 0
  private done = false

  /** `expectedLength`, when known, sizes the tables once instead of growing them. */
  constructor(blockSize: number, expectedLength?: number) {
    checkBlockSize(blockSize)
    this.blockSize = blockSize
    const blocks = expectedLength === undefined ? 64 : Math.min(Math.max(1, blockCount(expectedLength, blockSize)), 1 << 16)
    this.weak = new Int32Array(blocks)
    this.strong = Buffer.allocUnsafe(blocks * STRONG_LEN)
  }

  update(chunk: Uint8Array): void {
    if (this.done) throw new Error('SignatureBuilder.update after finish')
    this.length += chunk.length
    const B = this.blockSize
    let off = 0
    if (this.fill > 0) {
      const n = Math.min(B - this.fill, chunk.length)
      this.partial!.set(chunk.subarray(0, n), this.fill)
      this.fill += n
      off = n
      if (this.fill < B) return
      this.add(this.partial!, 0, B)
      this.fill = 0
    }
    for (; off + B <= chunk.length; off += B) this.add(chunk, off, off + B)
    if (off < chunk.length) {
      this.partial ??= Buffer.allocUnsafe(B)
      this.partial.set(chunk.subarray(off), 0)
      this.fill = chunk.length - off
    }
  }

  finish(): Signature {
    if (this.done) throw new Error('SignatureBuilder.finish called twice')
    this.done = true
    if (this.fill > 0) this.add(this.partial!, 0, this.fill)
    return {
      blockSize: this.blockSize,
      length: this.length,
      weak: this.weak.slice(0, this.count),
      strong: Buffer.from(this.strong.subarray(0, this.count * STRONG_LEN)),
    }
  }

  private add(buf: Uint8Array, start: number, end: number): void {
    if (this.count === this.weak.length) {
      const weak = new Int32Array(this.count * 2)
      weak.set(this.weak)
      this.weak = weak
      const strong = Buffer.allocUnsafe(this.count * 2 * STRONG_LEN)
      this.strong.copy(strong, 0, 0, this.count * STRONG_LEN)
      this.strong = strong
    }
    const block = buf.subarray(start, end)
    this.weak[this.count] = rollsum(buf, start, end)
    strongSum(block).copy(this.strong, this.count * STRONG_LEN)
    this.count++
  }
}

/** Number of blocks a base of `length` bytes has at `blockSize`. */
export function blockCount(length: number, blockSize: number): number {
  return Math.ceil(length / blockSize)
}

/*
 * Encoding, all integers big-endian:
 *   0  4  magic "BTSG"
 *   4  1  version (1)
 *   5  1  strong checksum length (16)
 *   6  2  reserved, zero
 *   8  4  block size
 *  12  8  base length
 *  20  4  block count, = ceil(base length / block size)
 *  24     count records of: 4 weak checksum (two's complement), 16 strong checksum
 */
export function encodeSignature(sig: Signature): Buffer {
  checkBlockSize(sig.blockSize)
  const count = sig.weak.length
  if (count !== blockCount(sig.length, sig.blockSize) || sig.strong.length !== count * STRONG_LEN) {
    throw new RangeError(`inconsistent signature: ${count} weak and ${sig.strong.length / STRONG_LEN} strong sums for ${sig.length} bytes in blocks of ${sig.blockSize}`)
  }
  if (count > 0xffffffff) throw new RangeError(`${count} blocks do not fit the u32 block count; use blockSizeFor()`)
  const out = Buffer.alloc(HEADER + count * RECORD)
  out.writeUInt32BE(MAGIC, 0)
  out.writeUInt8(VERSION, 4)
  out.writeUInt8(STRONG_LEN, 5)
  out.writeUInt32BE(sig.blockSize, 8)
  out.writeBigUInt64BE(BigInt(sig.length), 12)
  out.writeUInt32BE(count, 20)
  for (let i = 0, p = HEADER; i < count; i++, p += RECORD) {
    out.writeInt32BE(sig.weak[i], p)
    sig.strong.copy(out, p + 4, i * STRONG_LEN, (i + 1) * STRONG_LEN)
  }
  return out
}

export function decodeSignature(buf: Uint8Array): Signature {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  if (b.length < HEADER) throw new SignatureFormatError(`${b.length} bytes is shorter than the ${HEADER}-byte header`)
  if (b.readUInt32BE(0) !== MAGIC) throw new SignatureFormatError(`bad magic 0x${b.toString('hex', 0, 4)} (expected "BTSG")`)
  const version = b.readUInt8(4)
  if (version !== VERSION) throw new SignatureFormatError(`unsupported version ${version} (this backtory reads version ${VERSION})`)
  const strongLen = b.readUInt8(5)
  if (strongLen !== STRONG_LEN) throw new SignatureFormatError(`strong checksum length ${strongLen} (expected ${STRONG_LEN})`)
  if (b.readUInt16BE(6) !== 0) throw new SignatureFormatError('reserved header bytes are not zero')
  const blockSize = b.readUInt32BE(8)
  if (blockSize < 1 || blockSize > MAX_BLOCK) throw new SignatureFormatError(`block size ${blockSize} is out of range (1 to ${MAX_BLOCK})`)
  const length64 = b.readBigUInt64BE(12)
  if (length64 > BigInt(Number.MAX_SAFE_INTEGER)) throw new SignatureFormatError(`base length ${length64} is too large`)
  const length = Number(length64)
  const count = b.readUInt32BE(20)
  const expected = blockCount(length, blockSize)
  if (count !== expected) throw new SignatureFormatError(`block count ${count} does not match ${length} bytes in blocks of ${blockSize} (expected ${expected})`)
  const size = HEADER + count * RECORD
  if (b.length !== size) throw new SignatureFormatError(`${b.length} bytes where ${count} blocks take ${size}${b.length < size ? ' (truncated)' : ' (trailing data)'}`)
  const weak = new Int32Array(count)
  const strong = Buffer.alloc(count * STRONG_LEN)
  for (let i = 0, p = HEADER; i < count; i++, p += RECORD) {
    weak[i] = b.readInt32BE(p)
    b.copy(strong, i * STRONG_LEN, p + 4, p + RECORD)
  }
  return { blockSize, length, weak, strong }
}
