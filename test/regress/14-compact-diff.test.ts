// Issue 14: a differential costs what changed. bt-delta writes the compact
// form of stream version 2 (BACKTORY.unlisted=unchanged): unchanged files and
// untouched directories cost no record, each path of the full that is gone
// costs one deleted record, and full + differential still restores the new
// tree exactly, with bt-scan --state and without.
import t, { type Test } from 'tap'
import { appendFileSync, chmodSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync,
  unlinkSync, writeFileSync } from 'node:fs'
import { sh, xorshift } from '../helpers.js'
import { compareTrees, leftovers } from '../tree.js'

interface Run { code: number | null; stdout: string; stderr: string }
const ok = (t: Test, r: Run, what: string) => t.equal(r.code, 0, `${what}: ${r.stderr}`)

function manyFiles(dir: string, n: number): void {
  for (let d = 0; d < n / 100; d++) {
    mkdirSync(`${dir}/d${d}`, { recursive: true })
    for (let i = 0; i < 100; i++) writeFileSync(`${dir}/d${d}/f${i}`, `file ${d}/${i}\n`)
  }
}

function full(t: Test, src: string, S: string, out: string): void {
  ok(t, sh(`bt-scan.js "${src}" | bt-delta.js --state "${S}" --full > "${out}" && bt-delta.js -q --state "${S}" --confirm > /dev/null`), 'full')
}

function jsonEntries(file: string): Array<Record<string, unknown>> {
  const r = sh(`bt-ls.js --json "${file}"`)
  if (r.code !== 0) throw new Error(r.stderr)
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((f) => f.frame === 'entry')
}

/** A tree of `n` small files in the test's directory, with its full made and confirmed in `dir`/state. */
function treeWithFull(t: Test, n: number): { dir: string; S: string } {
  const dir = t.testdir({ src: {} })
  const S = `${dir}/state`
  manyFiles(`${dir}/src`, n)
  full(t, `${dir}/src`, S, `${dir}/full.bt`)
  return { dir, S }
}

t.test('a no-change differential holds no record per file, and its size does not grow with the file count', async (t) => {
  const sizes: number[] = []
  for (const n of [200, 2000]) {
    const { dir, S } = treeWithFull(t, n)
    for (const quick of [false, true]) {
      const r = sh(`bt-scan.js ${quick ? `--state "${S}"` : ''} "${dir}/src" | bt-delta.js --state "${S}" > "${dir}/diff.bt"`)
      ok(t, r, `no-change differential of ${n} files${quick ? ' from a quick scan' : ''}`)
      t.match(r.stderr, new RegExp(`records: ${n} unchanged`), 'the summary counts the unchanged files')
      const entries = jsonEntries(`${dir}/diff.bt`)
      t.same(entries.filter((e) => e.type !== 'directory'), [], 'no record for any file')
      t.ok(entries.length <= 1 + n / 100, `only directories (${entries.length} entries)`)
      t.match(sh(`bt-ls.js "${dir}/diff.bt"`).stdout, /^# backtory stream v2 diff /)
      if (quick) sizes.push(statSync(`${dir}/diff.bt`).size)
    }
    // It restores: the full's tree stays as it is.
    ok(t, sh(`bt-restore.js "${dir}/r" < "${dir}/full.bt" && bt-restore.js "${dir}/r" < "${dir}/diff.bt"`), 'restore')
    t.same(compareTrees(`${dir}/src`, `${dir}/r`), [], 'full + no-change differential == tree')
  }
  t.ok(sizes[1]! <= sizes[0]!, `2000 files cost no more than 200 (${sizes.join(' vs ')} bytes)`)
  t.ok(sizes[1]! < 8192, `a no-change differential is a few blocks (${sizes[1]} bytes)`)
})

t.test('a no-change quick scan (bt-scan --state) holds no record per file, and its size does not grow with the file count', async (t) => {
  const sizes: number[] = []
  for (const n of [200, 2000]) {
    const { dir, S } = treeWithFull(t, n)
    ok(t, sh(`bt-scan.js --state "${S}" "${dir}/src" > "${dir}/quick.bt"`), `quick scan of ${n} files`)
    t.match(sh(`bt-ls.js "${dir}/quick.bt"`).stdout, /^# backtory stream v2 quick /)
    const entries = jsonEntries(`${dir}/quick.bt`)
    t.same(entries.filter((e) => e.type !== 'directory'), [], 'no record for any file, unchanged or deleted')
    t.equal(entries.length, 1 + n / 100, 'the directories only')
    sizes.push(statSync(`${dir}/quick.bt`).size)
  }
  // The directories still travel (one per 100 files here), so allow for them, but not for the files.
  t.ok(sizes[1]! < sizes[0]! * 10 / 2, `2000 files cost far less than 10 times 200 (${sizes.join(' vs ')} bytes)`)
  t.ok(sizes[1]! < 2000 * 100, `well under 100 bytes a file (${sizes[1]} bytes for 2000 files)`)
})

function day1(src: string): void {
  const rnd = xorshift(14)
  const big = Buffer.alloc(64 * 1024)
  for (let i = 0; i < big.length; i++) big[i] = Math.floor(rnd() * 256)
  mkdirSync(`${src}/keep/deep/er`, { recursive: true })
  writeFileSync(`${src}/keep/deep/er/same`, 'same')
  writeFileSync(`${src}/keep/edit`, 'old content of edit')
  writeFileSync(`${src}/keep/log`, 'line\n'.repeat(2000))
  writeFileSync(`${src}/keep/big`, big)
  writeFileSync(`${src}/keep/rename-me`, Buffer.concat([big, Buffer.from('renamed')]))
  writeFileSync(`${src}/a-delete`, 'bye')
  writeFileSync(`${src}/z-delete`, 'last in order')
  mkdirSync(`${src}/gone/sub`, { recursive: true })
  writeFileSync(`${src}/gone/x`, 'x')
  writeFileSync(`${src}/gone/sub/y`, 'y')
  writeFileSync(`${src}/file-to-dir`, 'a file today')
  mkdirSync(`${src}/dir-to-link/inner`, { recursive: true })
  writeFileSync(`${src}/dir-to-link/inner/f`, 'f')
  writeFileSync(`${src}/dir-to-link/g`, 'g')
  writeFileSync(`${src}/chmod-me`, 'same content')
  writeFileSync(`${src}/linked`, 'shared, unchanged')
  symlinkSync('keep', `${src}/sym`)
  mkdirSync(`${src}/untouched`)
  for (let i = 0; i < 50; i++) writeFileSync(`${src}/untouched/u${i}`, `u${i}`)
}

function day2(src: string): void {
  writeFileSync(`${src}/keep/edit`, 'new content of edit, longer')
  appendFileSync(`${src}/keep/log`, 'appended\n'.repeat(10))
  const big = readFileSync(`${src}/keep/big`)
  big.write('patched', 30000)
  writeFileSync(`${src}/keep/big`, big)
  renameSync(`${src}/keep/rename-me`, `${src}/renamed`)
  unlinkSync(`${src}/a-delete`)
  unlinkSync(`${src}/z-delete`)
  rmSync(`${src}/gone`, { recursive: true })
  unlinkSync(`${src}/file-to-dir`)
  mkdirSync(`${src}/file-to-dir`)
  writeFileSync(`${src}/file-to-dir/inside`, 'in')
  rmSync(`${src}/dir-to-link`, { recursive: true })
  symlinkSync('keep', `${src}/dir-to-link`)
  chmodSync(`${src}/chmod-me`, 0o600)
  linkSync(`${src}/linked`, `${src}/new-hardlink`)
  writeFileSync(`${src}/brand-new`, 'new')
}

t.test('day 2 with edits, appends, deletes, renames and type changes restores exactly from a compact differential', async (t) => {
  for (const quick of [false, true]) {
    const dir = t.testdir({ src: {} })
    const S = `${dir}/state`
    const src = `${dir}/src`
    day1(src)
    full(t, src, S, `${dir}/full.bt`)
    day2(src)
    const d = sh(`bt-scan.js ${quick ? `--state "${S}"` : ''} "${src}" | tee "${dir}/scan.bt" | bt-delta.js --state "${S}" > "${dir}/diff.bt"`)
    ok(t, d, `day-2 differential${quick ? ' from a quick scan' : ''}`)
    if (quick) {
      // The quick scan itself is compact: what it finds as in the full is left out, what is gone it names.
      const scanned = jsonEntries(`${dir}/scan.bt`)
      t.same(scanned.filter((e) => e.op === 'deleted').map((e) => e.path), ['a-delete', 'gone', 'keep/rename-me', 'z-delete'],
        'the quick scan names each path gone once, in stream order; none below a deleted or replaced directory')
      t.same(scanned.filter((e) => e.op === 'unchanged'), [], 'no unchanged record')
      // ("linked" travels: a new hard link to it changed its ctime.)
      t.notOk(scanned.some((e) => String(e.path).startsWith('untouched/') || e.path === 'keep/deep/er/same'),
        'unchanged files are left out of the quick scan')
    }
    t.match(d.stderr, /records: .*deleted/, 'the summary counts the deletions')
    const entries = jsonEntries(`${dir}/diff.bt`)
    const deleted = entries.filter((e) => e.op === 'deleted').map((e) => e.path)
    t.same(deleted, ['a-delete', 'gone', 'keep/rename-me', 'z-delete'], 'one deleted record per path gone, in stream order; none below a deleted directory')
    t.notOk(entries.some((e) => String(e.path).startsWith('untouched') || e.path === 'keep/deep/er/same' || e.path === 'linked'),
      'unchanged files and untouched directories have no record')
    t.notOk(entries.some((e) => String(e.path).startsWith('dir-to-link/')), 'nothing is deleted below a directory replaced by a symlink')
    const listing = sh(`bt-ls.js "${dir}/diff.bt"`).stdout
    t.match(listing, /^-{10} -\s+- -\s+a-delete \[deleted\]$/m, 'bt-ls shows a deleted record by its path alone')
    ok(t, sh(`bt-restore.js "${dir}/r" < "${dir}/full.bt" && bt-restore.js "${dir}/r" < "${dir}/diff.bt"`), 'restore full + day 2')
    t.same(compareTrees(src, `${dir}/r`), [], 'full + day 2 == day 2')
    t.same(leftovers(`${dir}/r`), [])
  }
})

t.test('a compact quick scan (unlisted=unchanged): what it leaves out is unchanged, never deleted', async (t) => {
  const { makeStream, INFO } = await import('../stream.js')
  const dir = t.testdir({ src: { a: 'old a', b: 'b stays', d: { c: 'c stays' } } })
  const S = `${dir}/state`
  full(t, `${dir}/src`, S, `${dir}/full.bt`)
  const fullId = JSON.parse(readFileSync(`${S}/current/full.json`, 'utf8')).id as string
  const root = statSync(`${dir}/src`)
  writeFileSync(`${dir}/src/a`, 'new a')
  const a = statSync(`${dir}/src/a`)
  const quick = makeStream([
    { meta: { path: '.', type: 'directory', mode: root.mode & 0o7777, mtime: { sec: Math.floor(root.mtimeMs / 1000), nsec: 0 } } },
    { meta: { path: 'a', type: 'file', mode: a.mode & 0o7777, mtime: { sec: Math.floor(a.mtimeMs / 1000), nsec: 0 } }, data: 'new a' },
  ], { ...INFO, version: '2', stream: 'quick', base: fullId, unlisted: 'unchanged' })
  writeFileSync(`${dir}/quick.bt`, quick)
  ok(t, sh(`bt-delta.js --state "${S}" < "${dir}/quick.bt" > "${dir}/diff.bt"`), 'differential of a compact quick scan')
  const entries = jsonEntries(`${dir}/diff.bt`)
  t.same(entries.filter((e) => e.op === 'deleted'), [], 'nothing the scan left out is deleted')
  t.same(entries.filter((e) => e.type === 'file').map((e) => e.path), ['a'])
  ok(t, sh(`bt-restore.js "${dir}/r" < "${dir}/full.bt" && bt-restore.js "${dir}/r" < "${dir}/diff.bt"`), 'restore')
  t.equal(readFileSync(`${dir}/r/a`, 'utf8'), 'new a')
  t.equal(readFileSync(`${dir}/r/b`, 'utf8'), 'b stays')
  t.equal(readFileSync(`${dir}/r/d/c`, 'utf8'), 'c stays')
})
