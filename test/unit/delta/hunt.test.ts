// The WebAssembly hot loop against the same loop written plainly in JS, and
// both the rolled sums and wasm's sum from scratch against rollsum().
import t from 'tap'
import { GOLDEN, GOLDEN2, STATE_BYTES, hunter } from '../../../src/delta/hunt.js'
import { rollsum } from '../../../src/delta/rollsum.js'
import { xorshift } from './gen.js'

interface Stop { p: number; a: number; b: number; hit: boolean }

/** The reference: what hunt.ts's WAT comment says, over a plain array. */
function reference(mem: Uint8Array, filter: Int32Array, p: number, limit: number, B: number, shift: number, a: number, b: number): Stop {
  for (;;) {
    const weak = (b << 16) | a
    const g = Math.imul(weak, GOLDEN2)
    const mask = (1 << (g >>> 27)) | (1 << ((g >>> 22) & 31)) | (1 << ((g >>> 17) & 31))
    if ((filter[Math.imul(weak, GOLDEN) >>> shift] & mask) === mask) return { p, a, b, hit: true }
    if (p >= limit) return { p, a, b, hit: false }
    const out = mem[p]
    a = (a - out + mem[p + B]) & 0xffff
    b = (b - B * out + a) & 0xffff
    p++
  }
}

t.test('agrees with the reference and with rollsum', async (t) => {
  const rng = xorshift(0x4a57)
  const memory = new WebAssembly.Memory({ initial: 4 })
  const { hunt, sum } = hunter(memory)
  const bytes = new Uint8Array(memory.buffer)
  const state = new Int32Array(memory.buffer, 0, 3)
  const wordBits = 8
  const shift = 32 - wordBits
  const filterAt = STATE_BYTES
  const filter = new Int32Array(memory.buffer, filterAt, 2 ** wordBits)
  const dataAt = filterAt + 4 * 2 ** wordBits
  let hits = 0
  let runs = 0
  for (const B of [1, 16, 100, 4096, 70_000]) {
    const len = Math.min(B + 100_000, bytes.length - dataAt)
    bytes.set(rng.bytes(len), dataAt)
    filter.fill(0)
    // A sparse filter: some probes pass, most do not.
    for (let k = 0; k < 20; k++) filter[rng.int(filter.length)] = rng.u32() | 0
    const s = rollsum(bytes, dataAt, dataAt + B)
    sum(dataAt, dataAt + B)
    t.equal((state[1] << 16) | state[0], s, `sum of ${B} bytes equals rollsum`)
    let want: Stop = { p: dataAt, a: s & 0xffff, b: s >>> 16, hit: false }
    state[0] = want.a
    state[1] = want.b
    const limit = dataAt + len - B
    let ok = true
    while (true) {
      const p = hunt(want.p, limit, B, shift, filterAt)
      want = reference(bytes, filter, want.p, limit, B, shift, want.a, want.b)
      runs++
      const got = { p, a: state[0], b: state[1], hit: state[2] === 1 }
      if (JSON.stringify(got) !== JSON.stringify(want) || (got.a | (got.b << 16)) !== rollsum(bytes, p, p + B)) {
        ok = false
        t.fail(`B ${B}: wasm ${JSON.stringify(got)} reference ${JSON.stringify(want)}`)
        break
      }
      if (!got.hit) break
      hits++
      // Step past the hit, as the encoder does.
      const out = bytes[want.p]
      want.a = (want.a - out + bytes[want.p + B]) & 0xffff
      want.b = (want.b - B * out + want.a) & 0xffff
      want.p++
      state[0] = want.a
      state[1] = want.b
      if (want.p > limit) break
    }
    t.ok(ok, `window of ${B}: same stops, same sums`)
  }
  t.ok(hits > 10 && runs > hits, `${hits} prefilter hits, ${runs} calls`)
  bytes.fill(0xff, dataAt, dataAt + 200_000)
  sum(dataAt, dataAt + 200_000)
  t.equal((state[1] << 16) | state[0], rollsum(bytes, dataAt, dataAt + 200_000), 'sum wraps like rollsum on 200,000 bytes of 0xff')
  sum(dataAt, dataAt)
  t.strictSame([state[0], state[1]], [0, 0], 'sum of nothing')
})
