// The weak checksum against the formula in the rsync report, and rolling
// against computing from scratch.
import t from 'tap'
import { halves, roll, rollsum } from '../../../src/delta/rollsum.js'
import { xorshift } from './gen.js'

/** The definition, term by term, with no cleverness. */
function naive(buf: Buffer, start: number, end: number): number {
  const B = end - start
  let a = 0
  let b = 0
  for (let i = 0; i < B; i++) {
    a = (a + buf[start + i]) % 65536
    b = (b + (B - i) * buf[start + i]) % 65536
  }
  return (b << 16) | a
}

t.test('from scratch matches the definition', async (t) => {
  const rng = xorshift(1)
  for (const len of [0, 1, 2, 255, 256, 257, 4096, 70_000]) {
    const buf = rng.bytes(len + 10)
    t.equal(rollsum(buf, 5, 5 + len), naive(buf, 5, 5 + len), `${len} bytes`)
  }
  const ff = Buffer.alloc(100_000, 0xff)
  t.equal(rollsum(ff, 0, ff.length), naive(ff, 0, ff.length), 'all 0xff: the sums wrap')
  t.equal(rollsum(Buffer.alloc(0), 0, 0), 0)
})

t.test('a signed int32 made of b and a', async (t) => {
  const buf = Buffer.alloc(4096, 0xff)
  const w = rollsum(buf, 0, buf.length)
  t.equal(w | 0, w, 'an int32')
  t.same(halves(w), { a: (4096 * 255) % 65536, b: ((4096 * 4097) / 2 * 255) % 65536 })
  t.ok(new Int32Array([w])[0] === w, 'survives an Int32Array')
})

t.test('rolling equals recomputing', async (t) => {
  const rng = xorshift(2)
  for (const B of [1, 2, 16, 1000, 4096, 65536, 70_000]) {
    const buf = rng.bytes(B + 3000)
    let w = rollsum(buf, 0, B)
    let ok = true
    for (let k = 0; k + B < buf.length; k++) {
      w = roll(w, buf[k], buf[k + B], B)
      if (w !== rollsum(buf, k + 1, k + 1 + B)) {
        ok = false
        break
      }
    }
    t.ok(ok, `window of ${B}`)
  }
})
