// Issue 11, item 2: one file from day 5 needed the whole dataset restored,
// since PATTERN and --to-stdout were refused on a differential. Now
// `bt-restore DIR PAT... < full; bt-restore DIR PAT... < diff` restores the
// subset as of the differential's day, the marker records the paths a target
// holds, and `bt-restore -O PATH --base TMP < diff` reads one file as of that
// day. Every stream here is made by the real bt-scan and bt-delta.
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import {
  appendFileSync, chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync,
  renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync, writeSync,
} from 'node:fs'
import { killInCommit, runBin, sh, xorshift } from '../helpers.js'
import { INFO, makeStream } from '../stream.js'
import { selector } from '../../src/restore/select.js'

function random(n: number, seed: number): Buffer {
  const rnd = xorshift(seed)
  const b = Buffer.alloc(n)
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(Math.floor(rnd() * 0x100000000), i)
  return b
}

function day1(src: string): void {
  mkdirSync(`${src}/etc/ssh`, { recursive: true })
  writeFileSync(`${src}/etc/app.conf`, 'port = 80\n')
  writeFileSync(`${src}/etc/ssh/sshd_config`, 'PermitRootLogin no\n')
  writeFileSync(`${src}/etc/pages.db`, random(600_000, 1))
  mkdirSync(`${src}/logs`)
  writeFileSync(`${src}/logs/app.log`, 'line\n'.repeat(20_000))
  writeFileSync(`${src}/gone.txt`, 'deleted on day 2\n')
  mkdirSync(`${src}/old-dir/inner`, { recursive: true })
  writeFileSync(`${src}/old-dir/inner/f`, 'gone with its directory\n')
  writeFileSync(`${src}/to-rename.bin`, random(200_000, 2))
  writeFileSync(`${src}/becomes-dir`, 'a file on day 1\n')
  writeFileSync(`${src}/becomes-link`, 'a file on day 1\n')
  mkdirSync(`${src}/becomes-file`)
  writeFileSync(`${src}/becomes-file/x`, 'x\n')
  writeFileSync(`${src}/same.txt`, 'never changes\n')
  writeFileSync(`${src}/chmod-me`, 'same content\n')
}

function day2(src: string): void {
  const fd = openSync(`${src}/etc/pages.db`, 'r+')
  writeSync(fd, random(8192, 3), 0, 8192, 300_000) // a page rewritten in place: a delta
  closeSync(fd)
  writeFileSync(`${src}/etc/app.conf`, 'port = 8080\n')
  appendFileSync(`${src}/logs/app.log`, 'appended\n'.repeat(500))
  unlinkSync(`${src}/gone.txt`)
  rmSync(`${src}/old-dir`, { recursive: true })
  renameSync(`${src}/to-rename.bin`, `${src}/renamed.bin`)
  unlinkSync(`${src}/becomes-dir`)
  mkdirSync(`${src}/becomes-dir`)
  writeFileSync(`${src}/becomes-dir/y`, 'y\n')
  unlinkSync(`${src}/becomes-link`)
  symlinkSync('same.txt', `${src}/becomes-link`)
  rmSync(`${src}/becomes-file`, { recursive: true })
  writeFileSync(`${src}/becomes-file`, 'a file on day 2\n')
  chmodSync(`${src}/chmod-me`, 0o600)
  writeFileSync(`${src}/brand-new`, 'new on day 2\n')
}

interface Backup { dir: string; src: string; full: string; diff: string; fullId: string; diffId: string }

/** A full of day 1 and a differential of day 2 against it, made and confirmed by the real tools. */
function backup(t: Test): Backup {
  const dir = t.testdir({ src: {} })
  const src = `${dir}/src`
  const S = `${dir}/state`
  day1(src)
  t.equal(sh(`bt-scan.js "${src}" | bt-delta.js --state "${S}" --full > "${dir}/full.bt" && bt-delta.js -q --state "${S}" --confirm > /dev/null`).code, 0, 'full')
  day2(src)
  const d = sh(`bt-scan.js --state "${S}" "${src}" | bt-delta.js --state "${S}" > "${dir}/diff.bt"`)
  t.equal(d.code, 0, d.stderr)
  t.match(d.stderr, /records: .*unchanged.*meta.*delta.*copy.*deleted/, 'every kind of record')
  const id = (f: string) => JSON.parse(sh(`bt-ls.js --json "${f}" | head -1`).stdout).id as string
  return { dir, src, full: `${dir}/full.bt`, diff: `${dir}/diff.bt`, fullId: id(`${dir}/full.bt`), diffId: id(`${dir}/diff.bt`) }
}

/** Type, mode, link target and content hash of every path under `root` that the patterns select. */
function selected(root: string, patterns: string[]): string[] {
  const sel = selector(patterns)!
  const out: string[] = []
  const walk = (rel: string) => {
    for (const name of readdirSync(rel ? `${root}/${rel}` : root).sort()) {
      const p = rel ? `${rel}/${name}` : name
      if (name === '.backtory-restore.json') continue
      const st = lstatSync(`${root}/${p}`)
      const what = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? `link ${readlinkSync(`${root}/${p}`)}`
        : `file ${createHash('sha256').update(readFileSync(`${root}/${p}`)).digest('hex').slice(0, 16)}`
      if (sel(p)) out.push(`${p} ${what} ${(st.mode & 0o7777).toString(8)}`)
      if (st.isDirectory()) walk(p)
    }
  }
  walk('')
  return out
}

function marker(dir: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${dir}/.backtory-restore.json`, 'utf8'))
}

/** Everything a refusal must leave as it was. */
function snapshot(dir: string): string {
  return sh(`cd "${dir}" && find . -printf '%p %y %s %m %T@ %l\\n' | sort && find . -type f -exec sha256sum {} + | sort`).stdout
}

const SUBSETS: Array<[string, string[]]> = [
  ['a directory: a delta, a literal change and an unchanged file in it', ['etc']],
  ['an appended log', ['logs/app.log']],
  ['a deleted file', ['gone.txt']],
  ['a file whose directory was deleted', ['old-dir/inner/f']],
  ['type changes: file to directory, file to symlink, directory to file', ['becomes-dir', 'becomes-link', 'becomes-file']],
  ['a file whose directory became a file', ['becomes-file/x']],
  ['a rename, with its source', ['renamed.bin', 'to-rename.bin']],
  ['unchanged (left out of the compact differential), metadata only, new; a glob', ['same.txt', 'chmod-me', 'brand-*']],
]

t.test('PATTERN on full then differential restores exactly that subset of the day', async (t) => {
  const b = backup(t)
  for (const [what, pats] of SUBSETS) {
    const r = `${b.dir}/r-${SUBSETS.findIndex(([w]) => w === what)}`
    const full = sh(`bt-restore.js "${r}" ${pats.map((p) => `'${p}'`).join(' ')} < "${b.full}"`)
    t.equal(full.code, 0, `${what}: full: ${full.stderr}`)
    const diff = sh(`bt-restore.js "${r}" ${pats.map((p) => `'${p}'`).join(' ')} < "${b.diff}"`)
    t.equal(diff.code, 0, `${what}: differential: ${diff.stderr}`)
    t.same(selected(r, pats), selected(b.src, pats), `${what}: the selected paths are as on day 2`)
    t.same(marker(r), { full: b.fullId, diff: b.diffId, paths: [...pats].sort() }, `${what}: the marker records the subset`)
  }
})

t.test('a copy whose source was not restored is refused, naming it, and changes nothing', async (t) => {
  const b = backup(t)
  const r = `${b.dir}/r`
  t.equal(sh(`bt-restore.js "${r}" renamed.bin < "${b.full}"`).code, 0)
  const before = snapshot(r)
  const x = sh(`bt-restore.js "${r}" renamed.bin < "${b.diff}"`)
  t.equal(x.code, 4, x.stderr)
  t.match(x.stderr, /"to-rename.bin" \(the source of "renamed.bin"\) is not a regular file/)
  t.match(x.stderr, /hint: the paths restored do not include "to-rename.bin": restore the full with "to-rename.bin" among the paths too/)
  t.equal(snapshot(r), before)
})

t.test('-O on a differential with --base: each kind of record', async (t) => {
  const b = backup(t)
  let n = 0
  /** Restores `base` from the full into a new base tree, then reads `path` as of day 2 on it; stdout as bytes. */
  const one = (path: string, base: string[]) => {
    const tmp = `${b.dir}/base-${n++}`
    t.equal(sh(`bt-restore.js "${tmp}" ${base.join(' ')} < "${b.full}"`).code, 0)
    const before = snapshot(tmp)
    const r = sh(`bt-restore.js -O ${path} --base "${tmp}" < "${b.diff}" > "${tmp}.out"`)
    t.equal(snapshot(tmp), before, `${path}: the base tree is only read`)
    return { ...r, stdout: readFileSync(`${tmp}.out`) }
  }
  for (const path of ['etc/pages.db', 'etc/app.conf', 'logs/app.log', 'same.txt', 'chmod-me', 'becomes-file', 'brand-new']) {
    const r = one(path, [path])
    t.equal(r.code, 0, `${path}: ${r.stderr}`)
    t.ok(r.stdout.equals(readFileSync(`${b.src}/${path}`)), `${path}: the content of day 2`)
  }
  const ren = one('renamed.bin', ['renamed.bin', 'to-rename.bin'])
  t.equal(ren.code, 0, ren.stderr)
  t.ok(ren.stdout.equals(readFileSync(`${b.src}/renamed.bin`)), 'a renamed file: copied from its source in the base')
  const noSrc = one('renamed.bin', ['renamed.bin'])
  t.equal(noSrc.code, 4)
  t.match(noSrc.stderr, /hint: restore it from full \w+ into the base tree first: bt-restore ".*" "to-rename.bin" < FULL/)
  t.equal(noSrc.stdout.length, 0)
  for (const path of ['gone.txt', 'old-dir/inner/f', 'becomes-file/x']) {
    const r = one(path, [path])
    t.equal(r.code, 1, r.stderr)
    t.match(r.stderr, new RegExp(`^bt-restore: error: "${path}" is deleted in this differential`, 'm'))
    t.equal(r.stdout.length, 0)
  }
  const link = one('becomes-link', ['becomes-link'])
  t.equal(link.code, 1)
  t.match(link.stderr, /"becomes-link" is a symlink, not a regular file/)
  const missing = one('nothere', ['nothere'])
  t.equal(missing.code, 1)
  t.match(missing.stderr, /"nothere" is neither in the differential nor in the base tree/)
})

t.test('-O on a differential: without --base, or with a base of the wrong full or paths, a clear error', async (t) => {
  const b = backup(t)
  const r = sh(`bt-restore.js -O etc/app.conf < "${b.diff}"`)
  t.equal(r.code, 2)
  t.match(r.stderr, /--to-stdout on a differential needs --base DIR/)
  t.match(r.stderr, /hint: restore the path from the full first: bt-restore TMP "etc\/app.conf" < FULL; then bt-restore -O "etc\/app.conf" --base TMP < DIFF/)
  t.equal(sh(`bt-restore.js "${b.dir}/logs-only" logs < "${b.full}"`).code, 0)
  const w = sh(`bt-restore.js -O etc/app.conf --base "${b.dir}/logs-only" < "${b.diff}"`)
  t.equal(w.code, 4)
  t.match(w.stderr, /holds only the paths "logs" of full \w+, not "etc\/app.conf"/)
  const other = makeStream([{ meta: { path: 'etc/app.conf', type: 'file' }, data: 'x' }])
  writeFileSync(`${b.dir}/other.bt`, other)
  t.equal(sh(`bt-restore.js "${b.dir}/other" < "${b.dir}/other.bt"`).code, 0)
  const o = sh(`bt-restore.js -O etc/app.conf --base "${b.dir}/other" < "${b.diff}"`)
  t.equal(o.code, 4)
  t.match(o.stderr, new RegExp(`this differential needs full ${b.fullId}, but the base tree ".*" holds full ${INFO.id}`))
  // A base file that changed since: the delta's base hash refuses it, and nothing reaches stdout.
  t.equal(sh(`bt-restore.js "${b.dir}/tampered" etc < "${b.full}"`).code, 0)
  appendFileSync(`${b.dir}/tampered/etc/pages.db`, 'x')
  const d = sh(`bt-restore.js -O etc/pages.db --base "${b.dir}/tampered" < "${b.diff}" | wc -c`)
  t.match(d.stderr, /the base of "etc\/pages.db" does not match the full/)
  t.equal(d.stdout.trim(), '0')
  t.equal(sh(`bt-restore.js --base x "${b.dir}/y" < "${b.full}"`).code, 2, '--base without -O')
})

t.test('the marker keeps the subset: another selection, or the whole differential, is refused', async (t) => {
  const b = backup(t)
  const r = `${b.dir}/r`
  t.equal(sh(`bt-restore.js "${r}" etc < "${b.full}"`).code, 0)
  t.same(marker(r), { full: b.fullId, diff: null, paths: ['etc'] })
  const before = snapshot(r)
  const other = sh(`bt-restore.js "${r}" logs < "${b.diff}"`)
  t.equal(other.code, 4, other.stderr)
  t.match(other.stderr, /error: ".*" holds only the paths "etc" of full \w+, which may not include all that "logs" selects/)
  t.match(other.stderr, /hint: restore the full with the same paths first/)
  const glob = sh(`bt-restore.js "${r}" 'e*' < "${b.diff}"`)
  t.equal(glob.code, 4, 'a glob cannot be proved to be within the subset')
  const whole = sh(`bt-restore.js "${r}" < "${b.diff}"`)
  t.equal(whole.code, 4, whole.stderr)
  t.match(whole.stderr, /a whole differential cannot apply to it/)
  t.equal(snapshot(r), before, 'each refusal changed nothing')
  // A plain path within the subset is provably held.
  const inner = sh(`bt-restore.js "${r}" etc/app.conf < "${b.diff}"`)
  t.equal(inner.code, 0, inner.stderr)
  t.equal(readFileSync(`${r}/etc/app.conf`, 'utf8'), 'port = 8080\n')
  t.same(marker(r).paths, ['etc/app.conf'])
  // A second subset of the same full joins the first; a whole full replaces both.
  const two = `${b.dir}/two`
  t.equal(sh(`bt-restore.js "${two}" etc < "${b.full}" && bt-restore.js "${two}" logs < "${b.full}"`).code, 0)
  t.same(marker(two).paths, ['etc', 'logs'])
  t.equal(sh(`bt-restore.js "${two}" logs etc < "${b.diff}"`).code, 0)
  t.same(selected(two, ['etc', 'logs']), selected(b.src, ['etc', 'logs']))
})

t.test('a subset of a whole target is fine, and a subset of the same full keeps it whole', async (t) => {
  const b = backup(t)
  const w = `${b.dir}/w`
  t.equal(sh(`bt-restore.js "${w}" < "${b.full}" && bt-restore.js "${w}" etc < "${b.full}"`).code, 0)
  t.same(marker(w), { full: b.fullId, diff: null }, 'still the whole full')
  const d = sh(`bt-restore.js "${w}" etc old-dir < "${b.diff}"`)
  t.equal(d.code, 0, d.stderr)
  t.same(selected(w, ['etc', 'old-dir']), selected(b.src, ['etc', 'old-dir']))
  t.notOk(existsSync(`${w}/old-dir`), 'a selected directory deleted on day 2 is gone')
  t.equal(readFileSync(`${w}/gone.txt`, 'utf8'), 'deleted on day 2\n', 'what was not selected stays as the full left it')
  t.same(marker(w), { full: b.fullId, diff: b.diffId, paths: ['etc', 'old-dir'] })
})

t.test('a subset restore killed with -9 in its commit is finished by the same command', async (t) => {
  const b = backup(t)
  const pats = ['etc', 'logs', 'becomes-file', 'old-dir']
  const diff = readFileSync(b.diff)
  for (const after of [0, 2, 4]) {
    const r = `${b.dir}/r${after}`
    t.equal(sh(`bt-restore.js "${r}" ${pats.join(' ')} < "${b.full}"`).code, 0)
    const k = await killInCommit([r, ...pats], diff, after)
    t.ok(k.paused, `paused after ${after} steps: ${k.stderr}`)
    t.match(marker(r).pending, { id: b.diffId, kind: 'diff', paths: [...pats].sort() })
    const other = await runBin('bt-restore', [r, 'etc'], diff)
    t.equal(other.code, 4, 'another selection is refused until then')
    t.match(other.stderr, /unfinished restore of diff .* run the same bt-restore again with diff \w+ and the paths "becomes-file" "etc" "logs" "old-dir"/s)
    const again = await runBin('bt-restore', [r, ...[...pats].reverse()], diff)
    t.equal(again.code, 0, again.stderr)
    t.same(selected(r, pats), selected(b.src, pats), `after ${after} steps: the subset of day 2`)
    t.same(marker(r), { full: b.fullId, diff: b.diffId, paths: [...pats].sort() })
    t.same(readdirSync(r).filter((n) => n.startsWith('.bt-')), [], 'no stage left')
  }
})

t.test('a tampered or hostile differential with PATTERN is refused and changes nothing', async (t) => {
  const b = backup(t)
  const r = `${b.dir}/r`
  t.equal(sh(`bt-restore.js "${r}" etc logs < "${b.full}"`).code, 0)
  const before = snapshot(r)
  const diff = readFileSync(b.diff)
  const flipped = Buffer.from(diff)
  flipped[Math.floor(diff.length / 2)]! ^= 1
  for (const [what, s] of [['truncated', diff.subarray(0, diff.length - 1024)], ['a flipped byte', flipped]] as const) {
    const x = await runBin('bt-restore', [r, 'etc', 'logs'], s)
    t.equal(x.code, 4, `${what}: ${x.stderr}`)
    t.equal(snapshot(r), before, `${what}: nothing changed`)
  }
  // A differential that turns a selected directory into a symlink, then writes through it.
  const outside = `${b.dir}/outside`
  mkdirSync(outside)
  const hostile = makeStream([
    { meta: { path: '.', type: 'directory' } },
    { meta: { path: 'etc', type: 'symlink', linkpath: outside } },
    { meta: { path: 'etc/app.conf', type: 'file' }, data: 'escaped' },
  ], { ...INFO, version: '2', stream: 'diff', id: 'e'.repeat(32), base: b.fullId, baseIndex: '0'.repeat(64), unlisted: 'unchanged' })
  const h = await runBin('bt-restore', [r, 'etc', 'logs'], hostile)
  t.equal(h.code, 4, h.stderr)
  t.match(h.stderr, /it would be written through the symlink "etc"/)
  t.same(readdirSync(outside), [])
  t.equal(snapshot(r), before)
})

t.test('a differential that lists every path (stream version 1): what a directory no longer holds goes', async (t) => {
  const dir = t.testdir()
  const full = makeStream([
    { meta: { path: '.', type: 'directory' } },
    { meta: { path: 'a', type: 'directory' } },
    { meta: { path: 'a/keep', type: 'file' }, data: 'keep' },
    { meta: { path: 'a/sub', type: 'directory' } },
    { meta: { path: 'a/sub/f', type: 'file' }, data: 'f' },
    { meta: { path: 'b', type: 'file' }, data: 'b' },
  ])
  const diff = makeStream([
    { meta: { path: '.', type: 'directory' } },
    { meta: { path: 'a', type: 'directory' } },
    { meta: { path: 'a/keep', type: 'file', op: 'unchanged', size: 4 } },
  ], { ...INFO, stream: 'diff', id: 'd'.repeat(32), base: INFO.id, baseIndex: '0'.repeat(64) })
  for (const pats of [['a/sub/f', 'a/keep'], ['b'], ['a/sub']]) {
    const r = `${dir}/r-${pats.join('+').replace(/\//g, '_')}`
    t.equal((await runBin('bt-restore', [r, ...pats], full)).code, 0)
    const x = await runBin('bt-restore', [r, ...pats], diff)
    t.equal(x.code, 0, x.stderr)
    t.notOk(existsSync(`${r}/a/sub/f`) || existsSync(`${r}/b`), `${pats}: what the differential left out is gone`)
    if (pats.includes('a/keep')) t.equal(readFileSync(`${r}/a/keep`, 'utf8'), 'keep')
  }
})
