// ByteSource hashes the bytes the reader parses in batches: what it must keep
// is that every byte is in the digest before its chunk is let go, and before a
// caller outside the reader sees it.
import t from 'tap'
import { createHash } from 'node:crypto'
import { ByteSource } from '../../../src/format/bytes.js'

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

/** A source that reuses one buffer: each chunk is overwritten when the next is asked for, as a pooled reader would. */
async function* reusing(data: Buffer, size: number): AsyncGenerator<Buffer> {
  const buf = Buffer.alloc(size)
  for (let i = 0; i < data.length; i += size) {
    const n = data.copy(buf, 0, i, i + size)
    yield buf.subarray(0, n)
    buf.fill(0xee) // the chunk just handed out is gone
  }
}

// The reader keeps views into the chunk it parses (pax values), so a whole
// stream needs a source that does not reuse its buffers; the digest alone does not.
t.test('the digest covers every byte, however they were taken, from a source that reuses its buffer', async (t) => {
  const data = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff))
  for (const size of [1, 3, 512, 700, 4096, 6000]) {
    const src = new ByteSource(reusing(data, size))
    // Parsed (hashed later), handed out (hashed at once), skipped, across chunk boundaries.
    const head = Buffer.from(await src.exact(513))
    t.ok(head.equals(data.subarray(0, 513)), `${size}-byte chunks: exact`)
    const taken = Buffer.from(await src.take(100))
    t.ok(taken.length > 0 && taken.equals(data.subarray(513, 513 + taken.length)), 'take: what is buffered, up to the limit')
    t.equal(src.consumed, 513 + taken.length)
    t.equal(src.digest(), sha256(data.subarray(0, src.consumed)), 'digest after take')
    t.equal(await src.skip(1000), 1000)
    const at = src.consumed
    const e = Buffer.from(await src.exact(2000))
    t.ok(e.equals(data.subarray(at, at + 2000)), 'exact after skip')
    t.equal(src.digest(), sha256(data.subarray(0, at + 2000)), 'digest after skip and exact')
    t.equal(await src.skip(5000), data.length - at - 2000, 'skip stops at the end')
    t.ok(await src.atEnd())
    t.equal(src.digest(), sha256(data), 'the whole input')
  }
})
