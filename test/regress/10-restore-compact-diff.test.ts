// Stream version 2 lets a differential list only what changed
// (BACKTORY.unlisted=unchanged) and name deletions with deleted records
// (backtory-stream(5)). bt-restore must keep what such a stream leaves out and
// delete only what it names, through the same checks as every entry.
import t, { type Test } from 'tap'
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { runBin } from '../helpers.js'
import { INFO, makeStream } from '../stream.js'

const V2 = { ...INFO, version: '2' }

async function restoredFull(t: Test): Promise<{ dir: string; full: string }> {
  const dir = t.testdir()
  const full = makeStream([
    { meta: { path: '.', type: 'directory' } },
    { meta: { path: 'a', type: 'file' }, data: 'old a' },
    { meta: { path: 'b', type: 'file' }, data: 'to delete' },
    { meta: { path: 'd', type: 'directory' } },
    { meta: { path: 'd/c', type: 'file' }, data: 'kept' },
    { meta: { path: 'd/gone', type: 'directory' } },
    { meta: { path: 'd/gone/x', type: 'file' }, data: 'x' },
  ], V2)
  const r = await runBin('bt-restore', [dir], full)
  t.equal(r.code, 0, r.stderr)
  return { dir, full: JSON.parse(readFileSync(`${dir}/.backtory-restore.json`, 'utf8')).full }
}

function compact(base: string, items: Parameters<typeof makeStream>[0]): Buffer {
  return makeStream(items, { ...V2, stream: 'diff', id: 'd'.repeat(32), base, baseIndex: '0'.repeat(64), unlisted: 'unchanged' })
}

t.test('a differential that lists only changes keeps the rest and deletes what it names', async (t) => {
  const { dir, full } = await restoredFull(t)
  const diff = compact(full, [
    { meta: { path: '.', type: 'directory' } },
    { meta: { path: 'a', type: 'file' }, data: 'new a' },
    { meta: { path: 'b', type: 'file', op: 'deleted' } },
    { meta: { path: 'd/gone', type: 'file', op: 'deleted' } },
  ])
  const r = await runBin('bt-restore', [dir], diff)
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(`${dir}/a`, 'utf8'), 'new a')
  t.notOk(existsSync(`${dir}/b`), 'b deleted')
  t.notOk(existsSync(`${dir}/d/gone`), 'd/gone deleted with what it held')
  t.equal(readFileSync(`${dir}/d/c`, 'utf8'), 'kept', 'an unlisted file of an unlisted directory stays')
  t.same(JSON.parse(readFileSync(`${dir}/.backtory-restore.json`, 'utf8')), { full, diff: 'd'.repeat(32) })
})

t.test('a deleted record never reaches through a symlink', async (t) => {
  const { dir, full } = await restoredFull(t)
  const outside = mkdtempSync(`${tmpdir()}/bt-outside-`)
  t.teardown(() => rmSync(outside, { recursive: true, force: true }))
  writeFileSync(`${outside}/victim`, 'keep me')
  symlinkSync(outside, `${dir}/lnk`)
  const diff = compact(full, [
    { meta: { path: '.', type: 'directory' } },
    { meta: { path: 'a', type: 'file' }, data: 'new a' },
    { meta: { path: 'lnk/victim', type: 'file', op: 'deleted' } },
  ])
  const r = await runBin('bt-restore', [dir], diff)
  t.equal(r.code, 4, r.stderr)
  t.match(r.stderr, /lnk/)
  t.equal(readFileSync(`${outside}/victim`, 'utf8'), 'keep me', 'nothing outside the target is touched')
  t.equal(readFileSync(`${dir}/a`, 'utf8'), 'old a', 'a refused differential changes nothing')
  t.equal(readlinkSync(`${dir}/lnk`), outside)
})
