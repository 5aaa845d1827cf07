// Seeded data for the delta tests: an xorshift32 PRNG, bases and edits, and the
// round trip base -> signature -> delta -> ops -> patched, each stage fed in chunks.
import { DeltaEncoder } from '../../../src/delta/match.js'
import { DeltaDecoder, type DeltaOp } from '../../../src/delta/format.js'
import { SignatureBuilder, decodeSignature, encodeSignature, type Signature } from '../../../src/delta/signature.js'
import { applyOps } from '../../../src/delta/patch.js'
import { chunked } from '../../helpers.js'

export interface Rng {
  /** A uniform uint32. */
  u32(): number
  /** A uniform integer in [0, n). */
  int(n: number): number
  bytes(n: number): Buffer
}

export function xorshift(seed: number): Rng {
  let s = seed >>> 0 || 0x9e3779b9
  const u32 = (): number => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s
  }
  return {
    u32,
    int: (n) => Math.floor((u32() / 2 ** 32) * n),
    bytes: (n) => {
      const b = Buffer.allocUnsafe(n)
      for (let i = 0; i < n; i++) b[i] = u32() & 0xff
      return b
    },
  }
}

/** Text-like bytes from a small alphabet: weak sums collide far more often than on random data. */
export function lowEntropy(rng: Rng, n: number): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = 0x61 + rng.int(4)
  return b
}

export type Edit = (rng: Rng, b: Buffer, B: number) => Buffer

const span = (rng: Rng, len: number, max: number): [number, number] => {
  const at = rng.int(len + 1)
  return [at, Math.min(len, at + 1 + rng.int(max))]
}

export const EDITS: Record<string, Edit> = {
  insert: (rng, b, B) => {
    const at = rng.int(b.length + 1)
    return Buffer.concat([b.subarray(0, at), rng.bytes(1 + rng.int(2 * B)), b.subarray(at)])
  },
  delete: (rng, b, B) => {
    const [x, y] = span(rng, b.length, 2 * B)
    return Buffer.concat([b.subarray(0, x), b.subarray(y)])
  },
  overwrite: (rng, b, B) => {
    const c = Buffer.from(b)
    const [x, y] = span(rng, b.length, 2 * B)
    rng.bytes(y - x).copy(c, x)
    return c
  },
  append: (rng, b, B) => Buffer.concat([b, rng.bytes(1 + rng.int(3 * B))]),
  truncate: (rng, b) => b.subarray(0, rng.int(b.length + 1)),
  move: (rng, b, B) => {
    const [x, y] = span(rng, b.length, 4 * B)
    const rest = Buffer.concat([b.subarray(0, x), b.subarray(y)])
    const at = rng.int(rest.length + 1)
    return Buffer.concat([rest.subarray(0, at), b.subarray(x, y), rest.subarray(at)])
  },
  repeat: (rng, b, B) => {
    const [x, y] = span(rng, b.length, B)
    const piece = b.subarray(x, y)
    return Buffer.concat([b.subarray(0, y), ...Array<Buffer>(2 + rng.int(20)).fill(piece), b.subarray(y)])
  },
  byte: (rng, b) => {
    const c = Buffer.from(b)
    if (c.length > 0) c[rng.int(c.length)] ^= 1 + rng.int(255)
    return c
  },
}

export async function signatureOf(base: Buffer, blockSize: number, chunk: number): Promise<Signature> {
  const sb = new SignatureBuilder(blockSize)
  for await (const c of chunked(base, chunk)) sb.update(c)
  return sb.finish()
}

export interface DeltaResult {
  delta: Buffer
  stats: DeltaEncoder['stats']
  /** The largest single Buffer update() or finish() returned. */
  largestPiece: number
}

export async function deltaOf(sig: Signature, data: Buffer, chunk: number): Promise<DeltaResult> {
  const enc = new DeltaEncoder(sig)
  const parts: Buffer[] = []
  for await (const c of chunked(data, chunk)) parts.push(...enc.update(c))
  parts.push(...enc.finish())
  return { delta: Buffer.concat(parts), stats: enc.stats, largestPiece: parts.reduce((m, p) => Math.max(m, p.length), 0) }
}

export async function opsOf(delta: Buffer, chunk: number, baseLength?: number): Promise<DeltaOp[]> {
  const dec = new DeltaDecoder({ baseLength })
  const ops: DeltaOp[] = []
  for await (const c of chunked(delta, chunk)) ops.push(...dec.push(c))
  dec.end()
  return ops
}

/** The whole pipeline at one chunk size, with the signature through its encoding. */
export async function roundTrip(base: Buffer, data: Buffer, blockSize: number, chunk: number): Promise<DeltaResult & { patched: Buffer }> {
  const sig = decodeSignature(encodeSignature(await signatureOf(base, blockSize, chunk)))
  const r = await deltaOf(sig, data, chunk)
  const patched = applyOps(await opsOf(r.delta, chunk, base.length), base)
  return { ...r, patched }
}
