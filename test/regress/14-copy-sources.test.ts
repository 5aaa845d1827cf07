// Issue 14: bt-delta's copy and rename detection kept every file of the full
// of at least 4 KiB in a Map from SHA-256 to its whole index entry, for the
// rest of the run, once the first new file was hashed: some 3 KiB a file,
// which took a differential of a 50,000-file tree to 207 MiB. The table now
// keeps 16 bytes a slot (a 64-bit key and the line's offset) and reads the
// entry back from the index on a hit.
import t from 'tap'
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CopySources } from '../../src/diff/copy-sources.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')
const dir = mkdtempSync(join(tmpdir(), 'bt-copy-sources-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

function index(name: string, entries: object[]): string {
  const p = join(dir, name)
  writeFileSync(p, entries.map((e) => `${JSON.stringify(e)}\n`).join(''))
  return p
}
const file = (path: string, content: string, size = 5000, extra = {}) =>
  ({ path, type: 'file', size, mtime: '1', meta: 'm', sha256: sha(content), ...extra })
const wanted = (e: { type: string; size: number }) => e.type === 'file' && e.size >= 4096

t.test('memory is 16 bytes a slot, whatever the paths', async (t) => {
  const n = 20_000
  const long = 'p'.repeat(3000) // long paths: a Map of entries would hold every one of them
  const entries = [{ path: '.', type: 'directory', size: 0, mtime: '1', meta: 'm' }]
  for (let i = 0; i < n; i++) entries.push(file(`${long}/${String(i).padStart(6, '0')}`, `content ${i}`))
  const s = new CopySources(index('many.jsonl', entries), dir, wanted)
  t.teardown(() => s.close())
  t.ok(s.bytes <= n * 16 * 2 * 4 / 3 + 16 * 1024, `table of ${s.bytes} bytes for ${n} files of 3 KiB paths (16 bytes a slot, at most 3/4 full after growing)`)
  t.equal(s.get(sha('content 12345'))?.path, `${long}/012345`, 'a content is found, its entry read back from the index')
  t.equal(s.get(sha('content 0'))?.path, `${long}/000000`)
  t.equal(s.get(sha('nowhere')), undefined)
})

t.test('the first file with a content is its source; files not wanted are not', async (t) => {
  const s = new CopySources(index('first.jsonl', [
    file('a', 'same'), file('b', 'same'), file('small', 'tiny', 100), file('sparse', 'sp', 5000), file('z', 'last'),
  ]), dir, (e) => wanted(e) && e.path !== 'sparse')
  t.teardown(() => s.close())
  t.equal(s.get(sha('same'))?.path, 'a')
  t.equal(s.get(sha('tiny')), undefined, 'under 4 KiB')
  t.equal(s.get(sha('sp')), undefined, 'refused by the filter')
  t.equal(s.get(sha('last'))?.path, 'z', 'the last line')
})

t.test('a 64-bit key collision is checked against the whole hash', async (t) => {
  const real = sha('real')
  const fake = `${real.slice(0, 16)}${'0'.repeat(48)}`
  const s = new CopySources(index('collide.jsonl', [{ ...file('x', 'real'), sha256: real }]), dir, wanted)
  t.teardown(() => s.close())
  t.equal(s.get(fake), undefined, 'same first 64 bits, another content: no source')
  t.equal(s.get(real)?.path, 'x')
})

t.test('a damaged index says so', async (t) => {
  t.throws(() => new CopySources(index('bad.jsonl', []).replace('bad', 'none'), dir, wanted), { code: 'BT_IO_ENOENT' })
  writeFileSync(join(dir, 'garbage.jsonl'), '{"path":"a","type":"file","size":5000,"sha256":"00"}\nnot json\n')
  t.throws(() => new CopySources(join(dir, 'garbage.jsonl'), dir, wanted), { code: 'BT_STATE' })
})
