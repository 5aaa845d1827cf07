// Issue 10 (hardening), restore side: a refused stream changes nothing, a
// restore killed in its commit phase is finished by a rerun, stale temporaries
// are removed, deep trees fail clearly, and hard links reach only what the
// stream itself holds. Each test failed before the journal-driven engine.
import t from 'tap'
import { spawn } from 'node:child_process'
import {
  existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { BIN, killInCommit, runBin, sh } from '../helpers.js'
import { INFO, makeStream } from '../stream.js'
import { compareTrees } from '../tree.js'

/** Every name of backtory's own temporaries, anywhere under `dir`. */
function ours(dir: string, rel = ''): string[] {
  const out: string[] = []
  for (const name of readdirSync(`${dir}/${rel}`)) {
    const p = rel ? `${rel}/${name}` : name
    if (/^\.bt-(stage|restore)-/.test(name) || name === '.backtory-restore.json.tmp') out.push(p)
    if (lstatSync(`${dir}/${p}`).isDirectory() && !name.startsWith('.bt-')) out.push(...ours(dir, p))
  }
  return out
}

/** What a refusal must leave exactly as it was: names, types, sizes, modes, mtimes, link targets, contents. */
function snapshot(dir: string): string {
  return sh(`cd "${dir}" && find . -printf '%p %y %s %m %T@ %l\\n' | sort && find . -type f -exec sha256sum {} + | sort`).stdout
}

function diffInfo(base: string, id = 'd'.repeat(32)) {
  return { ...INFO, stream: 'diff', id, base, baseIndex: '0'.repeat(64) }
}

t.test('a refused differential changes nothing: lnk retargeted, then lnk/x (the issue\'s repro)', async (t) => {
  const dir = t.testdir({ outside: {} })
  const full = makeStream([
    { meta: { path: '.', type: 'directory' } },
    { meta: { path: 'a.txt', type: 'file' }, data: 'old a\n' },
    { meta: { path: 'd', type: 'directory' } },
    { meta: { path: 'lnk', type: 'symlink', linkpath: 'a.txt' } },
  ])
  const r0 = await runBin('bt-restore', [`${dir}/r`], full)
  t.equal(r0.code, 0, r0.stderr)
  const before = snapshot(`${dir}/r`)
  const diff = makeStream([
    { meta: { path: '.', type: 'directory', mtime: { sec: 1_800_000_000, nsec: 0 } } },
    { meta: { path: 'a.txt', type: 'file' }, data: 'new a\n' },
    { meta: { path: 'd', type: 'directory', mtime: { sec: 1_800_000_000, nsec: 0 } } },
    { meta: { path: 'lnk', type: 'symlink', linkpath: `${dir}/outside` } },
    { meta: { path: 'lnk/x', type: 'file' }, data: 'escaped\n' },
  ], diffInfo(INFO.id))
  const r = await runBin('bt-restore', [`${dir}/r`], diff)
  t.equal(r.code, 4, r.stderr)
  t.match(r.stderr, /refusing entry "lnk\/x": it would be written through the symlink "lnk"/)
  t.equal(readFileSync(`${dir}/r/a.txt`, 'utf8'), 'old a\n', 'a.txt unchanged')
  t.equal(readlinkSync(`${dir}/r/lnk`), 'a.txt', 'lnk unchanged')
  t.same(readdirSync(`${dir}/outside`), [], 'nothing outside')
  t.equal(snapshot(`${dir}/r`), before, 'names, times, modes, marker: all as they were')
  t.same(ours(`${dir}/r`), [])
})

t.test('the planned check reasons on the tree as the stream will leave it', async (t) => {
  const dir = t.testdir({ outside: {} })
  const full = makeStream([
    { meta: { path: '.', type: 'directory' } },
    { meta: { path: 'a.txt', type: 'file' }, data: 'old a\n' },
    { meta: { path: 'sub', type: 'directory' } },
    { meta: { path: 'sub/f', type: 'file' }, data: 'f' },
  ])
  t.equal((await runBin('bt-restore', [`${dir}/r`], full)).code, 0)
  const before = snapshot(`${dir}/r`)
  // "sub" is a directory in the target; the stream makes it a symlink before writing below it.
  const diff = makeStream([
    { meta: { path: '.', type: 'directory' } },
    { meta: { path: 'a.txt', type: 'file' }, data: 'new a\n' },
    { meta: { path: 'sub', type: 'symlink', linkpath: `${dir}/outside` } },
    { meta: { path: 'sub/f', type: 'file' }, data: 'escaped\n' },
  ], diffInfo(INFO.id))
  const r = await runBin('bt-restore', [`${dir}/r`], diff)
  t.equal(r.code, 4, r.stderr)
  t.match(r.stderr, /refusing entry "sub\/f": it would be written through the symlink "sub"/)
  t.equal(snapshot(`${dir}/r`), before)
  t.same(readdirSync(`${dir}/outside`), [])
  // A full stream too: nothing of it is put in place.
  const r2 = await runBin('bt-restore', [`${dir}/r2`], makeStream([
    { meta: { path: 'a.txt', type: 'file' }, data: 'a' },
    { meta: { path: 'lnk', type: 'symlink', linkpath: `${dir}/outside` } },
    { meta: { path: 'lnk/x', type: 'file' }, data: 'x' },
  ]))
  t.equal(r2.code, 4, r2.stderr)
  t.same(readdirSync(`${dir}/r2`), [], 'a refused full leaves its target as it found it')
})

t.test('a differential killed in its commit phase is finished by a rerun', async (t) => {
  const dir = t.testdir({ src: { keep: 'k', change: 'c'.repeat(5000), gone: 'g', sub: { deep: 'x', old: 'o' } } })
  const S = `${dir}/state`
  t.equal(sh(`bt-scan.js "${dir}/src" | bt-delta.js --state "${S}" --full > "${dir}/full.bt" && bt-delta.js -q --state "${S}" --confirm > /dev/null`).code, 0)
  writeFileSync(`${dir}/src/change`, `${'c'.repeat(2500)}CHANGED${'c'.repeat(2500)}`)
  rmSync(`${dir}/src/gone`)
  rmSync(`${dir}/src/sub/old`)
  writeFileSync(`${dir}/src/new`, 'new')
  mkdirSync(`${dir}/src/newdir`)
  writeFileSync(`${dir}/src/newdir/n`, 'n')
  symlinkSync('keep', `${dir}/src/sub/ln`)
  t.equal(sh(`bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js --state "${S}" > "${dir}/diff.bt"`).code, 0)
  const diff = readFileSync(`${dir}/diff.bt`)
  const fullId = JSON.parse(sh(`bt-ls.js --json "${dir}/full.bt" | head -1`).stdout).id as string
  const diffId = JSON.parse(sh(`bt-ls.js --json "${dir}/diff.bt" | head -1`).stdout).id as string

  for (const after of [0, 3, 6]) {
    const r = `${dir}/r${after}`
    t.equal(sh(`bt-restore.js "${r}" < "${dir}/full.bt"`).code, 0)
    const k = await killInCommit([r], diff, after)
    t.ok(k.paused, `paused after ${after} commit steps: ${k.stderr}`)
    const marker = JSON.parse(readFileSync(`${r}/.backtory-restore.json`, 'utf8'))
    t.equal(marker.pending?.id, diffId, 'the marker names the differential being applied')

    // Another differential is refused, naming both.
    const other = makeStream([{ meta: { path: '.', type: 'directory' } }], diffInfo(fullId, 'e'.repeat(32)))
    const refused = await runBin('bt-restore', [r], other)
    t.equal(refused.code, 4, refused.stderr)
    t.match(refused.stderr, new RegExp(`${diffId}.*${'e'.repeat(32)}|${'e'.repeat(32)}.*${diffId}`))
    t.match(refused.stderr, /hint: .*run the same bt-restore again/)

    const again = await runBin('bt-restore', [r], diff)
    t.equal(again.code, 0, again.stderr)
    t.same(compareTrees(`${dir}/src`, r), [], `after ${after} steps: the rerun gives the day's tree exactly`)
    t.same(ours(r), [], 'no stage, no temporaries')
    t.same(JSON.parse(readFileSync(`${r}/.backtory-restore.json`, 'utf8')), { full: fullId, diff: diffId })
  }
})

t.test('a full restore killed with -9 leaves temporaries that a rerun removes', async (t) => {
  const dir = t.testdir({ src: { a: 'a', z: {} } })
  writeFileSync(`${dir}/src/big`, Buffer.alloc(8 << 20, 7))
  t.equal(sh(`bt-scan.js "${dir}/src" > "${dir}/full.bt"`).code, 0)
  const s = readFileSync(`${dir}/full.bt`)
  // Feed the stream up to the middle of the big file, keep stdin open, then kill.
  const child = spawn(process.execPath, [`${BIN}/bt-restore.js`, `${dir}/r`], { stdio: ['pipe', 'ignore', 'ignore'] })
  child.stdin.on('error', () => undefined) // killed while writing: expected
  child.stdin.write(s.subarray(0, s.indexOf(Buffer.alloc(4096, 7)) + (4 << 20)))
  const closed = new Promise((resolve) => child.on('close', resolve))
  for (let i = 0; i < 400 && (!existsSync(`${dir}/r`) || ours(`${dir}/r`).length === 0); i++) await new Promise((r) => setTimeout(r, 25))
  t.not(ours(`${dir}/r`).length, 0, 'a temporary exists while the big file is written')
  child.kill('SIGKILL')
  await closed
  const r = await runBin('bt-restore', [`${dir}/r`], s)
  t.equal(r.code, 0, r.stderr)
  t.same(ours(`${dir}/r`), [], 'the stale temporaries are gone')
  t.same(compareTrees(`${dir}/src`, `${dir}/r`), [], 'the tree equals the backup')
})

t.test('stale temporaries of a live process, or not of ours, are left alone', async (t) => {
  const dir = t.testdir({ r: { '.bt-stage-x': 'not ours', '.bt-restore-1-0': 'alive' } })
  const r = await runBin('bt-restore', [`${dir}/r`], makeStream([{ meta: { path: 'f', type: 'file' }, data: 'f' }]))
  t.equal(r.code, 0, r.stderr)
  t.ok(existsSync(`${dir}/r/.bt-stage-x`))
  t.ok(existsSync(`${dir}/r/.bt-restore-1-0`))
})

t.test('the stage of a live process is another restore at work: refused, and left alone', async (t) => {
  const dir = t.testdir({ r: { '.bt-stage-1': { x: 'init is alive' } } })
  const r = await runBin('bt-restore', [`${dir}/r`], makeStream([{ meta: { path: 'f', type: 'file' }, data: 'f' }]))
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, /another bt-restore \(process 1\) is restoring into/)
  t.ok(existsSync(`${dir}/r/.bt-stage-1/x`))
  t.notOk(existsSync(`${dir}/r/f`))
})

t.test('a deep tree into a longer target path: a clear error, not a crash', async (t) => {
  // The scanned root is short, so that its deepest path fits the system's limit; the target is longer.
  const base = mkdtempSync(`${tmpdir()}/bt-deep-`)
  t.teardown(() => { sh(`rm -rf "${base}"`) }) // rm, not rmSync: its recursion overflows the stack 2,000 levels down
  const mk = sh(`cd "${base}" && mkdir s && cd s && i=0 && while [ $i -lt 2000 ]; do mkdir d && cd d || exit 1; i=$((i+1)); done && echo bottom > f`)
  t.equal(mk.code, 0, mk.stderr)
  t.equal(sh(`bt-scan.js "${base}/s" > "${base}/deep.bt"`).code, 0, 'the scan fits')
  // Exactly at the system's limit for the deepest directory (the file below it is over), and well over.
  for (const pad of [4095 - 3999 - 2 - base.length, 120]) {
    const target = `${base}/${'t'.repeat(pad)}`
    const r = sh(`bt-restore.js "${target}" < "${base}/deep.bt"`)
    t.equal(r.code, 1, `pad ${pad}: ${r.stderr.slice(0, 300)}`)
    t.notMatch(r.stderr, /internal error|TypeError/)
    t.ok(/^bt-restore: error: cannot restore "d\/[df\/]+": its path in the target would be \d+ bytes long/m.test(r.stderr), 'names the entry')
    t.ok(/^bt-restore: hint: restore into a directory with a shorter path/m.test(r.stderr), 'says what to do')
    t.same(readdirSync(target), [], 'nothing was restored')
  }
  const ok = sh(`bt-restore.js "${base}/r" < "${base}/deep.bt" && cd "${base}/r" && cat ${'d/'.repeat(2000)}f`)
  t.equal(ok.code, 0, ok.stderr)
  t.equal(ok.stdout, 'bottom\n', 'a short enough target restores it all')
})

t.test('a hard link to a file the target holds but the stream never did is refused', async (t) => {
  const dir = t.testdir({ r: { existing: 'secret that was here before' } })
  const s = makeStream([
    { meta: { path: '.', type: 'directory' } },
    { meta: { path: 'a', type: 'file' }, data: 'a' },
    { meta: { path: 'victim', type: 'hardlink', linkpath: 'existing' } },
  ])
  const r = await runBin('bt-restore', [`${dir}/r`], s)
  t.equal(r.code, 4, r.stderr)
  t.match(r.stderr, /hard link "victim" points at "existing", which the stream did not hold before it/)
  t.notOk(existsSync(`${dir}/r/victim`))
  t.notOk(existsSync(`${dir}/r/a`), 'a refused full puts nothing in place')
  // A link to an earlier file of the stream is fine, and so is a symlink's or a directory's name: only files.
  const s2 = makeStream([
    { meta: { path: 'a', type: 'file' }, data: 'a' },
    { meta: { path: 'b', type: 'hardlink', linkpath: 'a' } },
    { meta: { path: 's', type: 'symlink', linkpath: 'a' } },
    { meta: { path: 'c', type: 'hardlink', linkpath: 's' } },
  ])
  const r2 = await runBin('bt-restore', [`${dir}/r2`], s2)
  t.equal(r2.code, 4, r2.stderr)
  t.match(r2.stderr, /hard link "c" points at "s"/)
  // An empty link target: refused as invalid input, whichever layer sees it first.
  const r3 = await runBin('bt-restore', [`${dir}/r3`], makeStream([{ meta: { path: 'e', type: 'hardlink', linkpath: '' } }]))
  t.equal(r3.code, 4, r3.stderr)
})
