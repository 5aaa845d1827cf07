// Captured files (backtory-stream(5), CAPTURES) end to end: scanWithCaptures
// writes a stream to a file, and the real bins read it: bt-ls, bt-restore (a
// directory, --to-stdout, --list, patterns), bt-delta --full and differentials.
import { once } from 'node:events'
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createWriteStream, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { BtError, EXIT } from '../../src/errors.js'
import { PART_SIZE } from '../../src/format/frame.js'
import { type Capture, scanWithCaptures } from '../../src/scan/capture.js'
import { CHUNK } from '../../src/scan/content.js'
import { Excluder } from '../../src/scan/exclude.js'
import { loadIdMaps } from '../../src/scan/ids.js'
import { BufferPool } from '../../src/scan/pool.js'
import { type ScanOptions, scanStream } from '../../src/scan/scan.js'
import { pump } from '../../src/cli/pump.js'
import { openIndex, readState } from '../../src/state/store.js'
import { runBin, sh, xorshift } from '../helpers.js'
import { leftovers } from '../tree.js'

const NOW = Date.UTC(2024, 5, 1, 3, 0, 0, 250)
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

function options(root: string, more: Partial<ScanOptions> = {}): ScanOptions {
  return {
    root, exclude: new Excluder([]), oneFileSystem: false, excludeCaches: false, ids: loadIdMaps(),
    warn: (m) => {
      throw new Error(`unexpected warning: ${m}`)
    },
    notice: () => undefined,
    pool: new BufferPool(CHUNK),
    info: {
      version: '1', producer: 'backtory test', host: 'test.example', source: root, stream: 'full',
      time: '2024-06-01T03:00:00.000Z', id: '0123456789abcdef0123456789abcdef',
    },
    captureOwner: { uid: process.getuid!(), gid: process.getgid!() },
    now: () => NOW,
    ...more,
  }
}

/** A capture that runs `cmd` with sh, as bt-snap does: its stdout is the data, a non-zero exit fails it. */
function command(name: string, cmd: string): Capture {
  return {
    name,
    open() {
      const child = spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'] })
      const done = new Promise<void>((resolve, reject) => child.on('close', (code, signal) => {
        if (code === 0) resolve()
        else reject(new BtError('BT_CAPTURE_FAILED', EXIT.FAILURE, `capture ${JSON.stringify(name)} failed: ${code ?? signal}`))
      }))
      return { data: child.stdout, done }
    },
  }
}

/** A capture of fixed bytes, fed in `piece`-byte chunks. */
function bytesCapture(name: string, data: Buffer, piece = 65536): Capture {
  return {
    name,
    open: () => ({
      data: (async function* () {
        for (let i = 0; i < data.length; i += piece) yield data.subarray(i, i + piece)
      })(),
      done: Promise.resolve(),
    }),
  }
}

function noise(n: number, seed: number): Buffer {
  const rnd = xorshift(seed)
  const b = Buffer.alloc(n)
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(Math.floor(rnd() * 0x100000000), i)
  return b
}

/** scanWithCaptures into a file, pumped as bt-snap pumps it. */
/** Writes the stream to `file`; the file exists (and is closed) when this settles, failed or not. */
async function scanTo(file: string, opts: ScanOptions, captures: Capture[]): Promise<void> {
  const out = createWriteStream(file)
  await once(out, 'open')
  try {
    await pump(scanWithCaptures(opts, captures), out, new AbortController().signal, (b) => opts.pool.release(b))
  } finally {
    if (!out.closed) {
      const closed = once(out, 'close')
      out.destroy()
      await closed
    }
  }
}

interface Run { code: number | null; stdout: string; stderr: string }
const ok = (t: Test, r: Run, what: string) => t.equal(r.code, 0, `${what}: ${r.stderr}`)

function tree(dir: string): void {
  mkdirSync(`${dir}/a/deep`, { recursive: true })
  writeFileSync(`${dir}/a/deep/file`, 'in a\n')
  writeFileSync(`${dir}/e.txt`, 'e\n')
  writeFileSync(`${dir}/z.txt`, 'z\n')
}

t.test('a 10 MiB capture: one entry for every reader, restored byte-identical', async (t) => {
  const dir = t.testdir({ src: {} })
  tree(`${dir}/src`)
  const dump = noise(10 * 1024 * 1024 + 12345, 1)
  writeFileSync(`${dir}/dump.bin`, dump)
  await scanTo(`${dir}/s.bt`, options(`${dir}/src`), [command('db.sql', `cat "${dir}/dump.bin"`), bytesCapture('b-empty', Buffer.alloc(0))])

  const ls = sh(`bt-ls.js "${dir}/s.bt"`)
  ok(t, ls, 'bt-ls')
  const lines = ls.stdout.split('\n').filter((l) => l && !l.startsWith('#'))
  t.strictSame(lines.map((l) => l.replace(/^.* \d{2}:\d{2}:\d{2} /, '')),
    ['.', 'a', 'a/deep', 'a/deep/file', 'b-empty [capture, 1 part]', 'db.sql [capture, 3 parts]', 'e.txt', 'z.txt'],
    'one line per capture, in sorted place among the root\'s entries')
  t.match(ls.stdout, new RegExp(`^-rw------- .* ${dump.length} 2024-06-01 03:00:00 db\\.sql \\[capture, 3 parts\\]$`, 'm'), 'total size, mode 0600, start time')
  t.match(ls.stdout, /# trailer: 10 entries/, 'the trailer counts every part as an entry frame')
  const json = sh(`bt-ls.js --json "${dir}/s.bt"`).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  t.match(json.find((j) => j.path === 'db.sql'), { type: 'file', mode: '0600', size: dump.length, capture: { parts: 3 }, mtime: `${NOW / 1000}` })

  const dst = `${dir}/dst`
  ok(t, sh(`bt-restore.js "${dst}" < "${dir}/s.bt"`), 'bt-restore')
  t.ok(readFileSync(`${dst}/db.sql`).equals(dump), 'db.sql byte-identical')
  t.equal(lstatSync(`${dst}/db.sql`).mode & 0o7777, 0o600)
  t.equal(lstatSync(`${dst}/db.sql`).mtimeMs, NOW)
  t.equal(readFileSync(`${dst}/b-empty`).length, 0, 'the empty capture is an empty file')
  t.equal(readFileSync(`${dst}/e.txt`, 'utf8'), 'e\n')

  const out = await runBin('bt-restore', ['--to-stdout', 'db.sql'], readFileSync(`${dir}/s.bt`))
  t.equal(out.code, 0, out.stderr)
  t.ok(out.stdout.equals(dump), '--to-stdout gives the whole capture')
  const list = sh(`bt-restore.js --list 'db.*' < "${dir}/s.bt"`)
  ok(t, list, '--list')
  t.match(list.stdout, new RegExp(` ${dump.length} .* db\\.sql \\[capture, 3 parts\\]\\n# trailer`))
  t.notMatch(list.stdout, /e\.txt/)
  const only = `${dir}/only`
  ok(t, sh(`bt-restore.js "${only}" db.sql < "${dir}/s.bt"`), 'restore with a pattern')
  t.strictSame(readdirSync(only).sort(), ['.backtory-restore.json', 'db.sql'], 'the file, and the marker recording the subset')
  t.ok(readFileSync(`${only}/db.sql`).equals(dump))
  t.strictSame(sh(`bt-restore.js -n "${dir}/n" < "${dir}/s.bt"`).stdout.split('\n').filter((l) => l.startsWith('db')), ['db.sql'], '--dry-run: one path')

  // tar programs see three members named db.sql; the last (part 2) wins: the documented limitation.
  const tar = sh(`tar -tf "${dir}/s.bt" --warning=no-unknown-keyword`)
  t.equal(tar.stdout.split('\n').filter((l) => l === 'db.sql').length, 3, 'GNU tar lists one member per part')
})

t.test('a part boundary exactly at the end: no empty last part', async (t) => {
  const dir = t.testdir({ src: {} })
  await scanTo(`${dir}/s.bt`, options(`${dir}/src`), [bytesCapture('x', noise(2 * PART_SIZE, 2), 1000)])
  const j = sh(`bt-ls.js --json "${dir}/s.bt"`).stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  t.match(j.find((e) => e.path === 'x'), { size: 2 * PART_SIZE, capture: { parts: 2 } })
  ok(t, sh(`bt-restore.js "${dir}/d" < "${dir}/s.bt"`), 'restore')
  t.equal(sha256(readFileSync(`${dir}/d/x`)), sha256(noise(2 * PART_SIZE, 2)))
})

t.test('no captures: the very bytes of scanStream', async (t) => {
  const dir = t.testdir({ src: {} })
  tree(`${dir}/src`)
  const o = options(`${dir}/src`)
  const a: Buffer[] = []
  for (const b of scanStream(o)) a.push(Buffer.from(b))
  const b: Buffer[] = []
  for await (const c of scanWithCaptures(options(`${dir}/src`), [])) b.push(Buffer.from(c))
  t.ok(Buffer.concat(a).equals(Buffer.concat(b)))
})

t.test('full + quick stream with a capture, through bt-delta', async (t) => {
  const dir = t.testdir({ src: {} })
  const src = `${dir}/src`
  const S = `${dir}/state`
  tree(src)
  const day1 = noise(6 * 1024 * 1024, 3)
  writeFileSync(`${dir}/dump.bin`, day1)
  await scanTo(`${dir}/full.raw`, options(src), [command('db.sql', `cat "${dir}/dump.bin"`)])
  ok(t, sh(`bt-delta.js --state "${S}" --full < "${dir}/full.raw" > "${dir}/full.bt" && bt-delta.js -q --state "${S}" --confirm > /dev/null`), 'bt-delta --full')
  t.ok(readFileSync(`${dir}/full.raw`).equals(readFileSync(`${dir}/full.bt`)), '--full passes the stream through')

  const state = readState(S)!
  const index = readFileSync(`${state.gen}/index.jsonl`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  const rec = index.filter((e) => e.path === 'db.sql')
  t.equal(rec.length, 1, 'one index record for the capture')
  t.match(rec[0], { type: 'file', size: day1.length, sha256: sha256(day1) })
  const reader = openIndex(state)
  t.ok(reader.signature(reader.find('db.sql')!)?.length, 'with the signature of the whole file')
  reader.close()

  // Day 2: the dump changed in a few places; a quick scan never calls a capture unchanged.
  const day2 = Buffer.from(day1)
  noise(8192, 4).copy(day2, 3 * 1024 * 1024)
  writeFileSync(`${dir}/dump.bin`, day2)
  const quick = options(src, { index: openIndex(state), info: { ...options(src).info, stream: 'quick', base: state.full.id, id: 'fedcba9876543210fedcba9876543210' } })
  await scanTo(`${dir}/quick.bt`, quick, [command('db.sql', `cat "${dir}/dump.bin"`)])
  quick.index!.close()
  const ql = sh(`bt-ls.js "${dir}/quick.bt"`)
  t.notMatch(ql.stdout, /e\.txt/, 'tree files are quick-checked: an unchanged one is left out')
  t.match(ql.stdout, new RegExp(` ${day2.length} .* db\\.sql \\[capture, 2 parts\\]`), 'the capture travels whole')
  const d = sh(`bt-delta.js --state "${S}" < "${dir}/quick.bt" > "${dir}/diff.bt"`)
  ok(t, d, 'differential')
  t.match(d.stderr, /1 delta/, 'the changed dump becomes a delta against the old one')
  const dl = sh(`bt-ls.js "${dir}/diff.bt"`).stdout
  t.match(dl, /db\.sql \[delta, \d+ bytes\]/)
  t.ok(readFileSync(`${dir}/diff.bt`).length < 1024 * 1024, 'the differential is small')

  const dst = `${dir}/dst`
  ok(t, sh(`bt-restore.js "${dst}" < "${dir}/full.bt" && bt-restore.js "${dst}" < "${dir}/diff.bt"`), 'full + differential')
  t.ok(readFileSync(`${dst}/db.sql`).equals(day2), 'the day-2 dump, byte-identical')

  // A dump that did not change at all is a meta record (its start time is new).
  await scanTo(`${dir}/same.bt`, options(src, { now: () => NOW + 86400_000 }), [command('db.sql', `cat "${dir}/dump.bin"`)])
  writeFileSync(`${dir}/dump.bin`, day1)
  await scanTo(`${dir}/same.bt`, options(src, { now: () => NOW + 86400_000 }), [command('db.sql', `cat "${dir}/dump.bin"`)])
  ok(t, sh(`bt-delta.js --state "${S}" < "${dir}/same.bt" > "${dir}/same-diff.bt"`), 'differential of an unchanged dump')
  t.match(sh(`bt-ls.js "${dir}/same-diff.bt"`).stdout, /db\.sql \[meta\]/)
})

t.test('a stream cut inside a capture leaves no file of it', async (t) => {
  const dir = t.testdir({ src: { 'z.txt': 'z\n' } })
  const dump = noise(9 * 1024 * 1024, 5)
  await scanTo(`${dir}/s.bt`, options(`${dir}/src`), [bytesCapture('db.sql', dump)])
  const s = readFileSync(`${dir}/s.bt`)
  // Cut inside part 1's data, right after part 0 (before part 1's header), and just before the frame after the run.
  const part1 = s.indexOf(Buffer.from('PaxHeaders/db.sql'), s.indexOf(Buffer.from('PaxHeaders/db.sql')) + 1) - 0
  const afterRun = s.indexOf(Buffer.from('PaxHeaders/z.txt'))
  for (const [what, at] of [['inside part 1', part1 + 2 * 1024 * 1024], ['between parts 0 and 1', part1], ['after the last part', afterRun]] as const) {
    const dst = `${dir}/d-${what.replace(/ /g, '-')}`
    mkdirSync(dst)
    const r = await runBin('bt-restore', [dst], s.subarray(0, at))
    t.equal(r.code, 4, `${what}: exit 4`)
    t.match(r.stderr, /stream is truncated/)
    t.notOk(existsSync(`${dst}/db.sql`), `${what}: no db.sql`)
    t.strictSame(leftovers(dst), [], `${what}: no temporary file`)
    const o = await runBin('bt-restore', ['--to-stdout', 'db.sql'], s.subarray(0, at))
    t.equal(o.code, 4, `${what}: --to-stdout exit 4`)
    t.equal(o.stdout.length, 0, `${what}: --to-stdout wrote nothing`)
  }
  const ls = await runBin('bt-ls', [], s.subarray(0, part1 + 1000))
  t.equal(ls.code, 4)
  t.notMatch(ls.stdout.toString(), /db\.sql/, 'bt-ls lists no half capture')
})

t.test('a failing command fails the stream: no trailer, nothing restored', async (t) => {
  const dir = t.testdir({ src: { 'a.txt': 'a\n', 'z.txt': 'z\n' } })
  const err = await scanTo(`${dir}/s.bt`, options(`${dir}/src`), [command('db.sql', 'head -c 5000000 /dev/zero; exit 3')]).catch((e: unknown) => e)
  t.match(err, { code: 'BT_CAPTURE_FAILED' }, 'the command\'s error is the stream\'s')
  const r = await runBin('bt-ls', [`${dir}/s.bt`])
  t.equal(r.code, 4)
  t.match(r.stderr, /stream is truncated/)
  t.notMatch(r.stdout.toString(), /^# trailer/m)
  mkdirSync(`${dir}/dst`)
  const rr = await runBin('bt-restore', [`${dir}/dst`], readFileSync(`${dir}/s.bt`))
  t.equal(rr.code, 4)
  t.notOk(existsSync(`${dir}/dst/db.sql`))
  // A command that fails before writing a byte, and a data stream that errors.
  const e2 = await scanTo(`${dir}/s2.bt`, options(`${dir}/src`), [command('db.sql', 'exit 1')]).catch((e: unknown) => e)
  t.match(e2, { code: 'BT_CAPTURE_FAILED' })
  t.notMatch(readFileSync(`${dir}/s2.bt`).toString('latin1'), /BACKTORY\.trailer/)
  const broken: Capture = {
    name: 'db.sql',
    open: () => ({
      data: (async function* () {
        yield Buffer.alloc(10)
        throw new Error('pipe broke')
      })(),
      done: Promise.reject(new BtError('BT_CAPTURE_FAILED', EXIT.FAILURE, 'killed')),
    }),
  }
  t.rejects(scanTo(`${dir}/s3.bt`, options(`${dir}/src`), [broken]), /pipe broke/)
})

t.test('capture names are checked before anything is written', async (t) => {
  const dir = t.testdir({ src: { 'taken.sql': 'x', 'skipped.sql': 'y', sub: {} } })
  const o = () => options(`${dir}/src`, { exclude: new Excluder(['/skipped.sql']) })
  const first = async (caps: Capture[]) => {
    const g = scanWithCaptures(o(), caps)
    try {
      return await g.next()
    } finally {
      await g.return(undefined)
    }
  }
  const bad: Array<[string, Capture[]]> = [
    ['a slash', [bytesCapture('a/b', Buffer.alloc(0))]],
    ['dot-dot', [bytesCapture('..', Buffer.alloc(0))]],
    ['dot', [bytesCapture('.', Buffer.alloc(0))]],
    ['empty', [bytesCapture('', Buffer.alloc(0))]],
    ['NUL', [bytesCapture('a\0b', Buffer.alloc(0))]],
    ['lone surrogate', [bytesCapture('a\ud800', Buffer.alloc(0))]],
    ['restore marker', [bytesCapture('.backtory-restore.json', Buffer.alloc(0))]],
    ['twice', [bytesCapture('d.sql', Buffer.alloc(0)), bytesCapture('d.sql', Buffer.alloc(0))]],
    ['a file of the tree', [bytesCapture('taken.sql', Buffer.alloc(0))]],
    ['a directory of the tree', [bytesCapture('sub', Buffer.alloc(0))]],
  ]
  for (const [what, caps] of bad) {
    await t.rejects(first(caps), { code: 'BT_CAPTURE_NAME', exit: EXIT.USAGE }, what)
  }
  const r = await first([bytesCapture('skipped.sql', Buffer.from('replaces an excluded file'))])
  t.equal(r.done, false, 'an excluded file of the same name is no collision')
})

t.test('pull-based: the command is read no faster than the stream is written', async (t) => {
  const dir = t.testdir({ src: {} })
  let pulled = 0
  const endless: Capture = {
    name: 'endless',
    open: () => ({
      data: (async function* () {
        for (;;) {
          pulled++
          yield Buffer.alloc(65536, 1)
        }
      })(),
      done: new Promise<void>(() => undefined),
    }),
  }
  const g = scanWithCaptures(options(`${dir}/src`), [endless])
  let got = 0
  for (let i = 0; i < 10; i++) got += ((await g.next()).value as Buffer).length
  t.ok(pulled * 65536 <= got + 2 * PART_SIZE + 65536, `pulled ${pulled} chunks for ${got} bytes handed on`)
  await g.return(undefined)
  const before = pulled
  await new Promise((r) => setTimeout(r, 20))
  t.equal(pulled, before, 'abandoning the stream stops pulling')
})
