// The delta wire format: layout, streaming decode at every chunk size, and the
// checks a reader must make.
import t from 'tap'
import { InputError } from '../../../src/errors.js'
import { DeltaDecoder, encodeCopy, encodeLiteral, type DeltaOp } from '../../../src/delta/format.js'
import { SLICES } from '../../helpers.js'
import { opsOf, xorshift } from './gen.js'

/** Joins adjacent literal pieces, which the decoder may hand out split. */
function merged(ops: DeltaOp[]): DeltaOp[] {
  const out: DeltaOp[] = []
  for (const op of ops) {
    const last = out[out.length - 1]
    if (op.kind === 'literal' && last?.kind === 'literal') last.data = Buffer.concat([last.data, op.data])
    else out.push(op.kind === 'literal' ? { kind: 'literal', data: Buffer.from(op.data) } : op)
  }
  return out
}

t.test('layout', async (t) => {
  t.equal(encodeCopy(2 ** 40 + 5, 4096).toString('hex'), '43' + '0000010000000005' + '00001000')
  t.equal(encodeLiteral(Buffer.from('hi')).toString('hex'), '4c' + '00000002' + '6869')
})

t.test('decoding at every chunk size', async (t) => {
  const rng = xorshift(6)
  const big = rng.bytes(150_000)
  const ops: DeltaOp[] = [
    { kind: 'copy', offset: 0, length: 10 },
    { kind: 'literal', data: Buffer.from('x') },
    { kind: 'copy', offset: 2 ** 33, length: 0xffffffff },
    { kind: 'literal', data: big },
    { kind: 'literal', data: rng.bytes(12) },
    { kind: 'copy', offset: 7, length: 1 },
  ]
  const delta = Buffer.concat(ops.map((o) => (o.kind === 'copy' ? encodeCopy(o.offset, o.length) : encodeLiteral(o.data))))
  for (const n of SLICES) {
    const got = await opsOf(delta, n)
    t.ok(got.every((o) => o.kind === 'copy' || (o.data.length > 0 && o.data.length <= Math.max(n, big.length))), `chunks of ${n}: no empty pieces`)
    if (n > 0 && n < 100) t.ok(got.filter((o) => o.kind === 'literal').every((o) => (o as { data: Buffer }).data.length <= n), 'literal handed out piece by piece')
    // Same ops once the pieces are joined (the two literals in a row join too).
    const want = merged(ops)
    t.strictSame(merged(got), want, `chunks of ${n}`)
  }
  const dec = new DeltaDecoder()
  t.strictSame(dec.push(Buffer.alloc(0)), [], 'an empty push')
  dec.end()
  t.pass('an empty delta is valid')
  const counting = new DeltaDecoder({ baseLength: 20 })
  counting.push(Buffer.concat([encodeCopy(0, 10), encodeLiteral(Buffer.from('abc'))]))
  t.equal(counting.outputLength, 13, 'output length is counted')
})

t.test('malformed deltas are refused', async (t) => {
  const bad = async (what: string, delta: Buffer, msg: RegExp, baseLength?: number) => {
    for (const n of [0, 1, 5]) {
      try {
        await opsOf(delta, n, baseLength)
        t.fail(`${what}: accepted`)
      } catch (err) {
        t.ok(err instanceof InputError && err.code === 'BT_BAD_DELTA', `${what}, chunks of ${n}: BT_BAD_DELTA`)
        t.match((err as Error).message, msg, what)
      }
    }
  }
  await bad('unknown op', Buffer.concat([encodeCopy(0, 1), Buffer.from('X')]), /^malformed delta: unknown op byte 0x58 at offset 13$/)
  await bad('zero literal', Buffer.from('4c00000000', 'hex'), /literal of length 0 at offset 0/)
  await bad('zero copy', encodeCopy(5, 0), /copy of length 0 at offset 0/)
  await bad('copy past the base', Buffer.concat([encodeCopy(0, 10), encodeCopy(95, 6)]), /copy of 6 bytes from base offset 95 reaches past the base of 100 bytes \(op at offset 13\)/, 100)
  await bad('offset beyond 2^53', Buffer.from('43ffffffffffffffff00000001', 'hex'), /base offset 18446744073709551615 reaches past the largest safe offset/)
  await bad('truncated header', encodeCopy(0, 1).subarray(0, 12), /truncated: 12 bytes of an op header/)
  await bad('truncated literal', encodeLiteral(Buffer.from('hello')).subarray(0, 7), /truncated: 3 literal bytes missing/)
  const ok = await opsOf(encodeCopy(90, 10), 0, 100)
  t.strictSame(ok, [{ kind: 'copy', offset: 90, length: 10 }], 'a copy up to the very end of the base is fine')
})
