// Captured files in the codec (backtory-stream(5), CAPTURES): StreamEncoder
// writes only well-formed runs, readFrames hands a run on as one entry whose
// size grows to the whole file's, whatever the consumer reads of it.
import t from 'tap'
import { createHash } from 'node:crypto'
import { type CapturePart, type EntryMeta, type Frame, type StreamInfo } from '../../../src/format/frame.js'
import { readFrames } from '../../../src/format/reader.js'
import { settled } from '../../../src/format/run.js'
import { StreamEncoder } from '../../../src/format/writer.js'
import { xorshift } from '../../../scripts/gen-vectors.js'
import { SLICES, chunked } from '../../helpers.js'

const INFO: StreamInfo = {
  version: '1', producer: 'backtory test', host: 'test.example', source: '/src', stream: 'full',
  time: '2024-06-01T12:00:00.000Z', id: 'fedcba9876543210fedcba9876543210',
}
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

function m(path: string, size = 0, more: Partial<EntryMeta> = {}): EntryMeta {
  return { path, type: 'file', mode: 0o600, uid: 1000, gid: 1000, uname: '', gname: '', mtime: { sec: 1717243200, nsec: 0 }, size, xattrs: [], ...more }
}

function bytes(n: number, seed: number): Buffer {
  const rnd = xorshift(seed)
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = rnd() & 0xff
  return b
}

type Piece = { meta: EntryMeta; data: Buffer; part?: CapturePart }

function encode(pieces: Piece[]): Buffer {
  const enc = new StreamEncoder()
  const out = [enc.header(INFO), enc.entry(m('.', 0, { type: 'directory', mode: 0o755 })), enc.endEntry()]
  for (const p of pieces) {
    out.push(enc.entry(p.meta, p.part))
    if (p.data.length) out.push(enc.data(p.data))
    out.push(enc.endEntry())
  }
  out.push(enc.trailer())
  return Buffer.concat(out)
}

function run(path: string, parts: Buffer[]): Piece[] {
  return parts.map((data, index) => ({ meta: m(path, data.length), data, part: { index, more: index < parts.length - 1 } }))
}

const dump = bytes(25000, 1)
const parts = [dump.subarray(0, 10000), dump.subarray(10000, 20000), dump.subarray(20000)]
const stream = encode([{ meta: m('a.txt', 3), data: Buffer.from('a\n\n') }, ...run('db.sql', parts), ...run('e.sql', [Buffer.alloc(0)]),
  { meta: m('z.txt', 2), data: Buffer.from('z\n') }])

t.test('the encoder writes well-formed runs only', async (t) => {
  const start = () => {
    const e = new StreamEncoder()
    e.header(INFO)
    e.entry(m('.', 0, { type: 'directory', mode: 0o755 }))
    e.endEntry()
    return e
  }
  const open = () => {
    const e = start()
    e.entry(m('db.sql', 1), { index: 0, more: true })
    e.data(Buffer.from('x'))
    e.endEntry()
    return e
  }
  t.throws(() => start().entry(m('db.sql'), { index: 1, more: false }), /part 1 .* where part 0 belongs/)
  t.throws(() => open().entry(m('db.sql'), { index: 2, more: false }), /part 2 .* where part 1 belongs/)
  t.throws(() => open().entry(m('other')), /lacks its last part/)
  t.throws(() => open().entry(m('other'), { index: 1, more: false }), /lacks its last part/)
  t.throws(() => open().incomplete('db.sql', 'x'), /incomplete note inside the capture/)
  t.throws(() => open().trailer(), /lacks its last part/)
  t.throws(() => start().entry(m('l', 0, { type: 'symlink', linkpath: 'x' }), { index: 0, more: false }), /plain regular file/)
  t.throws(() => start().entry(m('s', 10, { sparse: [[10, 0]] }), { index: 0, more: false }), /plain regular file/)
  const e = open()
  e.entry(m('db.sql', 0), { index: 1, more: false })
  e.endEntry()
  t.doesNotThrow(() => e.trailer(), 'a finished run may end the stream')
})

t.test('a run is one entry, whole and in slices', async (t) => {
  for (const n of SLICES) {
    const seen: string[] = []
    for await (const f of readFrames(chunked(stream, n))) {
      if (f.kind !== 'entry') {
        seen.push(f.kind)
        continue
      }
      const h = createHash('sha256')
      for await (const c of f.body) h.update(c)
      seen.push(`${f.meta.path} ${f.meta.size} ${f.meta.capture?.parts ?? '-'} ${h.digest('hex')}`)
    }
    t.strictSame(seen, ['header', `. 0 - ${sha256(Buffer.alloc(0))}`, `a.txt 3 - ${sha256(Buffer.from('a\n\n'))}`,
      `db.sql 25000 3 ${sha256(dump)}`, `e.sql 0 1 ${sha256(Buffer.alloc(0))}`, `z.txt 2 - ${sha256(Buffer.from('z\n'))}`, 'trailer'], `slices of ${n}`)
  }
})

t.test('size and parts grow as the body is read, and are final at its end', async (t) => {
  // Pulled by hand: leaving a for-await loop would end the reader.
  const frames = readFrames(chunked(stream, 4096))
  let db: Frame | undefined
  while (db?.kind !== 'entry' || db.meta.path !== 'db.sql') db = (await frames.next()).value as Frame
  if (db?.kind !== 'entry') throw new Error('no db.sql')
  t.equal(db.meta.size, 10000, 'at first, the size of part 0')
  t.strictSame(db.meta.capture, { parts: 1 })
  const it = db.body[Symbol.asyncIterator]()
  let got = 0
  while (got <= 10000) got += (await it.next()).value!.length
  t.equal(db.meta.size, 20000, 'part 1 read: its size added')
  for (let r = await it.next(); !r.done; r = await it.next()) got += r.value.length
  t.equal(got, 25000)
  t.equal(db.meta.size, 25000)
  t.strictSame(db.meta.capture, { parts: 3 })
  t.match((await frames.next()).value, { kind: 'entry', meta: { path: 'e.sql' } })
  await frames.return(undefined)
})

t.test('a consumer may read part of a run, or none of it', async (t) => {
  const read = async (take: number) => {
    const out: string[] = []
    for await (const f of readFrames(chunked(stream, 1000))) {
      if (f.kind !== 'entry') continue
      if (f.meta.path === 'db.sql') {
        let n = 0
        for await (const c of f.body) if ((n += c.length) >= take) break
      }
      out.push(f.meta.path)
    }
    return out
  }
  for (const take of [0, 1, 9999, 10000, 15000, 24999]) t.strictSame(await read(take), ['.', 'a.txt', 'db.sql', 'e.sql', 'z.txt'], `stopped after ${take} bytes`)
})

t.test('settled() gives a listing the whole size', async (t) => {
  const sizes: Array<[string, number]> = []
  for await (const f of readFrames(chunked(stream, 0))) {
    const s = await settled(f)
    if (s.kind === 'entry') sizes.push([s.meta.path, s.meta.size])
  }
  t.strictSame(sizes, [['.', 0], ['a.txt', 3], ['db.sql', 25000], ['e.sql', 0], ['z.txt', 2]])
})

t.test('a stream cut inside a run names the capture', async (t) => {
  const cut = stream.indexOf(Buffer.from('PaxHeaders/db.sql'), stream.indexOf(Buffer.from('PaxHeaders/db.sql')) + 1) - 0
  const frames = readFrames(chunked(stream.subarray(0, cut), 7))
  await t.rejects((async () => {
    for await (const f of frames) if (f.kind === 'entry') for await (const c of f.body) void c
  })(), { code: 'BT_TRUNCATED', message: /inside the capture "db\.sql", after its part 0/ })
})
