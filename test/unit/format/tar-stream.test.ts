// A backtory stream is a valid tar for an independent reader (tar-stream),
// and errors cross the reader's boundary in both directions: a failing
// consumer stops and releases the source, a failing source rejects the reader.
import t from 'tap'
import tar from 'tar-stream'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { type EntryMeta, formatTime } from '../../../src/format/frame.js'
import { readFrames } from '../../../src/format/reader.js'
import { encodeSparseMap } from '../../../src/format/sparse.js'
import { parseVector } from '../../../scripts/gen-vectors.js'
import { ROOT, SLICES, chunked } from '../../helpers.js'

const vector = (name: string) => parseVector(readFileSync(`${ROOT}test/vectors/stream_${name}`)).stream
const SUCCESS = vector('success')

const TAR_TYPE: Record<EntryMeta['type'], string> = {
  file: 'file', hardlink: 'link', symlink: 'symlink', chardev: 'character-device', blockdev: 'block-device',
  directory: 'directory', fifo: 'fifo',
}
const USTAR_MAX_ID = 0o7777777

interface TarEntry { header: tar.Header & { pax?: Record<string, string> | null }; data: Buffer }

async function viaTarStream(stream: Buffer, slice: number): Promise<TarEntry[]> {
  const ex = tar.extract()
  const out: TarEntry[] = []
  const consume = async () => {
    for await (const e of ex) {
      const parts: Buffer[] = []
      for await (const c of e) parts.push(Buffer.from(c as Uint8Array))
      out.push({ header: e.header as TarEntry['header'], data: Buffer.concat(parts) })
    }
  }
  await Promise.all([pipeline(Readable.from(chunked(stream, slice)), ex), consume()])
  return out
}

async function viaBacktory(stream: Buffer): Promise<Array<{ meta: EntryMeta; data: Buffer }>> {
  const out: Array<{ meta: EntryMeta; data: Buffer }> = []
  for await (const f of readFrames(chunked(stream, 0))) {
    if (f.kind !== 'entry') continue
    const parts: Buffer[] = []
    for await (const c of f.body) parts.push(Buffer.from(c))
    out.push({ meta: f.meta, data: Buffer.concat(parts) })
  }
  return out
}

function sparseName(path: string): string {
  const slash = path.lastIndexOf('/')
  return `${path.slice(0, slash + 1)}GNUSparseFile.0/${path.slice(slash + 1)}`
}

t.test('tar-stream reads the success vector as the same tree', async (t) => {
  const ours = await viaBacktory(SUCCESS)
  t.ok(ours.length >= 20, `${ours.length} entries`)
  for (const slice of SLICES) {
    const theirs = await viaTarStream(SUCCESS, slice)
    t.equal(theirs.length, ours.length, `${slice}: one tar entry per backtory entry; frames are global headers`)
    const problems: string[] = []
    ours.forEach(({ meta, data }, i) => {
      const h = theirs[i]?.header
      const pax = h?.pax ?? {}
      const got = theirs[i]?.data
      const check = (ok: boolean, what: string) => { if (!ok) problems.push(`${meta.path}: ${what}`) }
      if (!h || !got) return check(false, 'missing')
      const name = (h.name ?? '').replace(/\/+$/, '') || '.'
      if (meta.sparse) {
        check(name === sparseName(meta.path), `sparse name ${name}`)
        check(pax['GNU.sparse.name'] === meta.path, 'GNU.sparse.name')
        check(pax['GNU.sparse.realsize'] === String(meta.size), 'GNU.sparse.realsize')
        check(got.equals(Buffer.concat([encodeSparseMap(meta.sparse), data])), 'sparse map and data')
      } else {
        check(name === meta.path, `name ${JSON.stringify(name)}`)
        check(got.equals(data), 'content')
      }
      check(h.type === TAR_TYPE[meta.type], `type ${h.type}`)
      check(h.mode === meta.mode, `mode ${h.mode?.toString(8)}`)
      check(h.size === got.length, 'size')
      check(h.uid === Math.min(meta.uid, USTAR_MAX_ID) && pax.uid === String(meta.uid), `uid ${h.uid} ${pax.uid}`)
      check(h.gid === Math.min(meta.gid, USTAR_MAX_ID) && pax.gid === String(meta.gid), `gid ${h.gid} ${pax.gid}`)
      check(h.mtime?.getTime() === Math.max(0, meta.mtime.sec) * 1000, `ustar mtime ${h.mtime?.toISOString()}`)
      check(pax.mtime === formatTime(meta.mtime), `pax mtime ${pax.mtime}`)
      check(Buffer.byteLength(meta.uname) > 31 ? pax.uname === meta.uname : h.uname === meta.uname, `uname ${h.uname}`)
      check(Buffer.byteLength(meta.gname) > 31 ? pax.gname === meta.gname : h.gname === meta.gname, `gname ${h.gname}`)
      if (meta.linkpath !== undefined) check(h.linkname === meta.linkpath, `linkname ${h.linkname}`)
      if (meta.type === 'chardev' || meta.type === 'blockdev') {
        check(h.devmajor === meta.devmajor && h.devminor === meta.devminor, `device ${h.devmajor},${h.devminor}`)
      }
      for (const [key, value] of meta.xattrs) {
        const text = value.toString('utf8')
        // The key is escaped as GNU tar does it: "%" as %25, "=" as %3D.
        const theirValue = pax[`SCHILY.xattr.${key.replace(/%/g, '%25').replace(/=/g, '%3D')}`]
        // tar-stream decodes pax values as UTF-8 text, so binary values only prove they are there.
        check(Buffer.from(text).equals(value) ? theirValue === text : theirValue !== undefined, `xattr ${key}`)
      }
    })
    t.strictSame(problems, [], `${slice}: names, types, metadata and contents agree`)
  }
  const types = new Set(ours.map(({ meta }) => meta.type))
  t.strictSame([...types].sort(), Object.keys(TAR_TYPE).sort(), 'the vector holds every entry type')
})

t.test('tar-stream reads the other success vectors too', async (t) => {
  for (const name of ['success_empty', 'success_incomplete']) {
    const stream = vector(name)
    t.equal((await viaTarStream(stream, 0)).length, (await viaBacktory(stream)).length, name)
  }
})

// ---------------------------------------------------------------- error boundary

interface Tracked { pulls: number; released: boolean; source: AsyncIterable<Buffer> }

/** A source that counts pulls and notes when it is released (its finally runs). */
function tracked(buf: Buffer, n: number, failAfter = Infinity): Tracked {
  const state = { pulls: 0, released: false }
  async function* source(): AsyncGenerator<Buffer> {
    try {
      for await (const c of chunked(buf, n)) {
        if (state.pulls >= failAfter) throw new Error('source failed')
        state.pulls++
        yield c
      }
    } finally {
      state.released = true
    }
  }
  return Object.assign(state, { source: source() })
}

async function settled(s: Tracked): Promise<number> {
  const pulls = s.pulls
  await sleep(20)
  return s.pulls - pulls
}

t.test('a consumer that throws between frames stops and releases the source', async (t) => {
  const s = tracked(SUCCESS, 512)
  await t.rejects((async () => {
    for await (const f of readFrames(s.source)) if (f.kind === 'entry' && f.meta.path === 'docs') throw new Error('consumer failed')
  })(), { message: 'consumer failed' })
  t.equal(await settled(s), 0, 'no pulls after the failure')
  t.ok(s.pulls * 512 < SUCCESS.length, 'the source was not drained')
  t.ok(s.released, 'the source was released (its return() ran)')
})

t.test('a consumer that throws inside an entry body stops and releases the source', async (t) => {
  const s = tracked(SUCCESS, 100)
  await t.rejects((async () => {
    for await (const f of readFrames(s.source)) {
      if (f.kind !== 'entry') continue
      for await (const c of f.body) if (c.length > 0 && f.meta.path === 'data/random.bin') throw new Error('disk full')
    }
  })(), { message: 'disk full' })
  t.equal(await settled(s), 0, 'no pulls after the failure')
  t.ok(s.released, 'the source was released (its return() ran)')
})

t.test('a reader error releases the source', async (t) => {
  const s = tracked(vector('digest_mismatch'), 512)
  await t.rejects((async () => {
    for await (const f of readFrames(s.source)) if (f.kind === 'entry') for await (const c of f.body) void c
  })(), { code: 'BT_DIGEST' })
  t.equal(await settled(s), 0, 'no pulls after the failure')
  t.ok(s.released, 'the source was released (its return() ran)')
})

t.test('a failing source rejects the reader with its error', async (t) => {
  const s = tracked(SUCCESS, 1000, 20)
  const seen: string[] = []
  await t.rejects((async () => {
    for await (const f of readFrames(s.source)) {
      if (f.kind !== 'entry') continue
      seen.push(f.meta.path)
      for await (const c of f.body) void c
    }
  })(), { message: 'source failed' })
  t.ok(seen.length > 0, 'frames before the failure were delivered')
  t.ok(s.released)
})

t.test('Node Readable source: a throwing consumer destroys it', async (t) => {
  const r = Readable.from(chunked(SUCCESS, 512))
  await t.rejects((async () => {
    for await (const f of readFrames(r)) if (f.kind === 'entry') throw new Error('consumer failed')
  })(), { message: 'consumer failed' })
  await sleep(10)
  t.ok(r.destroyed, 'the Readable was destroyed')
})

t.test('Node Readable source: destroying it rejects the reader', async (t) => {
  const r = Readable.from(chunked(SUCCESS, 512))
  await t.rejects((async () => {
    for await (const f of readFrames(r)) if (f.kind === 'entry' && f.meta.path === 'docs') r.destroy(new Error('upstream died'))
  })(), { message: 'upstream died' })
})
