// The delta wire format: the entry data of a delta record, a plain sequence of
// ops with no count and no end marker, because the record's size delimits it.
// All integers big-endian.
//   copy     'C' (0x43)  u64 base offset  u32 length        13 bytes
//   literal  'L' (0x4c)  u32 length       length bytes      5 + length
// Lengths are never zero. A copy reads base[offset, offset + length).
import { DeltaFormatError } from './errors.js'

export type DeltaOp = { kind: 'copy'; offset: number; length: number } | { kind: 'literal'; data: Buffer }

export const OP_COPY = 0x43
export const OP_LITERAL = 0x4c
export const COPY_SIZE = 13
export const LITERAL_HEADER = 5
/** The largest length one op can carry; longer runs are split. */
export const MAX_OP_LENGTH = 0xffffffff

export function encodeCopy(offset: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(COPY_SIZE)
  b[0] = OP_COPY
  // u64 as two u32 halves: cheaper than BigInt on a path taken once per copy.
  b.writeUInt32BE(Math.floor(offset / 0x100000000), 1)
  b.writeUInt32BE(offset >>> 0, 5)
  b.writeUInt32BE(length, 9)
  return b
}

/** One literal op holding a copy of `data` (the caller's buffer may be reused). */
export function encodeLiteral(data: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(LITERAL_HEADER + data.length)
  b[0] = OP_LITERAL
  b.writeUInt32BE(data.length, 1)
  b.set(data, LITERAL_HEADER)
  return b
}

export interface DeltaDecoderOptions {
  /** When given, a copy reaching past it is rejected. */
  baseLength?: number
}

/**
 * Parses a delta fed in chunks of any size. Literal bytes are handed out as they
 * arrive, one literal op per piece, so memory stays at one op header however
 * large a literal is. Literal data are views of the pushed chunk.
 */
export class DeltaDecoder {
  private readonly baseLength: number
  private readonly head = Buffer.alloc(COPY_SIZE)
  private headFill = 0
  private literalLeft = 0
  /** Delta bytes consumed so far, for error messages. */
  private pos = 0
  /** Bytes the delta produces so far. */
  outputLength = 0

  constructor(opts: DeltaDecoderOptions = {}) {
    this.baseLength = opts.baseLength ?? Infinity
  }

  push(chunk: Uint8Array): DeltaOp[] {
    const ops: DeltaOp[] = []
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    let off = 0
    while (off < buf.length) {
      if (this.literalLeft > 0) {
        const n = Math.min(this.literalLeft, buf.length - off)
        ops.push({ kind: 'literal', data: buf.subarray(off, off + n) })
        this.literalLeft -= n
        this.outputLength += n
        off += n
        this.pos += n
        continue
      }
      if (this.headFill === 0 && buf[off] !== OP_COPY && buf[off] !== OP_LITERAL) {
        throw new DeltaFormatError(`unknown op byte 0x${buf[off].toString(16).padStart(2, '0')} at offset ${this.pos}`)
      }
      const need = (this.headFill > 0 ? this.head[0] : buf[off]) === OP_COPY ? COPY_SIZE : LITERAL_HEADER
      const n = Math.min(need - this.headFill, buf.length - off)
      buf.copy(this.head, this.headFill, off, off + n)
      this.headFill += n
      off += n
      if (this.headFill < need) break
      this.headFill = 0
      const at = this.pos
      this.pos += need
      const op = this.parseHead(at)
      if (op) ops.push(op)
    }
    return ops
  }

  /** Declares the end of the delta; throws when it stops inside an op. */
  end(): void {
    if (this.headFill > 0) throw new DeltaFormatError(`truncated: ${this.headFill} bytes of an op header at offset ${this.pos}`)
    if (this.literalLeft > 0) throw new DeltaFormatError(`truncated: ${this.literalLeft} literal bytes missing at offset ${this.pos}`)
  }

  private parseHead(at: number): DeltaOp | undefined {
    const h = this.head
    if (h[0] === OP_LITERAL) {
      const length = h.readUInt32BE(1)
      if (length === 0) throw new DeltaFormatError(`literal of length 0 at offset ${at}`)
      this.literalLeft = length
      return undefined
    }
    const hi = h.readUInt32BE(1)
    const offset = hi * 0x100000000 + h.readUInt32BE(5)
    const length = h.readUInt32BE(9)
    if (length === 0) throw new DeltaFormatError(`copy of length 0 at offset ${at}`)
    if (hi > 0x1fffff || offset + length > this.baseLength) {
      const base = Number.isFinite(this.baseLength) ? `the base of ${this.baseLength} bytes` : 'the largest safe offset'
      throw new DeltaFormatError(`copy of ${length} bytes from base offset ${hi > 0x1fffff ? h.readBigUInt64BE(1) : offset} reaches past ${base} (op at offset ${at})`)
    }
    this.outputLength += length
    return { kind: 'copy', offset, length }
  }
}
