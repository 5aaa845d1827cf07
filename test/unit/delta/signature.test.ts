// Block size rule, the streaming builder, and the binary encoding with its checks.
import t from 'tap'
import { InputError } from '../../../src/errors.js'
import { rollsum } from '../../../src/delta/rollsum.js'
import {
  MAX_BLOCK, MAX_BLOCKS, MIN_BLOCK, STRONG_LEN, SignatureBuilder, blockCount, blockSizeFor, decodeSignature,
  encodeSignature, strongSum, type Signature,
} from '../../../src/delta/signature.js'
import { SLICES } from '../../helpers.js'
import { signatureOf, xorshift } from './gen.js'

const GiB = 2 ** 30

t.test('block size rule', async (t) => {
  t.equal(blockSizeFor(0), MIN_BLOCK)
  t.equal(blockSizeFor(100), MIN_BLOCK)
  t.equal(blockSizeFor(GiB), 4096, '1 GiB: 4 KiB, 2^18 blocks')
  t.equal(blockSizeFor(GiB + 1), 8192)
  t.equal(blockSizeFor(50 * GiB), 256 * 1024)
  t.equal(blockSizeFor(2 ** 40), 4 * 2 ** 20)
  for (const len of [1, 12345, GiB, 3 * GiB + 7, 2 ** 45, 2 ** 48]) {
    const B = blockSizeFor(len)
    t.ok(blockCount(len, B) <= MAX_BLOCKS && (B === MIN_BLOCK || blockCount(len, B / 2) > MAX_BLOCKS), `${len}: ${B} is the smallest that fits`)
    t.equal(B & (B - 1), 0, 'a power of two')
  }
  t.equal(blockSizeFor(Number.MAX_SAFE_INTEGER), MAX_BLOCK, 'capped')
  t.throws(() => blockSizeFor(-1), RangeError)
  t.throws(() => blockSizeFor(1.5), RangeError)
})

t.test('the builder gives the same signature at every chunk size', async (t) => {
  const rng = xorshift(3)
  const B = 100
  const base = rng.bytes(10 * B + 37)
  const ref = await signatureOf(base, B, 0)
  t.equal(ref.length, base.length)
  t.equal(ref.weak.length, 11)
  t.equal(ref.strong.length, 11 * STRONG_LEN)
  t.equal(ref.weak[3], rollsum(base, 300, 400), 'weak sum of a full block')
  t.equal(ref.weak[10], rollsum(base, 1000, 1037), 'the short last block over its own length')
  t.ok(ref.strong.subarray(10 * STRONG_LEN).equals(strongSum(base.subarray(1000))), 'strong sum of the short block')
  for (const n of SLICES) t.strictSame(await signatureOf(base, B, n), ref, `chunks of ${n}`)
  const big = await signatureOf(rng.bytes(300 * B), B, 0)
  t.equal(big.weak.length, 300, 'the tables grow past their first size')
  const empty = new SignatureBuilder(B).finish()
  t.strictSame([empty.length, empty.weak.length, empty.strong.length], [0, 0, 0])
  t.throws(() => new SignatureBuilder(0), RangeError)
  t.throws(() => new SignatureBuilder(MAX_BLOCK + 1), RangeError)
  const sb = new SignatureBuilder(B)
  sb.finish()
  t.throws(() => sb.update(Buffer.alloc(1)), /after finish/)
  t.throws(() => sb.finish(), /twice/)
})

t.test('encoding round trip', async (t) => {
  const rng = xorshift(4)
  for (const len of [0, 1, 4095, 4096, 50_000]) {
    const sig = await signatureOf(rng.bytes(len), 4096, 0)
    const enc = encodeSignature(sig)
    t.equal(enc.length, 24 + sig.weak.length * 20)
    t.strictSame(decodeSignature(enc), sig, `${len} bytes`)
    const framed = Buffer.concat([Buffer.alloc(3), enc]).subarray(3)
    t.strictSame(decodeSignature(new Uint8Array(framed.buffer, framed.byteOffset, framed.length)), sig, 'from a view at an odd offset')
  }
  const sig = await signatureOf(rng.bytes(100), 64, 0)
  const hex = encodeSignature(sig).toString('hex', 0, 24)
  t.equal(hex, '42545347' + '01' + '10' + '0000' + '00000040' + '0000000000000064' + '00000002', 'header layout')
  t.throws(() => encodeSignature({ ...sig, length: 1000 }), /inconsistent signature/)
  t.throws(() => encodeSignature({ ...sig, blockSize: 0 }), RangeError)
})

t.test('malformed signatures are refused', async (t) => {
  const sig: Signature = await signatureOf(xorshift(5).bytes(200), 64, 0)
  const good = encodeSignature(sig)
  const bad = (what: string, f: (b: Buffer) => Buffer, msg: RegExp) => {
    try {
      decodeSignature(f(Buffer.from(good)))
      t.fail(`${what}: accepted`)
    } catch (err) {
      t.ok(err instanceof InputError && err.code === 'BT_BAD_SIGNATURE', `${what}: BT_BAD_SIGNATURE`)
      t.match((err as Error).message, /^malformed block signature: /)
      t.match((err as Error).message, msg, what)
    }
  }
  bad('empty', () => Buffer.alloc(0), /shorter than the 24-byte header/)
  bad('short header', (b) => b.subarray(0, 23), /shorter than the 24-byte header/)
  bad('magic', (b) => (b.write('BTSX', 0), b), /bad magic 0x42545358/)
  bad('version', (b) => (b[4] = 2, b), /unsupported version 2/)
  bad('strong length', (b) => (b[5] = 20, b), /strong checksum length 20/)
  bad('reserved', (b) => (b[7] = 1, b), /reserved/)
  bad('block size zero', (b) => (b.writeUInt32BE(0, 8), b), /block size 0 is out of range/)
  bad('block size huge', (b) => (b.writeUInt32BE(0xffffffff, 8), b), /out of range/)
  bad('length too large', (b) => (b.writeBigUInt64BE(2n ** 60n, 12), b), /too large/)
  bad('count mismatch', (b) => (b.writeUInt32BE(3, 20), b), /block count 3 does not match 200 bytes in blocks of 64 \(expected 4\)/)
  bad('truncated', (b) => b.subarray(0, b.length - 1), /truncated/)
  bad('trailing data', (b) => Buffer.concat([b, Buffer.alloc(1)]), /trailing data/)
  bad('huge count, short buffer', (b) => (b.writeUInt32BE(1, 8), b.writeBigUInt64BE(2n ** 32n - 1n, 12), b.writeUInt32BE(0xffffffff, 20), b), /truncated/)
})
