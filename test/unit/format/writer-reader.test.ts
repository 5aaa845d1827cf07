// StreamEncoder -> readFrames round trips, backpressure, and a seeded fuzz of
// the reader: whatever the damage, it yields the same frames or fails with an
// InputError, and never hangs.
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises'
import { InputError } from '../../../src/errors.js'
import { type EntryMeta, type Frame, type StreamInfo } from '../../../src/format/frame.js'
import { DEFAULT_MAX_HEADER, readFrames } from '../../../src/format/reader.js'
import { BLOCK, decodeUstar } from '../../../src/format/tarblock.js'
import { StreamEncoder } from '../../../src/format/writer.js'
import { generateVectors, listFrames, xorshift } from '../../../scripts/gen-vectors.js'
import { SLICES, chunked } from '../../helpers.js'

const INFO: StreamInfo = {
  version: '1', producer: 'backtory test', host: 'test.example', source: '/src', stream: 'full',
  time: '2024-06-01T12:00:00.000Z', id: 'fedcba9876543210fedcba9876543210',
}
const T = 1717243200
const GiB = 2 ** 30
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

interface Item { meta: EntryMeta; data?: Buffer; incomplete?: string }

function m(path: string, type: EntryMeta['type'], more: Partial<EntryMeta> = {}): EntryMeta {
  return {
    path, type, mode: 0o644, uid: 300000, gid: 300001, uname: 'alice', gname: 'staff',
    mtime: { sec: T, nsec: 123456789 }, size: 0, xattrs: [], ...more,
  }
}

function bytes(n: number, seed: number): Buffer {
  const rnd = xorshift(seed)
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = rnd() & 0xff
  return b
}

/** Encodes items, feeding data in pieces of `piece` bytes to exercise repeated data() calls. */
function encode(items: Item[], piece = 1000, info = INFO): Buffer {
  const enc = new StreamEncoder({ version: info.version })
  const parts = [enc.header(info)]
  for (const it of items) {
    parts.push(enc.entry(it.meta))
    const d = it.data ?? Buffer.alloc(0)
    for (let i = 0; i < d.length; i += piece) parts.push(enc.data(d.subarray(i, i + piece)))
    parts.push(enc.endEntry())
    if (it.incomplete) parts.push(enc.incomplete(it.meta.path, it.incomplete))
  }
  parts.push(enc.trailer())
  return Buffer.concat(parts)
}

interface Decoded { frames: Array<Exclude<Frame, { kind: 'entry' }> | { kind: 'entry'; meta: EntryMeta; data: Buffer }> }

async function decode(source: AsyncIterable<Buffer>, opts = {}): Promise<Decoded> {
  const frames: Decoded['frames'] = []
  for await (const f of readFrames(source, opts)) {
    if (f.kind !== 'entry') {
      frames.push(f)
      continue
    }
    const parts: Buffer[] = []
    for await (const c of f.body) parts.push(Buffer.from(c))
    frames.push({ kind: 'entry', meta: f.meta, data: Buffer.concat(parts) })
  }
  return { frames }
}

const nineGiBSparse: Item = {
  meta: m('images/huge.img', 'file', {
    size: 9 * GiB + 7, sparse: [[0, 4096], [8 * GiB + 12345, 1000], [9 * GiB + 7, 0]], mtime: { sec: T, nsec: 1 },
  }),
  data: bytes(5096, 1),
}

const everyType: Item[] = [
  { meta: m('.', 'directory', { mode: 0o755, ctime: { sec: T + 1, nsec: 2 }, dev: '64769', ino: '2' }) },
  { meta: m('dir', 'directory', { mode: 0o2775 }) },
  {
    meta: m('dir/file', 'file', {
      size: 3000, mode: 0o4755, mtime: { sec: T, nsec: 999999999 }, ctime: { sec: T, nsec: 1 }, dev: '64769', ino: '131073',
      xattrs: [['security.capability', Buffer.from([1, 0, 0, 2, 10, 61, 0, 255])], ['user.comment', Buffer.from('ü ✓')]],
    }),
    data: bytes(3000, 2),
  },
  { meta: m('dir/hardlink', 'hardlink', { linkpath: 'dir/file', dev: '64769', ino: '131073' }) },
  { meta: m('dir/symlink', 'symlink', { mode: 0o777, linkpath: '../'.repeat(40) + 'far/away' }) },
  { meta: m('dir/tty', 'chardev', { mode: 0o620, devmajor: 136, devminor: 1048575 }) },
  { meta: m('dir/disk', 'blockdev', { mode: 0o660, devmajor: 4095, devminor: 0 }) },
  { meta: m('dir/fifo', 'fifo', { mode: 0o600 }) },
  nineGiBSparse,
  { meta: m('ids/nobody', 'file', { uid: 4294967294, gid: 4294967294, uname: 'n'.repeat(40), gname: 'g'.repeat(32), size: 1 }), data: Buffer.from('x') },
  { meta: m('times/pre-epoch', 'file', { mtime: { sec: -2, nsec: 500000000 }, ctime: { sec: -1, nsec: 1 } }) },
  { meta: m('times/far-future', 'file', { mtime: { sec: 2 ** 34, nsec: 7 } }) },
  { meta: m(`${'long/'.repeat(30)}naïve ☕ 日本語`, 'file', { size: 5 }), data: Buffer.from('long\n') },
  { meta: m('growing.log', 'file', { size: 4 }), data: Buffer.from('abc\n'), incomplete: 'changed while being read' },
]

t.test('StreamEncoder refuses misuse', async (t) => {
  const file = m('f', 'file', { size: 3 })
  t.throws(() => new StreamEncoder().entry(file), /outside header/, 'entry before header')
  t.throws(() => new StreamEncoder().trailer(), /outside header/, 'trailer before header')
  const enc = new StreamEncoder({ version: '1' })
  enc.header(INFO)
  t.throws(() => enc.header(INFO), /twice/)
  enc.entry(file)
  t.throws(() => enc.data(Buffer.alloc(4)), /overruns/)
  enc.data(Buffer.alloc(2))
  t.throws(() => enc.endEntry(), /short/)
  t.throws(() => enc.entry(file), /not finished/, 'next entry while data is owed')
  t.throws(() => enc.incomplete('f', 'x'), /not finished/)
  t.throws(() => enc.trailer(), /not finished/)
  enc.data(Buffer.alloc(1))
  enc.endEntry()
  enc.trailer()
  t.throws(() => enc.entry(file), /outside header/, 'entry after trailer')
  t.throws(() => enc.trailer(), /outside header/, 'second trailer')
})

t.test('version 2: the header rides on the root, a note on the next member, the trailer on a repeat of the root', async (t) => {
  const v2 = { ...INFO, version: '2' }
  const root = m('.', 'directory', { mode: 0o755 })
  const start = () => {
    const e = new StreamEncoder()
    t.equal(e.header(v2).length, 0, 'the header alone writes nothing')
    return e
  }
  t.throws(() => start().entry(m('f', 'file')), /starts with its root directory/)
  t.throws(() => start().trailer(), /at least its root/)
  t.throws(() => start().incomplete('.', 'x'), /follows the entry it flags/)
  const e = start()
  e.entry(root)
  e.endEntry()
  t.equal(e.incomplete('.', 'r').length, 0, 'a note writes nothing by itself')
  t.throws(() => e.incomplete('.', 'again'), /one note per entry/)
  const end = e.trailer()
  t.equal(decodeUstar(end.subarray(0, BLOCK), 'x').name, 'BACKTORY.trailer', 'the end member\'s x block')
  const tail = end.subarray(end.length - 3 * BLOCK, end.length - 2 * BLOCK)
  t.equal(decodeUstar(tail, 'root').name, './', 'then the root\'s block again')
  // Walk the headers of a whole stream: every block that starts a member.
  const s2 = encode(everyType, 1000, v2)
  const flags: string[] = []
  for (let at = 0; at < s2.length - 2 * BLOCK;) {
    const u = decodeUstar(s2.subarray(at, at + BLOCK), 'walk')
    flags.push(u.typeflag)
    at += BLOCK + Math.ceil(u.size / BLOCK) * BLOCK
  }
  t.notOk(flags.includes('g'), 'no typeflag g block at all')
  t.equal(flags.filter((f) => f === 'x').length, everyType.length + 1, 'one x header per member, the end member included')
})

for (const version of ['1', '2']) t.test(`every type round trips, whole and in slices (version ${version})`, async (t) => {
  const info = { ...INFO, version }
  const stream = encode(everyType, 1000, info)
  t.equal(stream.length % BLOCK, 0, 'the stream is whole blocks')
  const trailerAt = stream.lastIndexOf('BACKTORY.trailer') // the name field opens the trailer's header block
  for (const n of SLICES) {
    const { frames } = await decode(chunked(stream, n))
    const entries = frames.filter((f) => f.kind === 'entry')
    t.strictSame(entries.map((f) => f.meta), everyType.map((i) => i.meta), `${n}: metadata survives`)
    t.ok(entries.every((f, i) => f.data.equals(everyType[i]!.data ?? Buffer.alloc(0))), `${n}: content survives`)
    t.strictSame(frames[0], { kind: 'header', info })
    t.strictSame(frames.filter((f) => f.kind === 'incomplete'), [{ kind: 'incomplete', path: 'growing.log', reason: 'changed while being read' }])
    const trailer = frames[frames.length - 1]
    t.match(trailer, { kind: 'trailer', entries: everyType.length, incomplete: 1 })
    if (trailer?.kind === 'trailer') {
      t.ok(trailer.bytes > 0 && trailer.bytes === trailerAt, 'trailer byte count is where it starts')
      t.equal(trailer.chain, sha256(stream.subarray(0, trailer.bytes)), 'trailer chain is SHA-256 of all before it')
    }
  }
})

t.test('large numbers survive: ids, nanoseconds, a 9 GiB sparse file', async (t) => {
  const { frames } = await decode(chunked(encode(everyType), 0))
  const get = (p: string) => frames.find((f) => f.kind === 'entry' && f.meta.path === p) as { meta: EntryMeta; data: Buffer }
  t.equal(get('dir/file').meta.uid, 300000)
  t.equal(get('ids/nobody').meta.uid, 4294967294, 'uid past the ustar field')
  t.equal(get('dir/file').meta.mtime.nsec, 999999999)
  t.equal(get('images/huge.img').meta.size, 9 * GiB + 7, 'logical size past 8 GiB')
  t.strictSame(get('images/huge.img').meta.sparse, nineGiBSparse.meta.sparse)
  t.equal(get('images/huge.img').data.length, 5096, 'only the data segments are stored')
  t.strictSame(get('times/pre-epoch').meta.mtime, { sec: -2, nsec: 500000000 })
  t.equal(get('times/far-future').meta.mtime.sec, 2 ** 34)
})

t.test('the stream is a ustar stream: every header block checks out', async (t) => {
  const stream = encode(everyType)
  const { frames } = await decode(chunked(stream, 0))
  t.ok(frames.length > 0)
  const first = decodeUstar(stream.subarray(0, BLOCK), 'test')
  t.equal(first.typeflag, 'g')
  t.equal(first.mtime, T, 'the header frame carries the stream time')
  t.ok(stream.subarray(-2 * BLOCK).equals(Buffer.alloc(2 * BLOCK)), 'ends with the end-of-archive marker')
})

t.test('sizes around block boundaries and large bodies', async (t) => {
  const sizes = [0, 1, 511, 512, 513, 1023, 1024, (1 << 20) + 3, 3 * (1 << 20)]
  const items: Item[] = sizes.map((n, i) => ({ meta: m(`f${n}`, 'file', { size: n }), data: bytes(n, 100 + i) }))
  const stream = encode(items, 65536)
  for (const n of [0, 100, 10000, 200000]) {
    const { frames } = await decode(chunked(stream, n))
    const got = frames.filter((f) => f.kind === 'entry')
    t.strictSame(got.map((f) => f.data.length), sizes, `${n}: sizes`)
    t.ok(got.every((f, i) => f.data.equals(items[i]!.data!)), `${n}: contents`)
  }
  let biggest = 0
  for await (const f of readFrames(chunked(stream, 0))) {
    if (f.kind === 'entry') for await (const c of f.body) biggest = Math.max(biggest, c.length)
  }
  t.ok(biggest <= 1 << 20, 'body chunks are bounded (1 MiB)')
})

t.test('bodies the consumer skips, or reads halfway, are drained', async (t) => {
  const stream = encode(everyType)
  const seen: string[] = []
  let half = 0
  for await (const f of readFrames(chunked(stream, 100))) {
    if (f.kind !== 'entry') continue
    seen.push(f.meta.path)
    if (f.meta.path === 'dir/file') {
      for await (const c of f.body) {
        half += c.length
        if (half >= 1000) break
      }
    }
  }
  t.strictSame(seen, everyType.map((i) => i.meta.path), 'every entry was seen')
  t.ok(half >= 1000 && half < 3000, 'the halfway reader stopped early')
})

t.test('the pax header limit', async (t) => {
  const big: Item = { meta: m('x', 'file', { xattrs: [['user.big', Buffer.alloc(5000)]] }) }
  const stream = encode([big])
  await t.rejects(decode(chunked(stream, 0), { maxHeader: 4096 }), { code: 'BT_FRAME_SIZE' })
  t.equal((await decode(chunked(stream, 0), { maxHeader: 8192 })).frames.length, 3)
  t.equal(DEFAULT_MAX_HEADER, 1 << 20)
})

t.test('the reader pulls no faster than its consumer reads', async (t) => {
  const CHUNK = 64 * 1024
  const data = bytes(4 << 20, 7)
  const stream = encode([{ meta: m('big', 'file', { size: data.length }), data }], CHUNK)
  const dataStart = stream.indexOf(data.subarray(0, 64))

  const counting = () => {
    const c = { pulled: 0 }
    const source = (async function* () {
      for (let i = 0; i < stream.length; i += CHUNK) {
        const piece = stream.subarray(i, i + CHUNK)
        c.pulled += piece.length
        yield piece
      }
    })()
    return Object.assign(c, { source })
  }

  const check = async (t: Test, c: { pulled: number }, source: AsyncIterable<Buffer>, slack: number) => {
    let lead = 0
    for await (const f of readFrames(source)) {
      if (f.kind !== 'entry') continue
      await sleep(30)
      const waiting = c.pulled
      await sleep(30)
      t.equal(c.pulled, waiting, 'nothing is pulled while the consumer is away')
      t.ok(c.pulled <= dataStart + slack, `before the body is read: ${c.pulled - dataStart} bytes ahead`)
      let got = 0
      for await (const chunk of f.body) {
        got += chunk.length
        lead = Math.max(lead, c.pulled - (dataStart + got))
        if (got % (1 << 20) < chunk.length) await sleep(5)
        else await tick()
      }
      t.equal(got, data.length)
    }
    t.ok(lead <= slack, `the source ran at most ${lead} bytes ahead (limit ${slack})`)
  }

  await t.test('async iterable source', async (t) => {
    const c = counting()
    await check(t, c, c.source, CHUNK)
  })
  await t.test('Node Readable source (pauses at its highWaterMark)', async (t) => {
    const c = counting()
    const r = Readable.from(c.source, { highWaterMark: 4 })
    await check(t, c, r, 8 * CHUNK)
  })
})

// ---------------------------------------------------------------- fuzz

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hung for ${ms} ms`)), ms)
  })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

t.test('seeded fuzz: flipped bytes and truncations', async (t) => {
  const base = generateVectors().find((v) => v.name === 'success')!.stream
  const expected = await listFrames(readFrames(chunked(base, 0)))
  // Header blocks and the pax records after them get half of the flips: that is where parsing happens.
  const meta: number[] = []
  for (let off = 0; off < base.length; off += BLOCK) {
    try {
      const u = decodeUstar(base.subarray(off, off + BLOCK), 'probe')
      meta.push(off)
      if (u.typeflag === 'x' || u.typeflag === 'g') for (let p = off + BLOCK; p < off + BLOCK + u.size; p += BLOCK) meta.push(p)
    } catch {
      // not a header block: file data or padding
    }
  }
  const rnd = xorshift(0xb4c7)
  const pick = (n: number) => rnd() % n
  const slices = SLICES.filter((n) => n === 0 || n >= 15) // small slices: vectors.test.ts covers them
  const problems: string[] = []
  const outcomes = new Map<string, number>()
  for (let i = 0; i < 300; i++) {
    let input: Buffer
    let what: string
    if (pick(3) === 0) {
      const at = pick(4) === 0 ? base.length - 1 - pick(3 * BLOCK) : pick(base.length)
      input = base.subarray(0, at)
      what = `truncated at ${at}`
    } else {
      input = Buffer.from(base)
      const spots: string[] = []
      for (let k = 1 + pick(3); k > 0; k--) {
        const at = pick(2) === 0 ? meta[pick(meta.length)]! + pick(BLOCK) : pick(base.length)
        const mask = 1 + pick(255)
        input[at] = input[at]! ^ mask
        spots.push(`${at}^${mask}`)
      }
      what = `flipped ${spots.join(' ')}`
    }
    const slice = slices[pick(slices.length)]!
    const label = `#${i} ${what} in ${slice}-byte slices`
    try {
      const lines = await withTimeout(listFrames(readFrames(chunked(input, slice))), 10_000)
      if (input.length < base.length) problems.push(`${label}: a truncated stream was accepted`)
      else if (JSON.stringify(lines) !== JSON.stringify(expected)) problems.push(`${label}: accepted with different frames`)
      outcomes.set('identical', (outcomes.get('identical') ?? 0) + 1)
      t.comment(`accepted unchanged: ${label}`)
    } catch (err) {
      const code = (err as { code?: unknown }).code
      if (!(err instanceof InputError) || typeof code !== 'string' || !code.startsWith('BT_')) {
        problems.push(`${label}: ${err instanceof Error ? `${err.constructor.name} ${err.message}` : String(err)}`)
      } else if (input.length < base.length && code !== 'BT_TRUNCATED') {
        problems.push(`${label}: ${code} for a truncated stream`)
      }
      outcomes.set(String(code), (outcomes.get(String(code)) ?? 0) + 1)
    }
  }
  t.comment(`outcomes: ${JSON.stringify(Object.fromEntries([...outcomes].sort()))}`)
  t.strictSame(problems, [], 'every damaged stream gives the same frames or an InputError')
})
