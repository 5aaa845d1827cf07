// The scan's hot loop in WebAssembly. It is the only code that runs at every
// byte of changed data; written in plain JS, with a bounds check on every load,
// the scan of a fully changed file ran about 20% slower (backtory-delta(7)).
// The module is built from opcodes below rather than shipped as a blob, so it
// can be read and reviewed; the WAT it encodes:
//
//   (func (export "hunt") (param $p $limit $B $shift $filter i32) (result i32)
//     a = mem32[0]; b = mem32[4]; Bm = B & 0xffff
//     loop
//       weak = b << 16 | a
//       g = weak * 0x85ebca77
//       mask = 1 << (g >>> 27) | 1 << (g >>> 22) | 1 << (g >>> 17)   ;; shl takes the count mod 32
//       if (mem32[filter + ((weak * 0x9e3779b1) >>> shift) * 4] & mask) == mask
//         { mem32[8] = 1; break }
//       if p >=u limit { mem32[8] = 0; break }
//       out = mem8[p]
//       a = (a - out + mem8[p + B]) & 0xffff
//       b = (b - Bm * out + a) & 0xffff
//       p++
//     mem32[0] = a; mem32[4] = b; return p)
//
//   (func (export "sum") (param $p $end i32)   ;; a and b of mem8[p, end) from scratch
//     a = 0; b = 0
//     while p <u end { a += mem8[p]; b += a; p++ }   ;; i32 wraps mod 2^32: the low 16 bits stay exact
//     mem32[0] = a & 0xffff; mem32[4] = b & 0xffff)
//
// State lives at the start of memory: a at 0, b at 4, the stop reason at 8.

export const STATE_BYTES = 16
/** Fibonacci hashing: the top bits pick the prefilter word (and the table slot). */
export const GOLDEN = 0x9e3779b1 | 0
/** A second odd multiplier whose top fifteen bits pick the three bits in the word. */
export const GOLDEN2 = 0x85ebca77 | 0

const I32 = 0x7f
const op = {
  block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, br: 0x0c, brIf: 0x0d, empty: 0x40,
  get: 0x20, set: 0x21, tee: 0x22, const: 0x41,
  load: 0x28, load8u: 0x2d, store: 0x36,
  eq: 0x46, geu: 0x4f, add: 0x6a, sub: 0x6b, mul: 0x6c, and: 0x71, or: 0x72, shl: 0x74, shru: 0x76,
}
// Locals: the five parameters, then these.
const [p, limit, B, shift, filter, a, b, weak, g, mask, out, Bm] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]

function uleb(n: number): number[] {
  const bytes: number[] = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    bytes.push(byte)
  } while (n !== 0)
  return bytes
}

function sleb(n: number): number[] {
  const bytes: number[] = []
  for (;;) {
    const byte = n & 0x7f
    n >>= 7
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      bytes.push(byte)
      return bytes
    }
    bytes.push(byte | 0x80)
  }
}

const c = (n: number) => [op.const, ...sleb(n)]
const get = (i: number) => [op.get, i]
const set = (i: number) => [op.set, i]
const mem = (o: number, offset: number) => [o, o === op.load8u ? 0 : 2, ...uleb(offset)]

const body = [
  ...c(0), ...mem(op.load, 0), ...set(a),
  ...c(0), ...mem(op.load, 4), ...set(b),
  ...get(B), ...c(0xffff), op.and, ...set(Bm),
  op.block, op.empty,
  op.loop, op.empty,
  ...get(b), ...c(16), op.shl, ...get(a), op.or, ...set(weak),
  ...get(weak), ...c(GOLDEN2), op.mul, ...set(g),
  ...c(1), ...get(g), ...c(27), op.shru, op.shl,
  ...c(1), ...get(g), ...c(22), op.shru, op.shl, op.or,
  ...c(1), ...get(g), ...c(17), op.shru, op.shl, op.or, op.tee, mask,
  ...get(filter), ...get(weak), ...c(GOLDEN), op.mul, ...get(shift), op.shru, ...c(2), op.shl, op.add, ...mem(op.load, 0),
  op.and, ...get(mask), op.eq,
  op.if, op.empty, ...c(0), ...c(1), ...mem(op.store, 8), op.br, 2, op.end,
  ...get(p), ...get(limit), op.geu,
  op.if, op.empty, ...c(0), ...c(0), ...mem(op.store, 8), op.br, 2, op.end,
  ...get(p), ...mem(op.load8u, 0), ...set(out),
  ...get(a), ...get(out), op.sub, ...get(p), ...get(B), op.add, ...mem(op.load8u, 0), op.add, ...c(0xffff), op.and, ...set(a),
  ...get(b), ...get(Bm), ...get(out), op.mul, op.sub, ...get(a), op.add, ...c(0xffff), op.and, ...set(b),
  ...get(p), ...c(1), op.add, ...set(p),
  op.br, 0,
  op.end,
  op.end,
  ...c(0), ...get(a), ...mem(op.store, 0),
  ...c(0), ...get(b), ...mem(op.store, 4),
  ...get(p),
  op.end,
]

// sum's locals: the two parameters, then a and b.
const [sp, send, sa, sb] = [0, 1, 2, 3]
const sumBody = [
  op.block, op.empty,
  op.loop, op.empty,
  ...get(sp), ...get(send), op.geu, op.brIf, 1,
  ...get(sa), ...get(sp), ...mem(op.load8u, 0), op.add, op.tee, sa,
  ...get(sb), op.add, ...set(sb),
  ...get(sp), ...c(1), op.add, ...set(sp),
  op.br, 0,
  op.end,
  op.end,
  ...c(0), ...get(sa), ...c(0xffff), op.and, ...mem(op.store, 0),
  ...c(0), ...get(sb), ...c(0xffff), op.and, ...mem(op.store, 4),
  op.end,
]

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content]
}
const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, 'latin1')]
const code = [1, 0x07, I32, ...body] // one local group: seven i32
const sumCode = [1, 0x02, I32, ...sumBody]

const MODULE = new WebAssembly.Module(Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [2, 0x60, 5, I32, I32, I32, I32, I32, 1, I32, 0x60, 2, I32, I32, 0]),
  ...section(2, [1, ...name('env'), ...name('mem'), 0x02, 0x00, 1]),
  ...section(3, [2, 0, 1]),
  ...section(7, [2, ...name('hunt'), 0x00, 0, ...name('sum'), 0x00, 1]),
  ...section(10, [2, ...uleb(code.length), ...code, ...uleb(sumCode.length), ...sumCode]),
]))

/**
 * Rolls the window at p until the prefilter at byte offset `filter` passes
 * (mem32[8] = 1) or p reaches limit (mem32[8] = 0); returns the new p. The
 * window's a and b are read from and written back to mem32[0] and mem32[4].
 */
export type Hunt = (p: number, limit: number, blockSize: number, wordShift: number, filter: number) => number
/** Sets mem32[0] and mem32[4] to a and b of mem8[p, end), as rollsum() computes them. */
export type Sum = (p: number, end: number) => void

export function hunter(memory: WebAssembly.Memory): { hunt: Hunt; sum: Sum } {
  const instance = new WebAssembly.Instance(MODULE, { env: { mem: memory } })
  return { hunt: instance.exports.hunt as Hunt, sum: instance.exports.sum as Sum }
}
