// The library entry point loads and its pieces compose: encode a stream in
// memory with StreamEncoder and read it back with readFrames.
import t from 'tap'
import * as bt from '../../src/index.js'

t.test('the library round-trips a stream in memory', async (t) => {
  const enc = new bt.StreamEncoder()
  const info: bt.StreamInfo = { version: '2', producer: 'lib test', host: 'h', source: 's', stream: 'full', time: '2026-01-01T00:00:00.000Z', id: 'a'.repeat(32) }
  const meta: bt.EntryMeta = { path: 'f', type: 'file', mode: 0o600, uid: 1, gid: 2, uname: '', gname: '', mtime: { sec: 5, nsec: 6 }, size: 2, xattrs: [] }
  // Version 2 (the default) opens with the root directory: the header's records ride on it.
  const root: bt.EntryMeta = { path: '.', type: 'directory', mode: 0o755, uid: 0, gid: 0, uname: '', gname: '', mtime: { sec: 5, nsec: 0 }, size: 0, xattrs: [] }
  const bytes = Buffer.concat([enc.header(info), enc.entry(root), enc.endEntry(), enc.entry(meta), enc.data(Buffer.from('hi')), enc.endEntry(), enc.trailer()])
  const kinds: string[] = []
  for await (const f of bt.readFrames((async function* () { yield bytes })())) {
    kinds.push(f.kind)
    if (f.kind === 'entry' && f.meta.path === 'f') {
      const parts: Buffer[] = []
      for await (const c of f.body) parts.push(c)
      t.equal(Buffer.concat(parts).toString(), 'hi')
      t.same(f.meta.mtime, { sec: 5, nsec: 6 })
    }
  }
  t.same(kinds, ['header', 'entry', 'entry', 'trailer'])
  t.match(bt.VERSION, /^\d+\.\d+\.\d+$/)
  t.equal(bt.EXIT.BAD_INPUT, 4)
})
