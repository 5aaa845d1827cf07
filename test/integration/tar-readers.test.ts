// Every common tar reader reads a whole version 2 stream (backtory-stream(5),
// COMPATIBILITY): GNU tar, bsdtar and Python's tarfile list and extract a plain
// stream, one whose last entry is flagged incomplete, the smallest (empty)
// stream, a differential, a capture and a bt-scan stream with a pre-1970 mtime,
// exit 0, and name exactly the members backtory's reader finds, the repeated
// root at the end included. Version 1 streams fail this with tarfile.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { readFrames } from '../../src/format/reader.js'
import { parseVector } from '../../scripts/gen-vectors.js'
import { ROOT, sh } from '../helpers.js'

const PY = `import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t: print(m.name)
if len(sys.argv) > 2:
    with tarfile.open(sys.argv[1]) as t: t.extractall(sys.argv[2])
`

/** The readers, each as [list, extract into DIR]. */
const READERS: Record<string, { list: (f: string) => string[]; extract: (f: string, dir: string) => string[] }> = {
  'GNU tar': { list: (f) => ['tar', '-tf', f], extract: (f, d) => ['tar', '-C', d, '-xpf', f] },
  bsdtar: { list: (f) => ['bsdtar', '-tf', f], extract: (f, d) => ['bsdtar', '-C', d, '-xpf', f] },
  'Python tarfile': { list: (f) => ['python3', '-c', PY, f], extract: (f, d) => ['python3', '-c', PY, f, d] },
}

const vector = (name: string) => parseVector(readFileSync(`${ROOT}test/vectors/stream_${name}`)).stream

async function paths(stream: Buffer): Promise<string[]> {
  const out: string[] = []
  for await (const f of readFrames((async function* () { yield stream })())) if (f.kind === 'entry') out.push(f.meta.path)
  return out
}

const norm = (name: string) => name.replace(/\/+$/, '') || '.'
const run = (argv: string[]) => spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' })

function streams(dir: string): Record<string, Buffer> {
  mkdirSync(`${dir}/tree/sub`, { recursive: true })
  writeFileSync(`${dir}/tree/a.txt`, 'a\n')
  writeFileSync(`${dir}/tree/sub/old.txt`, 'older than 1970\n')
  if (sh(`touch -d '1969-12-31 00:00:00.5 UTC' "${dir}/tree/sub/old.txt"`).code !== 0) throw new Error('touch failed')
  const scan = sh(`bt-scan.js "${dir}/tree" > "${dir}/scan.bt"`)
  if (scan.code !== 0) throw new Error(scan.stderr)
  return {
    plain: vector('v2_success'),
    'last entry incomplete': vector('v2_success_incomplete'),
    empty: vector('v2_success_empty'),
    differential: vector('v2_success_diff'),
    capture: vector('v2_success_capture'),
    'bt-scan, pre-1970 mtime': readFileSync(`${dir}/scan.bt`),
  }
}

t.test('GNU tar, bsdtar and tarfile list and extract every kind of version 2 stream', async (t) => {
  const dir = t.testdir()
  for (const [kind, stream] of Object.entries(streams(dir))) {
    const file = `${dir}/${kind.replace(/\W+/g, '-')}.bt`
    writeFileSync(file, stream)
    // The repeated root that ends the stream is one more member "./".
    const want = [...new Set([...(await paths(stream)), '.'])].sort()
    for (const [reader, cmd] of Object.entries(READERS)) {
      const l = run(cmd.list(file))
      t.equal(l.status, 0, `${reader} lists ${kind}: ${l.status === 0 ? '' : l.stderr}`)
      t.strictSame([...new Set(l.stdout.split('\n').filter(Boolean).map(norm))].sort(), want, `${reader} lists every member of ${kind}`)
      t.equal(norm(l.stdout.trim().split('\n').pop()!), '.', `${reader}: the last member of ${kind} is the root again`)
      const into = `${dir}/out-${reader.replace(/\W+/g, '-')}-${file.split('/').pop()}`
      mkdirSync(into)
      const x = run(cmd.extract(file, into))
      t.equal(x.status, 0, `${reader} extracts ${kind}: ${x.status === 0 ? '' : x.stderr}`)
    }
  }
})

t.test('what each reader extracts of the bt-scan stream is the tree', async (t) => {
  const dir = t.testdir()
  streams(dir)
  for (const [reader, cmd] of Object.entries(READERS)) {
    const into = `${dir}/${reader.replace(/\W+/g, '-')}`
    mkdirSync(into)
    t.equal(run(cmd.extract(`${dir}/scan.bt`, into)).status, 0)
    t.equal(readFileSync(`${into}/sub/old.txt`, 'utf8'), 'older than 1970\n', `${reader}: content`)
    const st = sh(`stat -c %Y "${into}/sub/old.txt"`).stdout.trim()
    t.ok(Number(st) < 0, `${reader}: the mtime stays before 1970 (${st})`)
  }
})
