// The delta engine end to end: base -> signature -> delta -> ops -> patch must
// give the new content back exactly, at every chunk size, for seeded random
// bases and edits; plus what the delta must look like in the clear-cut cases.
import t from 'tap'
import { DeltaEncoder, LITERAL_RUN } from '../../../src/delta/match.js'
import { COPY_SIZE, LITERAL_HEADER } from '../../../src/delta/format.js'
import { rollsum } from '../../../src/delta/rollsum.js'
import { STRONG_LEN, SignatureBuilder, strongSum } from '../../../src/delta/signature.js'
import { SLICES } from '../../helpers.js'
import { EDITS, deltaOf, lowEntropy, opsOf, roundTrip, signatureOf, xorshift } from './gen.js'

const same = (a: Buffer, b: Buffer) => a.length === b.length && a.equals(b)

t.test('fixed cases at every chunk size', async (t) => {
  const rng = xorshift(0xde17a)
  const B = 64
  const block = rng.bytes(B)
  const r = rng.bytes(5 * B + 17)
  const cases: Array<[string, Buffer, Buffer]> = [
    ['both empty', Buffer.alloc(0), Buffer.alloc(0)],
    ['empty base', Buffer.alloc(0), rng.bytes(3 * B + 5)],
    ['empty new', rng.bytes(3 * B + 5), Buffer.alloc(0)],
    ['base shorter than a block', r.subarray(0, B - 1), r.subarray(0, B - 1)],
    ['base shorter than a block, new longer', r.subarray(0, 10), Buffer.concat([rng.bytes(200), r.subarray(0, 10)])],
    ['new shorter than a block', r, r.subarray(0, B - 1)],
    ['one byte each', Buffer.from([7]), Buffer.from([7])],
    ['exact multiple of the block size', r.subarray(0, 4 * B), r.subarray(0, 4 * B)],
    ['exact multiple, shifted by one', r.subarray(0, 4 * B), Buffer.concat([Buffer.from([1]), r.subarray(0, 4 * B)])],
    ['identical with a short last block', r, r],
    ['a block repeated many times', Buffer.concat(Array<Buffer>(50).fill(block)), Buffer.concat(Array<Buffer>(70).fill(block))],
    ['repeated block against random', Buffer.concat(Array<Buffer>(20).fill(block)), Buffer.concat([r, block, r, block, block])],
    ['zeros against zeros plus a byte', Buffer.alloc(20 * B), Buffer.concat([Buffer.alloc(10 * B), Buffer.from([1]), Buffer.alloc(10 * B + 3)])],
    ['blocks reversed', r.subarray(0, 5 * B), Buffer.concat([4, 3, 2, 1, 0].map((i) => r.subarray(i * B, (i + 1) * B)))],
    ['short last block moved to the front', r, Buffer.concat([r.subarray(5 * B), r.subarray(0, 5 * B)])],
  ]
  for (const [what, base, data] of cases) {
    for (const n of SLICES) {
      const got = await roundTrip(base, data, B, n)
      if (!same(got.patched, data)) t.fail(`${what}, chunks of ${n}`)
    }
    t.pass(what)
  }
})

t.test('seeded random bases and edits', async (t) => {
  const rng = xorshift(0x5eed)
  const names = Object.keys(EDITS)
  let runs = 0
  for (let round = 0; round < 48; round++) {
    const B = [16, 64, 100, 512, 4096][rng.int(5)]
    const len = [0, 1, B - 1, B, 3 * B, 7 * B + rng.int(B), rng.int(40_000)][rng.int(7)]
    const base = round % 3 === 0 ? lowEntropy(rng, len) : rng.bytes(len)
    let data = base
    const applied: string[] = []
    for (let k = 1 + rng.int(4); k > 0; k--) {
      const name = names[rng.int(names.length)]
      data = EDITS[name](rng, data, B)
      applied.push(name)
    }
    for (const n of SLICES) {
      const got = await roundTrip(base, data, B, n)
      runs++
      if (!same(got.patched, data)) {
        t.fail(`round ${round}: block ${B}, base ${base.length}, edits ${applied.join('+')}, chunks of ${n}`)
        return
      }
    }
  }
  t.equal(runs, 48 * SLICES.length, 'every round trip exact')
})

t.test('delta shape: identical is one copy, unrelated is all literal', async (t) => {
  const rng = xorshift(42)
  for (const B of [64, 4096]) {
    for (const len of [B, 10 * B, 10 * B + 33, 300_000]) {
      const base = rng.bytes(len)
      for (const n of [0, 7, 10000]) {
        const sig = await signatureOf(base, B, n)
        const same = await deltaOf(sig, base, n)
        t.equal(same.delta.length, COPY_SIZE, `identical ${len} at ${B}, chunks of ${n}: one copy op`)
        t.match(same.stats, { copiedBytes: len, literalBytes: 0, copyOps: 1, literalOps: 0 })
        t.equal(same.stats.strongChecks, Math.ceil(len / B), 'one strong checksum per block: the next-block path needs no search')
        const other = rng.bytes(len)
        const diff = await deltaOf(sig, other, n)
        t.equal(diff.stats.copiedBytes, 0, `unrelated ${len} at ${B}, chunks of ${n}: nothing copied`)
        t.equal(diff.stats.literalBytes, len)
        t.equal(diff.delta.length, len + LITERAL_HEADER * Math.ceil(len / LITERAL_RUN), 'literal runs of 64 KiB')
      }
    }
  }
})

t.test('a rewritten page costs about the page', async (t) => {
  const rng = xorshift(7)
  const B = 4096
  const base = rng.bytes(256 * 8192)
  const data = Buffer.from(base)
  for (const page of [3, 100, 200]) rng.bytes(8192).copy(data, page * 8192)
  const { delta, stats } = await deltaOf(await signatureOf(base, B, 0), data, 100_000)
  t.equal(stats.literalBytes, 3 * 8192, 'only the three pages are literal')
  t.equal(stats.copyOps, 4, 'the unchanged stretches are one copy each')
  t.equal(delta.length, 3 * (8192 + LITERAL_HEADER) + 4 * COPY_SIZE)
})

t.test('an insertion shifts nothing: blocks match at any offset', async (t) => {
  const rng = xorshift(8)
  const B = 1024
  const base = rng.bytes(100 * B)
  const data = Buffer.concat([base.subarray(0, 5000), rng.bytes(3), base.subarray(5000)])
  const { stats } = await deltaOf(await signatureOf(base, B, 0), data, 0)
  t.ok(stats.literalBytes < 2 * B + 3, `literal ${stats.literalBytes} bytes, under two blocks`)
  t.equal(stats.copyOps, 2)
})

/**
 * Two blocks with equal weak sums and different content: +1 at i, -1 at i+1,
 * -1 at j, +1 at j+1 leaves a unchanged (the four changes sum to zero) and b
 * unchanged (weights B-i, B-i-1, B-j, B-j-1 give 1 - 1 = 0).
 */
function collide(block: Buffer, i: number, j: number): Buffer {
  const c = Buffer.from(block)
  c[i]++
  c[i + 1]--
  c[j]--
  c[j + 1]++
  return c
}

t.test('weak-checksum collisions are rejected by the strong hash', async (t) => {
  const rng = xorshift(0xc0111de)
  for (const B of [16, 64, 4096]) {
    const blocks: Buffer[] = []
    const twins: Buffer[] = []
    for (let k = 0; k < 40; k++) {
      const b = rng.bytes(B).map((x) => 2 + (x % 250))
      const i = rng.int(B / 2 - 1)
      const twin = collide(Buffer.from(b), i, B / 2 + rng.int(B / 2 - 1))
      blocks.push(Buffer.from(b))
      twins.push(twin)
    }
    t.ok(blocks.every((b, k) => rollsum(b, 0, B) === rollsum(twins[k], 0, B) && !b.equals(twins[k])), `${B}: 40 crafted pairs, equal weak sums, different bytes`)
    t.ok(blocks.every((b, k) => !strongSum(b).equals(strongSum(twins[k]))), 'different strong sums')
    const base = Buffer.concat(blocks)
    const sig = await signatureOf(base, B, 0)
    for (const n of [0, 1, 100]) {
      const all = await deltaOf(sig, Buffer.concat(twins), n)
      t.equal(all.stats.copiedBytes, 0, `${B}, chunks of ${n}: no twin copied`)
      const got = await roundTrip(base, Buffer.concat(twins), B, n)
      t.ok(got.patched.equals(Buffer.concat(twins)), 'output exact')
      // Every other block a twin: the originals still copy, the twins do not.
      const mixed = Buffer.concat(blocks.map((b, k) => (k % 2 ? twins[k] : b)))
      const m = await roundTrip(base, mixed, B, n)
      t.ok(m.patched.equals(mixed), 'mixed output exact')
      t.equal(m.stats.copiedBytes, 20 * B, 'exactly the original blocks copied')
    }
  }
  // And the same through the table chain: twins of one another both in the base.
  const B = 32
  const a = rng.bytes(B).map((x) => 2 + (x % 250))
  const b = collide(Buffer.from(a), 3, 20)
  const base = Buffer.concat([a, b])
  const cases: Array<[Buffer, number]> = [
    [Buffer.concat([b, a]), 0],
    [Buffer.concat([b, b, a, a]), 0],
    [Buffer.concat([rng.bytes(5), a, rng.bytes(3), b]), 8],
  ]
  for (const [data, literal] of cases) {
    const got = await roundTrip(base, data, B, 0)
    t.ok(got.patched.equals(data), 'twins in one chain: exact')
    t.equal(got.stats.literalBytes, literal, 'each twin copied from itself')
  }
})

t.test('bounded memory: output is handed back as the input arrives', async (t) => {
  const rng = xorshift(9)
  const B = 4096
  const base = rng.bytes(64 * B)
  const sig = await signatureOf(base, B, 0)
  const enc = new DeltaEncoder(sig)
  const fresh = rng.bytes(4 << 20)
  let given = 0
  for (let off = 0; off < fresh.length; off += 100_000) {
    const out = enc.update(fresh.subarray(off, off + 100_000))
    given += out.reduce((n, b) => n + b.length, 0)
    t.ok(out.every((b) => b.length <= LITERAL_RUN + LITERAL_HEADER), 'no op above one literal run')
  }
  const held = fresh.length - enc.stats.literalBytes
  t.ok(held <= LITERAL_RUN + B, `holds ${held} bytes, at most one literal run plus a block`)
  enc.finish()
  t.equal(enc.stats.literalBytes, fresh.length)
  t.ok(given > 0)
  const big = await deltaOf(sig, Buffer.concat([fresh, base]), 0)
  t.ok(big.largestPiece <= LITERAL_RUN + LITERAL_HEADER, 'whole-buffer input still yields bounded pieces')
})

t.test('misuse', async (t) => {
  const sig = new SignatureBuilder(16).finish()
  const enc = new DeltaEncoder(sig)
  enc.finish()
  t.throws(() => enc.update(Buffer.from('x')), /after finish/)
  t.throws(() => enc.finish(), /twice/)
  t.throws(() => new DeltaEncoder({ ...sig, length: 100 }), /inconsistent signature/)
  t.throws(() => new DeltaEncoder({ blockSize: 16, length: 16, weak: new Int32Array(1), strong: Buffer.alloc(STRONG_LEN - 1) }), /inconsistent/)
  const ops = await opsOf((await deltaOf(sig, Buffer.from('abc'), 0)).delta, 0, 0)
  t.strictSame(ops.map((o) => o.kind), ['literal'], 'an empty base gives a literal')
})
