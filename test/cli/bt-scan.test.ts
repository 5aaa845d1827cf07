// bt-scan's selection options and its deterministic order.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { isRoot, runBin, sh } from '../helpers.js'

async function paths(args: string[]): Promise<string[]> {
  const scan = await runBin('bt-scan', args)
  if (scan.code !== 0) throw new Error(scan.stderr)
  const ls = await runBin('bt-ls', ['--json'], scan.stdout)
  return ls.stdout.toString().trim().split('\n').map((l) => JSON.parse(l)).filter((f) => f.frame === 'entry').map((f) => f.path)
}

const tree = {
  'keep.txt': 'k',
  'drop.log': 'd',
  logs: { 'a.log': 'a', 'important.log': 'i' },
  build: { out: { 'x.o': 'x' } },
  src: { build: 'a file named build', 'main.c': 'int main;' },
  cache: { 'CACHEDIR.TAG': 'Signature: 8a477f597d28d172789f06886806bc55\n# a cache', 'blob': 'b' },
  fakecache: { 'CACHEDIR.TAG': 'not the signature', 'blob': 'b' },
}

t.test('entries come depth-first, sorted bytewise, root first', async (t) => {
  const dir = t.testdir({ b: 'x', a: { z: 'x', B: 'x' }, A: 'x', '_': 'x' })
  t.same(await paths([dir]), ['.', 'A', '_', 'a', 'a/B', 'a/z', 'b'])
})

t.test('--exclude follows gitignore rules', async (t) => {
  const dir = t.testdir(tree)
  t.same(await paths(['--exclude', '*.log', '--exclude', '!important.log', '--exclude', '/build/', dir]),
    ['.', 'cache', 'cache/CACHEDIR.TAG', 'cache/blob', 'fakecache', 'fakecache/CACHEDIR.TAG', 'fakecache/blob',
      'keep.txt', 'logs', 'logs/important.log', 'src', 'src/build', 'src/main.c'])
  t.same(await paths(['--exclude', 'build/', dir]).then((p) => p.filter((x) => x.includes('build'))), ['src/build'],
    'a trailing slash matches directories only')
  t.same(await paths(['--exclude', 'src/**', dir]).then((p) => p.filter((x) => x.startsWith('src'))), ['src'])
})

t.test('--exclude-from reads patterns, skipping comments and blank lines', async (t) => {
  const dir = t.testdir({ tree, 'ex.txt': '# comment\n\n*.log\ncache/\n' })
  const got = await paths(['--exclude-from', `${dir}/ex.txt`, `${dir}/tree`])
  t.notOk(got.some((p) => p.endsWith('.log') || p.startsWith('cache')))
  t.ok(got.includes('keep.txt'))
  const missing = await runBin('bt-scan', ['--exclude-from', `${dir}/nope`, dir])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /cannot read exclude file/)
})

t.test('--exclude-caches keeps only the tag of a marked cache', async (t) => {
  const dir = t.testdir(tree)
  const got = await paths(['--exclude-caches', dir])
  t.ok(got.includes('cache/CACHEDIR.TAG'))
  t.notOk(got.includes('cache/blob'))
  t.ok(got.includes('fakecache/blob'), 'a tag without the signature marks nothing')
})

t.test('--one-file-system keeps the mount point, not what is mounted', { skip: !isRoot() && 'mounting needs root' }, async (t) => {
  const dir = t.testdir({ a: 'x' })
  mkdirSync(`${dir}/mnt`)
  t.equal(sh(`mount -t tmpfs tmpfs "${dir}/mnt"`).code, 0)
  writeFileSync(`${dir}/mnt/inner`, 'other fs')
  const one = await paths(['-x', dir])
  const all = await paths([dir])
  sh(`umount "${dir}/mnt"`)
  t.same(one, ['.', 'a', 'mnt'])
  t.same(all, ['.', 'a', 'mnt', 'mnt/inner'])
})

t.test('a socket is skipped with a notice, which is not a failure', async (t) => {
  const dir = t.testdir({ a: 'x' })
  const py = sh(`cd "${dir}" && python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('sock')"`)
  t.equal(py.code, 0, py.stderr)
  const r = await runBin('bt-scan', [dir])
  t.equal(r.code, 0)
  t.match(r.stderr, /^bt-scan: skipped socket "sock"$/m)
})

t.test('--host and --source label the header', async (t) => {
  const dir = t.testdir({ a: 'x' })
  const scan = await runBin('bt-scan', ['--host', 'web1', '--source', 'www', dir])
  const ls = await runBin('bt-ls', ['--json'], scan.stdout)
  const header = JSON.parse(ls.stdout.toString().split('\n')[0]!)
  t.match(header, { frame: 'header', version: '2', host: 'web1', source: 'www', stream: 'full' })
  t.match(header.id, /^[0-9a-f]{32}$/)
})
