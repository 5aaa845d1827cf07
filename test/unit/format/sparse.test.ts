// GNU sparse 1.0 maps: encoding, and the incremental block-by-block decoder.
import t, { type Test } from 'tap'
import { InputError } from '../../../src/errors.js'
import { MAX_SEGMENTS, SparseMapDecoder, dataBytes, encodeSparseMap } from '../../../src/format/sparse.js'
import { BLOCK } from '../../../src/format/tarblock.js'

type Segs = Array<[number, number]>

/** Feeds a map block by block; returns the segments and how many blocks it took. */
function decode(map: Buffer, realSize: number): { segs: Segs; blocks: number } {
  const dec = new SparseMapDecoder('test', realSize)
  for (let off = 0; off < map.length; off += BLOCK) {
    const segs = dec.push(map.subarray(off, off + BLOCK))
    if (segs) return { segs, blocks: dec.blocks }
  }
  throw new Error('the map never ended')
}

function refuses(t: Test, blocks: Buffer, realSize: number, code: string, what: string): void {
  const dec = new SparseMapDecoder('test', realSize)
  try {
    for (let off = 0; off < blocks.length; off += BLOCK) {
      if (dec.push(blocks.subarray(off, off + BLOCK))) break
    }
    t.fail(`${what}: accepted`)
  } catch (err) {
    t.ok(err instanceof InputError && err.code === code, `${what}: ${code}`)
  }
}

function block(text: string): Buffer {
  const b = Buffer.alloc(Math.ceil(Math.max(text.length, 1) / BLOCK) * BLOCK)
  b.write(text, 'latin1')
  return b
}

t.test('map encoding', async (t) => {
  const segs: Segs = [[0, 4096], [1048576, 512], [3145733, 0]]
  const map = encodeSparseMap(segs)
  t.equal(map.length, BLOCK, 'padded to one block')
  t.equal(map.toString('latin1').replace(/\0+$/, ''), '3\n0\n4096\n1048576\n512\n3145733\n0\n')
  t.equal(dataBytes(segs), 4608)
  t.equal(dataBytes([]), 0)
  t.equal(encodeSparseMap([]).toString('latin1').replace(/\0+$/, ''), '0\n')
})

t.test('map round trips', async (t) => {
  const nine = 9 * 2 ** 30
  const cases: Array<[string, Segs, number]> = [
    ['no data at all', [], 65536],
    ['only a trailing hole marker', [[65536, 0]], 65536],
    ['leading hole', [[4096, 100]], 4196],
    ['data then a trailing hole', [[0, 10], [9000, 0]], 9000],
    ['beyond 8 GiB', [[0, 4096], [2 ** 33 + 12345, 1000], [nine + 7, 0]], nine + 7],
    ['adjacent segments', [[0, 10], [10, 10]], 20],
  ]
  for (const [what, segs, size] of cases) {
    const got = decode(encodeSparseMap(segs), size)
    t.strictSame(got.segs, segs, what)
    t.equal(got.blocks, 1, `${what}: one block`)
  }
})

t.test('maps over several blocks', async (t) => {
  const segs: Segs = []
  for (let i = 0; i < 200; i++) segs.push([i * 2 ** 24 + 1234567, 4096])
  const size = 200 * 2 ** 24
  const map = encodeSparseMap(segs)
  t.ok(map.length > 4 * BLOCK, 'several blocks')
  const got = decode(map, size)
  t.strictSame(got.segs, segs)
  t.equal(got.blocks, map.length / BLOCK, 'every block of the map is consumed, and no more')

  // Numbers that straddle a block boundary, at every possible cut.
  for (let shift = 0; shift < 12; shift++) {
    const s: Segs = [[0, 1]]
    for (let i = 1; i < 60 + shift; i++) s.push([10 ** 6 * i + shift, 7])
    const m = encodeSparseMap(s)
    t.strictSame(decode(m, 10 ** 9).segs, s, `shift ${shift}`)
  }
})

t.test('a map that fills its block exactly', async (t) => {
  // Find segments whose map text is exactly 512 bytes, ending in "\n" at the block's end.
  let found: Segs | undefined
  for (let n = 1; n < 100 && !found; n++) {
    for (let d = 5; d <= 16 && !found; d++) {
      for (let k = 0; k <= n && !found; k++) {
        const segs: Segs = Array.from({ length: n }, (_, i) => [10 ** (d - 1) + i * 100, i < k ? 10 : 1])
        const text = `${segs.length}\n${segs.map(([o, l]) => `${o}\n${l}\n`).join('')}`
        if (text.length === BLOCK) found = segs
      }
    }
  }
  t.ok(found, 'such a map exists')
  if (!found) return
  const map = encodeSparseMap(found)
  t.equal(map.length, BLOCK, 'no padding block')
  t.strictSame(decode(map, 10 ** 16), { segs: found, blocks: 1 })
})

t.test('bad maps', async (t) => {
  refuses(t, block('2\n0\n10\n5\n10\n'), 100, 'BT_FRAME', 'overlapping segments')
  refuses(t, block('2\n50\n10\n0\n10\n'), 100, 'BT_FRAME', 'segments out of order')
  refuses(t, block('1\n95\n10\n'), 100, 'BT_FRAME', 'a segment past the real size')
  refuses(t, block('1\n101\n0\n'), 100, 'BT_FRAME', 'a hole marker past the real size')
  refuses(t, block('1\n0\nten\n'), 100, 'BT_FRAME', 'a word')
  refuses(t, block('1\n-1\n10\n'), 100, 'BT_FRAME', 'a negative number')
  refuses(t, block('1\n 0\n10\n'), 100, 'BT_FRAME', 'a space')
  refuses(t, block('1\n0\n010\n'), 100, 'BT_FRAME', 'a leading zero')
  refuses(t, block('01\n0\n10\n'), 100, 'BT_FRAME', 'a leading zero in the count')
  refuses(t, block('1\n\n10\n'), 100, 'BT_FRAME', 'an empty line')
  refuses(t, block(`1\n${'1'.repeat(17)}\n0\n`), 100, 'BT_FRAME', 'a 17-digit number')
  refuses(t, block('2\n0\n10\n'), 100, 'BT_FRAME', 'fewer segments than counted (NUL padding is not a number)')
  refuses(t, block(`1\n${'1'.repeat(40)}`), 100, 'BT_FRAME', 'a line longer than a number can be')
  refuses(t, block(`${MAX_SEGMENTS + 1}\n`), 100, 'BT_FRAME_SIZE', 'more segments than the limit')
  refuses(t, Buffer.alloc(BLOCK), 100, 'BT_FRAME', 'an all-zero block')
  const dec = new SparseMapDecoder('test', 100)
  t.throws(() => dec.push(Buffer.alloc(100)), { code: 'BT_FRAME', message: /block aligned/ })
})

t.test('the segment limit itself is allowed', async (t) => {
  const dec = new SparseMapDecoder('test', 100)
  const text = `${MAX_SEGMENTS}\n${'0\n'.repeat(252)}1`
  t.equal(text.length, BLOCK)
  t.equal(dec.push(block(text)), undefined, 'the decoder waits for the rest of the segments')
})
