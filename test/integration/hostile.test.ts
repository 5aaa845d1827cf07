// Crafted archives that try to write outside the target: refused with an
// error naming the entry, exit 4, and nothing written outside.
import t from 'tap'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { runBin } from '../helpers.js'
import { makeStream, type Item } from '../stream.js'

const cases: Array<[string, Item[], RegExp]> = [
  ['absolute path', [{ meta: { path: '/OUTSIDE/abs', type: 'file' }, data: 'x' }], /refusing entry "\/OUTSIDE\/abs": it is absolute/],
  ['dot-dot component', [{ meta: { path: '../OUTSIDE', type: 'file' }, data: 'x' }], /refusing entry "\.\.\/OUTSIDE": it contains a "\.\." component/],
  ['dot-dot in the middle', [
    { meta: { path: 'a', type: 'directory' } },
    { meta: { path: 'a/../../OUTSIDE', type: 'file' }, data: 'x' },
  ], /refusing entry "a\/\.\.\/\.\.\/OUTSIDE"/],
  ['write through a symlink made earlier', [
    { meta: { path: 'escape', type: 'symlink', linkpath: '../OUTSIDE-dir' } },
    { meta: { path: 'escape/evil', type: 'file' }, data: 'x' },
  ], /refusing entry "escape\/evil": it would be written through the symlink "escape"/],
  ['hard link to a path outside', [
    { meta: { path: 'steal', type: 'hardlink', linkpath: '../victim' } },
  ], /refusing entry "steal": its link target "\.\.\/victim" is unsafe/],
  ['hard link through a symlink', [
    { meta: { path: 'escape', type: 'symlink', linkpath: '..' } },
    { meta: { path: 'steal', type: 'hardlink', linkpath: 'escape/victim' } },
  ], /refusing entry "steal": it would be written through the symlink "escape"/],
  ['symlink then a directory of the same name', [
    { meta: { path: 'swap', type: 'symlink', linkpath: '../OUTSIDE-dir' } },
    { meta: { path: 'swap', type: 'directory' } },
    { meta: { path: 'swap/inside', type: 'file' }, data: 'safe' },
  ], /^$/],
]

for (const [name, items, error] of cases) {
  t.test(name, async (t) => {
    const dir = t.testdir({ 'OUTSIDE-dir': {}, victim: 'do not touch' })
    mkdirSync(`${dir}/target`)
    const r = await runBin('bt-restore', [`${dir}/target`], makeStream(items))
    const outside = readdirSync(dir).sort()
    t.same(outside, ['OUTSIDE-dir', 'target', 'victim'], 'nothing created beside the target')
    t.same(readdirSync(`${dir}/OUTSIDE-dir`), [], 'nothing written through a symlink')
    t.notOk(existsSync('/OUTSIDE'), 'nothing written at an absolute path')
    if (error.source === '^$') {
      t.equal(r.code, 0, r.stderr)
      t.ok(existsSync(`${dir}/target/swap/inside`), 'the symlink was replaced by a real directory')
      return
    }
    t.equal(r.code, 4, r.stderr)
    t.match(r.stderr, error)
  })
}

t.test('an existing symlink in the target is never followed', async (t) => {
  const dir = t.testdir({ 'OUTSIDE-dir': {}, target: {} })
  const { symlinkSync } = await import('node:fs')
  symlinkSync('../OUTSIDE-dir', `${dir}/target/etc`)
  const r = await runBin('bt-restore', [`${dir}/target`], makeStream([{ meta: { path: 'etc/passwd', type: 'file' }, data: 'x' }]))
  t.equal(r.code, 4)
  t.match(r.stderr, /refusing entry "etc\/passwd": it would be written through the symlink "etc"/)
  t.same(readdirSync(`${dir}/OUTSIDE-dir`), [])
})

t.test('a file entry replaces an existing symlink instead of writing through it', async (t) => {
  const dir = t.testdir({ 'OUTSIDE-dir': { victim: 'original' }, target: {} })
  const { symlinkSync, readFileSync, lstatSync } = await import('node:fs')
  symlinkSync('../OUTSIDE-dir/victim', `${dir}/target/file`)
  const r = await runBin('bt-restore', [`${dir}/target`], makeStream([{ meta: { path: 'file', type: 'file' }, data: 'new' }]))
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(`${dir}/OUTSIDE-dir/victim`, 'utf8'), 'original')
  t.ok(lstatSync(`${dir}/target/file`).isFile())
  writeFileSync(`${dir}/unused`, '')
})
