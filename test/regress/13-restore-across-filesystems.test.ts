// Issue 13 (bare-metal recovery): recover.sh mounts the rebuilt file systems
// under a target root and restores the machine's backup into it. bt-restore
// staged every object at the top of DIR and renamed it into place, which fails
// with EXDEV where another file system is mounted below DIR (a server's /srv
// or /var on its own partition, a btrfs subvolume, a ZFS dataset), and would
// have needed the top file system to hold everything. Real file systems: a
// btrfs image loop-mounted below the target, a subvolume inside it, and a
// zfs-fuse dataset mounted below the target too.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import {
  chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs'
import { BIN, killInCommit, runBin, sh } from '../helpers.js'
import { cmd, missing, scratch, zfsPool } from '../snap/fixtures.js'
import { compareTrees } from '../tree.js'
import { sys } from '../../src/sys/native.js'

const skipBtrfs = missing('btrfs', t)
const skipZfs = missing('zfs', t)

function ok(argv: string[]): void {
  const r = cmd(argv)
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: exit ${r.code}: ${r.stderr}`)
}

interface Target {
  dir: string
  /** Mount points and subvolume roots below the target, relative to it. */
  regions: string[]
}

const pools = new WeakMap<Test, string>()

/** `dir`, with a btrfs image mounted at srv, a subvolume srv/vol in it, and (with zfs-fuse) a dataset mounted at data. */
function mountedTarget(t: Test, scratchDir: string, name: string): Target {
  const dir = `${scratchDir}/${name}`
  mkdirSync(`${dir}/srv`, { recursive: true })
  ok(['truncate', '-s', '300M', `${scratchDir}/${name}-btrfs.img`])
  ok(['mkfs.btrfs', '-q', `${scratchDir}/${name}-btrfs.img`])
  ok(['mount', '-o', 'loop', `${scratchDir}/${name}-btrfs.img`, `${dir}/srv`])
  t.teardown(() => {
    for (let i = 0; i < 20 && cmd(['umount', `${dir}/srv`]).code !== 0; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250)
  })
  ok(['btrfs', 'subvolume', 'create', `${dir}/srv/vol`])
  const regions = ['srv', 'srv/vol']
  if (!skipZfs) {
    // One pool per test (its name is the process's), a dataset per target.
    let pool = pools.get(t)
    if (pool === undefined) {
      mkdirSync(`${scratchDir}/zfs`)
      pool = zfsPool(t, `${scratchDir}/zfs`).pool
      pools.set(t, pool)
    }
    ok(['zfs', 'create', '-o', `mountpoint=${dir}/data`, `${pool}/${name}`])
    regions.push('data')
  }
  for (const r of regions) t.not(lstatSync(`${dir}/${r}`).dev, lstatSync(`${dir}/${r.includes('/') ? 'srv' : '.'}`).dev, `${r} is a file system of its own`)
  return { dir, regions }
}

/** The day-1 tree: something in every region and at the top, with the kinds of objects a restore stages. */
function dayOne(src: string): void {
  const w = (rel: string, data: string | Buffer) => {
    mkdirSync(`${src}/${rel.slice(0, rel.lastIndexOf('/'))}`, { recursive: true })
    writeFileSync(`${src}/${rel}`, data)
  }
  w('top.txt', 'at the top\n')
  w('etc/hosts', '127.0.0.1 localhost\n')
  w('srv/www/index.html', '<p>hello</p>\n'.repeat(200))
  w('srv/www/app.js', 'x'.repeat(70_000))
  w('srv/db/pages.db', Buffer.alloc(600_000, 3))
  linkSync(`${src}/srv/www/index.html`, `${src}/srv/www/index-link.html`)
  symlinkSync('www/index.html', `${src}/srv/current`)
  sys().mkfifo(`${src}/srv/www/fifo`, 0o640)
  mkdirSync(`${src}/srv/empty`)
  chmodSync(`${src}/srv/db/pages.db`, 0o600)
  w('srv/vol/home/alice/notes', 'notes\n')
  w('srv/vol/home/alice/big', Buffer.alloc(200_000, 9))
  linkSync(`${src}/srv/vol/home/alice/notes`, `${src}/srv/vol/home/alice/notes-link`)
  w('data/pg/base', Buffer.alloc(300_000, 5))
  w('data/pg/conf', 'max_connections = 10\n')
  w('data/logs/app.log', 'line\n'.repeat(1000))
  sys().lutimens(`${src}/srv`, 1_600_000_000, 5, 1_600_000_000, 5)
  sys().lutimens(`${src}/data`, 1_600_000_001, 7, 1_600_000_001, 7)
}

/** The day-2 changes: deltas, copies, deletions and new files in every region. */
function dayTwo(src: string): void {
  const db = readFileSync(`${src}/srv/db/pages.db`)
  db.fill(4, 100_000, 108_192)
  writeFileSync(`${src}/srv/db/pages.db`, db)
  writeFileSync(`${src}/srv/www/app.js`, `${'x'.repeat(35_000)}CHANGED${'x'.repeat(35_000)}`)
  linkSync(`${src}/srv/www/app.js`, `${src}/srv/www/app-copy.js`) // a hard link in a differential
  rmSync(`${src}/srv/www/fifo`)
  writeFileSync(`${src}/srv/vol/home/alice/new`, 'new on day 2\n')
  rmSync(`${src}/srv/vol/home/alice/big`)
  writeFileSync(`${src}/data/logs/app.log`, 'line\n'.repeat(1100))
  rmSync(`${src}/data/pg/conf`)
  mkdirSync(`${src}/data/pg/wal`)
  writeFileSync(`${src}/data/pg/wal/0001`, Buffer.alloc(50_000, 1))
  writeFileSync(`${src}/top.txt`, 'at the top, day 2\n')
  sys().lutimens(`${src}/srv`, 1_600_000_100, 5, 1_600_000_100, 5)
  sys().lutimens(`${src}/data`, 1_600_000_101, 7, 1_600_000_101, 7)
}

/**
 * Every difference between the trees: zfs-fuse keeps whole seconds only, and
 * counts blocks its own way until it syncs, so times to the nanosecond and
 * allocated blocks are compared on the other file systems.
 */
function differences(a: string, b: string): ReturnType<typeof compareTrees> {
  if (skipZfs) return compareTrees(a, b)
  return [...compareTrees(a, b, { nsec: false, holes: false }), ...compareTrees(`${a}/srv`, `${b}/srv`).map((d) => ({ ...d, path: `srv/${d.path}` })),
    ...compareTrees(`${a}/etc`, `${b}/etc`).map((d) => ({ ...d, path: `etc/${d.path}` }))]
}

/** Every stage or temporary of bt-restore under `dir`, across every file system mounted there. */
function ours(dir: string, rel = ''): string[] {
  const out: string[] = []
  for (const name of readdirSync(rel ? `${dir}/${rel}` : dir)) {
    const p = rel ? `${rel}/${name}` : name
    if (/^\.bt-(stage|restore)-/.test(name) || name === '.backtory-restore.json.tmp') out.push(p)
    else if (lstatSync(`${dir}/${p}`).isDirectory()) out.push(...ours(dir, p))
  }
  return out
}

/** Empties a target but keeps its mount points and subvolume roots, as a rebuilt disk has them. */
function clear(tg: Target, rel = ''): void {
  for (const name of readdirSync(rel ? `${tg.dir}/${rel}` : tg.dir)) {
    const p = rel ? `${rel}/${name}` : name
    if (tg.regions.includes(p)) clear(tg, p)
    else rmSync(`${tg.dir}/${p}`, { recursive: true, force: true })
  }
}

interface Backups {
  src: string
  day1: string
  full: Buffer
  diff: Buffer
  fullId: string
  diffId: string
}

/** A full of day one and a differential of day two, made by the real bins; `day1` keeps a copy of day one's tree. */
function backups(t: Test, dir: string): Backups {
  const src = `${dir}/src`
  const S = `${dir}/state`
  mkdirSync(src)
  mkdirSync(S)
  dayOne(src)
  t.equal(sh(`bt-scan.js "${src}" | bt-delta.js --state "${S}" --full > "${dir}/full.bt" && bt-delta.js -q --state "${S}" --confirm > /dev/null`).code, 0)
  t.equal(sh(`cp -a "${src}" "${dir}/day1"`).code, 0)
  dayTwo(src)
  t.equal(sh(`bt-scan.js --state "${S}" "${src}" | bt-delta.js --state "${S}" > "${dir}/diff.bt"`).code, 0)
  const id = (f: string) => JSON.parse(sh(`bt-ls.js --json "${f}" | head -1`).stdout).id as string
  return {
    src, day1: `${dir}/day1`, full: readFileSync(`${dir}/full.bt`), diff: readFileSync(`${dir}/diff.bt`),
    fullId: id(`${dir}/full.bt`), diffId: id(`${dir}/diff.bt`),
  }
}

t.test('a full and a differential restore into a target with btrfs, a subvolume and a ZFS dataset mounted below it', { skip: skipBtrfs }, async (t) => {
  const dir = scratch(t, 'xdev')
  const b = backups(t, dir)
  const tg = mountedTarget(t, dir, 'target')
  const r1 = await runBin('bt-restore', [tg.dir], b.full)
  t.equal(r1.code, 0, r1.stderr)
  t.same(differences(b.day1, tg.dir), [], 'the full: the tree of day one exactly, across every file system')
  t.same(ours(tg.dir), [], 'no stage left on any file system')
  const r2 = await runBin('bt-restore', [tg.dir], b.diff)
  t.equal(r2.code, 0, r2.stderr)
  t.same(differences(b.src, tg.dir), [], 'the differential: the tree of day two exactly')
  t.same(ours(tg.dir), [])
  t.same(JSON.parse(readFileSync(`${tg.dir}/.backtory-restore.json`, 'utf8')), { full: b.fullId, diff: b.diffId })

  // One file of the day of the differential, built on a base tree that spans the same file systems.
  const o = await runBin('bt-restore', ['-O', 'srv/db/pages.db', '--base', tg.dir], b.diff)
  t.equal(o.code, 4, 'the base holds the differential already: refused') // the base must hold the full alone
  const base = mountedTarget(t, dir, 'base')
  t.equal((await runBin('bt-restore', [base.dir, 'srv/db', 'srv/vol/home'], b.full)).code, 0)
  const o2 = await runBin('bt-restore', ['-O', 'srv/db/pages.db', '--base', base.dir], b.diff)
  t.equal(o2.code, 0, o2.stderr)
  t.ok(o2.stdout.equals(readFileSync(`${b.src}/srv/db/pages.db`)), '-O --base: the day-two content, built on a base across a mount')

  // A subset, full then differential, into the same kind of target: only what the patterns select.
  const r3 = await runBin('bt-restore', [base.dir, 'srv/db', 'srv/vol/home'], b.diff)
  t.equal(r3.code, 0, r3.stderr)
  t.same(compareTrees(`${b.src}/srv/db`, `${base.dir}/srv/db`), [], 'subset: srv/db as of day two')
  t.same(compareTrees(`${b.src}/srv/vol/home`, `${base.dir}/srv/vol/home`), [], 'subset: srv/vol/home as of day two')
  t.notOk(existsSync(`${base.dir}/srv/www`), 'nothing unselected')
  t.same(ours(base.dir), [])
})

t.test('killed with -9 in the commit phase, anywhere: the rerun finishes, from each file system\'s stage', { skip: skipBtrfs }, async (t) => {
  const dir = scratch(t, 'xdev')
  const b = backups(t, dir)
  const tg = mountedTarget(t, dir, 'target')
  const entries = Number(sh(`bt-ls.js --json "${dir}/full.bt" | grep -c '"frame":"entry"'`).stdout.trim())
  t.ok(entries > 20, `${entries} entries`)
  for (const after of [1, Math.floor(entries / 2), entries - 1, entries]) {
    clear(tg)
    const k = await killInCommit([tg.dir], b.full, after)
    t.ok(k.paused, `full: killed before commit step ${after}: ${k.stderr}`)
    const marker = JSON.parse(readFileSync(`${tg.dir}/.backtory-restore.json`, 'utf8'))
    const name = marker.pending.stage as string
    t.same([...marker.pending.stages].sort(), tg.regions.map((r) => `${r}/${name}`).sort(), 'the marker records the stage of every file system')
    const again = await runBin('bt-restore', [tg.dir], b.full)
    t.equal(again.code, 0, again.stderr)
    t.same(differences(b.day1, tg.dir), [], `full killed before step ${after}: the rerun gives day one exactly`)
    t.same(ours(tg.dir), [], 'every stage is gone')
  }
  // The differential on top of the full, killed in its commit phase too.
  for (const after of [1, 6, 12]) {
    clear(tg)
    t.equal((await runBin('bt-restore', [tg.dir], b.full)).code, 0)
    const k = await killInCommit([tg.dir], b.diff, after)
    t.ok(k.paused, `differential: killed before commit step ${after}: ${k.stderr}`)
    const again = await runBin('bt-restore', [tg.dir], b.diff)
    t.equal(again.code, 0, again.stderr)
    t.same(differences(b.src, tg.dir), [], `differential killed before step ${after}: the rerun gives day two exactly`)
    t.same(ours(tg.dir), [])
    t.same(JSON.parse(readFileSync(`${tg.dir}/.backtory-restore.json`, 'utf8')), { full: b.fullId, diff: b.diffId })
  }
})

t.test('stages that killed runs left on other file systems are removed by the next run, and never scanned', { skip: skipBtrfs }, async (t) => {
  const dir = scratch(t, 'xdev')
  const b = backups(t, dir)
  const tg = mountedTarget(t, dir, 'target')
  // A run killed in its first phase, while it writes a big file in the subvolume: its stages are listed in its top stage.
  writeFileSync(`${dir}/big`, Buffer.alloc(8 << 20, 7))
  mkdirSync(`${dir}/bigsrc/srv/vol`, { recursive: true })
  writeFileSync(`${dir}/bigsrc/srv/a-file`, "a")
  writeFileSync(`${dir}/bigsrc/srv/vol/zbig`, readFileSync(`${dir}/big`))
  t.equal(sh(`bt-scan.js "${dir}/bigsrc" > "${dir}/big.bt"`).code, 0)
  const s = readFileSync(`${dir}/big.bt`)
  const child = spawn(process.execPath, [`${BIN}/bt-restore.js`, tg.dir], { stdio: ['pipe', 'ignore', 'ignore'] })
  child.stdin.on('error', () => undefined) // killed while writing: expected
  child.stdin.write(s.subarray(0, s.indexOf(Buffer.alloc(4096, 7)) + (4 << 20)))
  const closed = new Promise((resolve) => child.on('close', resolve))
  const inVol = () => ours(tg.dir).filter((p) => p.startsWith('srv/vol/.bt-stage-'))
  for (let i = 0; i < 400 && inVol().length === 0; i++) await new Promise((r) => setTimeout(r, 25))
  await new Promise((r) => setTimeout(r, 200))
  child.kill('SIGKILL')
  await closed
  t.same(ours(tg.dir).sort(), [`.bt-stage-${child.pid}`, `srv/.bt-stage-${child.pid}`, `srv/vol/.bt-stage-${child.pid}`],
    'the killed run left a stage on each file system it wrote into')
  // A stage that no list names (a dead run's, in a file system the next restore writes into), and a live process's.
  mkdirSync(`${tg.dir}/srv/.bt-stage-999999999/0`, { recursive: true })
  writeFileSync(`${tg.dir}/srv/.bt-stage-999999999/0/0`, 'staged')
  mkdirSync(`${tg.dir}/srv/vol/.bt-stage-1`)

  const scan = sh(`bt-scan.js "${tg.dir}" | bt-ls.js --json`)
  t.equal(scan.code, 0, scan.stderr)
  t.notMatch(scan.stdout, /bt-stage/, 'bt-scan skips the stages on every file system')

  const r = await runBin('bt-restore', [tg.dir], b.full)
  t.equal(r.code, 0, r.stderr)
  t.same(ours(tg.dir), ['srv/vol/.bt-stage-1'], 'the dead runs\' stages are gone; a live process\'s stays')
  rmSync(`${tg.dir}/srv/vol/.bt-stage-1`, { recursive: true })
  t.same(differences(b.day1, tg.dir).filter((d) => d.path !== 'srv/vol'), [], 'the full restored over what the killed run left')
})

t.test('a refused restore removes the stages it made on other file systems and puts their times back', { skip: skipBtrfs }, async (t) => {
  const dir = scratch(t, 'xdev')
  const b = backups(t, dir)
  const tg = mountedTarget(t, dir, 'target')
  const times = () => tg.regions.map((r) => `${r} ${lstatSync(`${tg.dir}/${r}`, { bigint: true }).mtimeNs}`)
  const before = times()
  const cut = b.full.subarray(0, b.full.length - 2048) // truncated: refused at its end, after every object was staged
  const r = await runBin('bt-restore', [tg.dir], cut)
  t.equal(r.code, 4, r.stderr)
  t.same(ours(tg.dir), [], 'no stage left')
  t.same(times(), before, 'the mount points\' times are as they were')
  t.same(readdirSync(`${tg.dir}/srv`).sort(), ['vol'])
})

t.test('on one file system the stage is as it always was: one at the top, no list', async (t) => {
  const dir = t.testdir({ src: { a: 'a', sub: { b: 'b' } } })
  t.equal(sh(`bt-scan.js "${dir}/src" > "${dir}/full.bt"`).code, 0)
  const k = await killInCommit([`${dir}/r`], readFileSync(`${dir}/full.bt`), 1)
  t.ok(k.paused)
  const marker = JSON.parse(readFileSync(`${dir}/r/.backtory-restore.json`, 'utf8'))
  t.same(Object.keys(marker.pending).sort(), ['id', 'kind', 'stage'])
  t.same(readdirSync(`${dir}/r/${marker.pending.stage}`).sort(), ['0', 'journal'])
  t.same(readFileSync(`${dir}/r/${marker.pending.stage}/journal`, 'utf8').split('\n').filter((l) => l.includes('"place"')),
    ['{"op":"place","path":"a","stage":"0/0","force":false}', '{"op":"place","path":"sub/b","stage":"0/1","force":false}'])
  // A user's file with a stage's name, below the top of a file system, is no stage: a full leaves it alone.
  mkdirSync(`${dir}/r/sub`, { recursive: true })
  writeFileSync(`${dir}/r/sub/.bt-stage-999999999`, "mine")
  for (const run of ['finishes the killed one', 'plans afresh']) {
    const r = await runBin('bt-restore', [`${dir}/r`], readFileSync(`${dir}/full.bt`))
    t.equal(r.code, 0, `the run that ${run}: ${r.stderr}`)
  }
  t.equal(readFileSync(`${dir}/r/sub/.bt-stage-999999999`, 'utf8'), 'mine')
  t.same(readdirSync(`${dir}/r`).filter((n) => n.startsWith('.bt-')), [])
})

t.test('a file system mounted between a kill and the rerun: the error says what happened and what to do', { skip: skipBtrfs }, async (t) => {
  const dir = scratch(t, 'xdev')
  const b = backups(t, dir)
  const target = `${dir}/target`
  mkdirSync(`${target}/etc`, { recursive: true })
  t.ok((await killInCommit([target], b.full, 1)).paused)
  ok(['mount', '-t', 'tmpfs', '-o', 'size=16m', 'bt-test', `${target}/etc`]) // its objects were staged on the top file system
  t.teardown(() => void cmd(['umount', `${target}/etc`]))
  const r = await runBin('bt-restore', [target], b.full)
  t.equal(r.code, 1, r.stderr)
  t.match(r.stderr, /cannot put "etc\/hosts" in place: .*\(EXDEV\)/)
  t.match(r.stderr, /hint: a file system below ".*" was mounted or unmounted after this restore was staged: mount it as it was and run the same bt-restore again, or remove ".*\.backtory-restore\.json" and restore the full again/)
  rmSync(`${target}/.backtory-restore.json`)
  const again = await runBin('bt-restore', [target], b.full)
  t.equal(again.code, 0, again.stderr)
  t.same(compareTrees(`${b.day1}/etc`, `${target}/etc`, { rootMeta: false }), [], 'planned afresh: etc is restored onto the new file system')
  t.same(ours(target), [])
})

t.test('a file system mounted at a name that is not UTF-8 gets its stage too', { skip: skipBtrfs }, async (t) => {
  const dir = scratch(t, 'xdev')
  const name = Buffer.from('caf\xe9', 'latin1') // the octets c a f 0xe9: not UTF-8
  const at = (root: string, ...rest: string[]) => Buffer.concat([Buffer.from(`${dir}/${root}/`), name, ...rest.map((r) => Buffer.from(r))])
  mkdirSync(at('src'), { recursive: true })
  writeFileSync(at('src', '/f'), 'content\n')
  linkSync(at('src', '/f'), at('src', '/g'))
  mkdirSync(at('target'), { recursive: true })
  const mountPoint = `"${dir}/target/$(printf 'caf\\351')"` // an argument holds the octet only through the shell
  t.equal(sh(`mount -t tmpfs -o size=16m bt-test ${mountPoint}`).code, 0)
  t.teardown(() => void sh(`umount ${mountPoint}`))
  t.not(lstatSync(at('target')).dev, lstatSync(`${dir}/target`).dev, 'a file system of its own')
  t.equal(sh(`bt-scan.js "${dir}/src" > "${dir}/s.bt"`).code, 0)
  const r = await runBin('bt-restore', [`${dir}/target`], readFileSync(`${dir}/s.bt`))
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(at('target', '/f'), 'utf8'), 'content\n')
  t.equal(lstatSync(at('target', '/g')).ino, lstatSync(at('target', '/f')).ino, 'the hard link, made in that file system\'s stage')
  t.same(readdirSync(at('target'), { encoding: 'buffer' }).map((b) => b.toString('latin1')).sort(), ['f', 'g'], 'no stage left')
})
