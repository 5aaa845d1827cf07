// Issue 14: bt-put's resume window held the input's own chunks for a window's
// worth of traffic, so every one of them outlived V8's young generation and
// piled up, dead, until a full collection (bt-put peaked at 167 MiB on a
// 826 MB archive). The window now copies into one buffer of its limit, reused
// for every volume: it holds no pushed buffer, and never more than its limit.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { Window } from '../../src/transport/feed.js'

const join = (w: Window, from: number) => Buffer.concat([...w.from(from)])

t.test('the window keeps copies, not the pushed buffers', async (t) => {
  const w = new Window(1 << 16)
  const a = randomBytes(5000)
  const saved = Buffer.from(a)
  w.push(a)
  a.fill(0) // a reader that reuses its buffer, or a chunk collected
  t.same(join(w, 0), saved, 'what was pushed is replayed as it was when pushed')
  t.equal(w.capacity, 1 << 16, 'its one buffer is the size of its limit')
})

t.test('memory is the limit whatever goes through, and the last limit bytes are kept', async (t) => {
  const limit = 1 << 16
  const w = new Window(limit)
  const all: Buffer[] = []
  let seed = 1
  for (let i = 0; i < 400; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648
    const b = randomBytes(1 + (seed % 3000) + (i % 50 === 0 ? 100_000 : 0)) // some chunks larger than the window
    all.push(b)
    w.push(b)
    t.ok(w.capacity <= limit, 'holds no more than its limit')
  }
  const total = Buffer.concat(all)
  t.equal(w.end, total.length)
  t.equal(w.start, total.length - limit, 'keeps exactly the last limit bytes')
  t.same(join(w, w.start), total.subarray(w.start), 'the kept bytes from the start of the window')
  t.same(join(w, total.length - 1234), total.subarray(total.length - 1234), 'from inside the window, across the wrap')
  t.same(join(w, w.end), Buffer.alloc(0), 'from its end: nothing')
  t.throws(() => [...w.from(w.start - 1)], RangeError, 'a byte no longer kept')
})

t.test('reset starts a new volume at offset 0 in the same buffer', async (t) => {
  const w = new Window(1 << 16)
  w.push(randomBytes(100_000))
  w.reset()
  t.equal(w.start, 0)
  t.equal(w.end, 0)
  const b = randomBytes(777)
  w.push(b)
  t.same(join(w, 0), b)
  t.same(join(w, 700), b.subarray(700))
})
