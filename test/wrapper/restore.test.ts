// backtory list, restore and verify on a week of backups made by the real
// filter pipeline into a file:// store: every day restored by --at equals that
// day's tree; --latest, --id, one file, a subset; a fresh machine with only the
// URL and keys; verify with public keys, and a flipped byte named; the errors
// for a time before the first backup and for a differential without its full.
import t from 'tap'
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync, fstatSync } from 'node:fs'
import { runBin, sh } from '../helpers.js'
import { compareTrees } from '../tree.js'
import { K, makeWeek, writeConfig, type Day } from './week.js'

const dir = t.testdir({})
const url = `file://${dir}/store`
const env = { BT_CONFIG_DIR: `${dir}/cfg`, BT_DATA_DIR: `${dir}/data`, TZ: 'Europe/Berlin' }
writeConfig(`${dir}/cfg`, `${dir}/src`, url)
let days: Day[] = []
const KEY = ['--key', `${K}/admin.key`]
const backtory = (args: string[], e: NodeJS.ProcessEnv = env) => runBin('backtory', args, undefined, e)

/** bt-restore takes --base (a differential's subset and -O): the single-file and subset restores from a differential need it. */
const hasDiffSubset = /--base\b/.test(sh('bt-restore.js --help').stdout)
const NEEDS_DIFF_SUBSET = hasDiffSubset ? false : 'needs bt-restore --base and PATTERN/-O on a differential (the subset restore from a differential)'

t.before(async () => {
  days = await makeWeek(dir, url)
})

/** A local wall-clock time in Europe/Berlin, as an admin there types it. */
function berlin(d: Date): string {
  const f = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Berlin', dateStyle: 'short', timeStyle: 'medium' })
  return f.format(d)
}

t.test('the week is fulls and differentials as planned', async (t) => {
  t.same(days.map((d) => d.kind), ['full', 'diff', 'diff', 'full', 'diff', 'diff'])
})

t.test('restore --at each day equals that day\'s tree', async (t) => {
  for (const [i, d] of days.entries()) {
    // Alternate the forms: ISO with zone, and the local time an admin types.
    const at = i % 2 === 0 ? d.time.toISOString() : berlin(d.time)
    const to = `${dir}/r-at-${i}`
    const r = await backtory(['restore', 'www', '--at', at, ...KEY, '--to', to])
    t.equal(r.code, 0, `day ${i} (--at ${at}): ${r.stderr}`)
    t.same(compareTrees(d.tree, to), [], `day ${i}: the restored tree is that day's`)
    t.match(r.stderr, new RegExp(`restored the tree into .* as of .*\\(set www: full [0-9a-f]{8}${d.kind === 'diff' ? ' \\+ diff' : '\\)'}`))
  }
  // Between two days: the earlier one.
  const mid = new Date(days[2]!.time.getTime() + 500)
  const r = await backtory(['restore', 'www', '--at', mid.toISOString(), ...KEY, '--to', `${dir}/r-mid`])
  t.equal(r.code, 0, r.stderr)
  t.same(compareTrees(days[2]!.tree, `${dir}/r-mid`), [])
})

t.test('--latest (the default) and --id', async (t) => {
  const last = days[days.length - 1]!
  let r = await backtory(['restore', 'www', ...KEY, '--to', `${dir}/r-latest`])
  t.equal(r.code, 0, r.stderr)
  t.same(compareTrees(last.tree, `${dir}/r-latest`), [])
  r = await backtory(['restore', 'www', '--latest', ...KEY, '--to', `${dir}/r-latest2`])
  t.equal(r.code, 0, r.stderr)
  t.same(compareTrees(last.tree, `${dir}/r-latest2`), [])
  const id = /_diff_([0-9a-f]+)_/.exec(days[1]!.name)![1]!
  r = await backtory(['restore', 'www', '--id', id.slice(0, 8), ...KEY, '--to', `${dir}/r-id`])
  t.equal(r.code, 0, r.stderr)
  t.same(compareTrees(days[1]!.tree, `${dir}/r-id`), [], 'an id prefix as list shows it')
  r = await backtory(['restore', 'www', '--id', days[3]!.name, ...KEY, '--to', `${dir}/r-name`])
  t.equal(r.code, 0, r.stderr)
  t.same(compareTrees(days[3]!.tree, `${dir}/r-name`), [], 'a full by its name')
  r = await backtory(['restore', 'www', '--id', id, '--latest', ...KEY, '--to', `${dir}/r-x`])
  t.equal(r.code, 2, 'two picks: a usage error')
  t.match(r.stderr, /--id and --latest exclude each other/)
})

t.test('one file to standard output, from a full', async (t) => {
  const r = await backtory(['restore', 'www', '--at', days[0]!.time.toISOString(), ...KEY, '--to', '-', 'etc/nginx/nginx.conf'])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.toString(), 'worker_processes 1;\n')
  t.equal(readdirSync(dir).filter((n) => n.startsWith('backtory-restore.')).length, 0)
  const two = await backtory(['restore', 'www', ...KEY, '--to', '-', 'a.txt', 'b.txt'])
  t.equal(two.code, 2)
  t.match(two.stderr, /--to - writes one file: give exactly one PATH/)
})

t.test('one file to standard output, from a differential', { skip: NEEDS_DIFF_SUBSET }, async (t) => {
  const tmp = `${dir}/tmp-o`
  mkdirSync(tmp)
  const e = { ...env, TMPDIR: tmp }
  for (const [i, want] of [[1, 'worker_processes 4;\n'], [4, 'worker_processes 16;\n']] as const) {
    const r = await backtory(['restore', 'www', '--at', days[i]!.time.toISOString(), ...KEY, '--to', '-', 'etc/nginx/nginx.conf'], e)
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout.toString(), want, `day ${i}'s version`)
  }
  const b = await backtory(['restore', 'www', ...KEY, '--to', '-', 'b-hardlink'], e)
  t.equal(b.code, 0, b.stderr)
  t.equal(b.stdout.toString(), 'bravo, edited through its name\n', 'a file changed in the differential')
  t.same(readdirSync(tmp), [], 'the private directory of the full\'s version is removed')
})

t.test('a subset from a full', async (t) => {
  const to = `${dir}/r-subset-full`
  const r = await backtory(['restore', 'www', '--at', days[3]!.time.toISOString(), ...KEY, '--to', to, 'etc', 'sub/c-renamed.txt'])
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(`${to}/etc/nginx/nginx.conf`, 'utf8'), 'worker_processes 8;\n')
  t.equal(readFileSync(`${to}/sub/c-renamed.txt`, 'utf8'), 'charlie\n')
  t.same(readdirSync(to).sort(), ['etc', 'sub'], 'only the paths asked for')
})

t.test('a subset from a full and a differential', { skip: NEEDS_DIFF_SUBSET }, async (t) => {
  const to = `${dir}/r-subset-diff`
  const r = await backtory(['restore', 'www', '--at', days[4]!.time.toISOString(), ...KEY, '--to', to, 'etc', 'a.txt'])
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(`${to}/etc/nginx/nginx.conf`, 'utf8'), 'worker_processes 16;\n')
  t.same(readdirSync(to).filter((n) => !n.startsWith('.backtory')).sort(), ['a.txt', 'etc'])
  t.same(compareTrees(`${days[4]!.tree}/etc`, `${to}/etc`), [], 'as of that day')
})

t.test('a fresh machine: only the store URL and the keys', async (t) => {
  const fresh = { BT_CONFIG_DIR: `${dir}/fresh-cfg`, BT_DATA_DIR: `${dir}/fresh-data`, HOME: `${dir}/fresh-home` }
  mkdirSync(fresh.BT_CONFIG_DIR)
  mkdirSync(fresh.BT_DATA_DIR)
  const store = ['--store', url, '--verify', `${K}/host.pub`]
  const d = days[4]!
  const r = await backtory(['restore', ...store, ...KEY, '--at', d.time.toISOString(), '--to', `${dir}/r-fresh`], fresh)
  t.equal(r.code, 0, r.stderr)
  t.same(compareTrees(d.tree, `${dir}/r-fresh`), [])
  const s = await backtory(['restore', ...store, '--set', 'www', ...KEY, '--to', `${dir}/r-fresh-set`], fresh)
  t.equal(s.code, 0, s.stderr)
  t.same(compareTrees(days[days.length - 1]!.tree, `${dir}/r-fresh-set`), [])
  const l = await backtory(['list', '--store', url, '--json'], fresh)
  t.equal(l.code, 0, l.stderr)
  t.equal(l.stdout.toString().trim().split('\n').length, days.length)
  t.same(readdirSync(fresh.BT_CONFIG_DIR), [], 'no config written')
  t.same(readdirSync(fresh.BT_DATA_DIR), [], 'no state written')
  const noKey = await backtory(['restore', ...store, '--to', `${dir}/r-nokey`], fresh)
  t.equal(noKey.code, 2)
  t.match(noKey.stderr, /missing --key KEY/)
  const noPub = await backtory(['restore', '--store', url, ...KEY, '--to', `${dir}/r-nopub`], fresh)
  t.equal(noPub.code, 2)
  t.match(noPub.stderr, /missing --verify HOST\.pub/)
  const noConf = await backtory(['restore', 'www', ...KEY, '--to', `${dir}/r-noconf`], fresh)
  t.equal(noConf.code, 2)
  t.match(noConf.stderr, /no config for set "www".*\n.*hint/)
})

t.test('list: one line per backup, what a restore fetches', async (t) => {
  const r = await backtory(['list', 'www'])
  t.equal(r.code, 0, r.stderr)
  const lines = r.stdout.toString().trim().split('\n')
  t.equal(lines.length, days.length + 1, 'a heading and a line per backup')
  t.match(lines[0], /^TIME +KIND +SIZE +RESTORE +ID +BASE +STATUS$/)
  t.match(lines[2], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+01:00 +diff +\S+ \S+ +\S+ \S+ +[0-9a-f]{8} +[0-9a-f]{8} +ok$/, 'local times as --at reads them')
  const j = await backtory(['list', 'www', '--json'])
  const rows = j.stdout.toString().trim().split('\n').map((l) => JSON.parse(l))
  t.same(rows.map((x) => x.name), days.map((d) => d.name))
  t.equal(rows[1].fetch, rows[0].size + rows[1].size, 'a differential\'s restore fetches its full too')
  t.equal(rows[3].fetch, rows[3].size)
})

t.test('--dry-run prints the pipelines; run by sh they make the same restore', async (t) => {
  const to = `${dir}/r-dry`
  const r = await backtory(['restore', 'www', '--at', days[2]!.time.toISOString(), ...KEY, '--to', to, '--dry-run'])
  t.equal(r.code, 0, r.stderr)
  const text = r.stdout.toString()
  t.match(text, /^bt-get \S+_full_\S+ \| bt-open --key \S+admin\.key --verify \S+host\.pub \| bt-restore \S+r-dry &&\nbt-get \S+_diff_\S+ \| bt-open .* \| bt-restore \S+r-dry\n$/)
  t.throws(() => readdirSync(to), 'nothing restored')
  const run = sh(text.replace(/\bbt-(get|open|restore)\b/g, 'bt-$1.js'))
  t.equal(run.code, 0, run.stderr)
  t.same(compareTrees(days[2]!.tree, to), [])
})

t.test('errors: before the first backup, a differential whose full is gone', async (t) => {
  const r = await backtory(['restore', 'www', '--at', '2020-01-01 00:00', ...KEY, '--to', `${dir}/r-old`])
  t.equal(r.code, 1)
  t.match(r.stderr, /backtory restore: error: set "www" has no backup made at or before 2020-01-01T00:00:00\+01:00: the oldest is www_\S+_full_\S+ \(full, /)
  t.throws(() => readdirSync(`${dir}/r-old`), 'nothing made')
  const bad = await backtory(['restore', 'www', '--at', 'last tuesday', ...KEY, '--to', `${dir}/r-bad`])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /cannot read the time "last tuesday".*\n.*hint: give one of: '2026-11-20 03:00'/)

  const copy = `${dir}/store-nofull`
  cpSync(`${dir}/store`, copy, { recursive: true })
  for (const n of readdirSync(copy)) if (n.startsWith(days[3]!.name)) rmSync(`${copy}/${n}`)
  const e = { ...env, BT_CONFIG_DIR: `${dir}/cfg-nofull` }
  writeConfig(e.BT_CONFIG_DIR, `${dir}/src`, `file://${copy}`)
  const g = await backtory(['restore', 'www', '--at', days[4]!.time.toISOString(), ...KEY, '--to', `${dir}/r-gone`], e)
  t.equal(g.code, 1)
  const fullId = /_full_([0-9a-f]+)/.exec(days[3]!.name)![1]!
  t.match(g.stderr, new RegExp(`error: differential ${days[4]!.name} \\(diff, [^)]+\\) cannot be restored: its full ${fullId} is not stored whole`))
  t.match(g.stderr, new RegExp(`hint: the newest backup before it that can be restored is ${days[2]!.name}.*--id`))
  t.throws(() => readdirSync(`${dir}/r-gone`), 'nothing made')
  const l = await backtory(['list', 'www'], e)
  t.equal(l.code, 0)
  t.match(l.stdout.toString(), /diff .* BASE-MISSING\n.*diff .* BASE-MISSING\n$/)
  t.match(l.stderr, /2 of 5 backups cannot be restored/)
})

t.test('verify: good backups pass with public keys only; a flipped byte fails, named', async (t) => {
  const good = await backtory(['verify', 'www', '--all'])
  t.equal(good.code, 0, good.stderr)
  t.equal(good.stdout.toString().trim().split('\n').filter((l) => /^verified \S+ .*signature good$/.test(l)).length, days.length)
  const latest = await backtory(['verify', 'www', '--restore-test', ...KEY])
  t.equal(latest.code, 0, latest.stderr)
  t.match(latest.stdout.toString(), /^verified \S+_full_.*\nverified \S+_diff_.*\nrestore test passed: \S+_diff_\S+ .* and its full restored into a temporary directory/)

  const copy = `${dir}/store-flipped`
  cpSync(`${dir}/store`, copy, { recursive: true })
  const victim = readdirSync(copy).find((n) => n.startsWith(days[1]!.name))!
  const fd = openSync(`${copy}/${victim}`, 'r+')
  const at = Math.floor(fstatSync(fd).size / 2)
  writeSync(fd, Buffer.from([readFileSync(`${copy}/${victim}`)[at]! ^ 0x01]), 0, 1, at)
  closeSync(fd)
  const e = { ...env, BT_CONFIG_DIR: `${dir}/cfg-flipped` }
  writeConfig(e.BT_CONFIG_DIR, `${dir}/src`, `file://${copy}`)
  const r = await backtory(['verify', 'www', '--all'], e)
  t.equal(r.code, 4, 'a damaged archive: exit 4')
  t.match(r.stderr, new RegExp(`backtory verify: error: 1 backup\\(s\\) of set www failed verification: ${days[1]!.name} \\(bt-get --verify exited 4\\)`))
  t.equal(r.stdout.toString().trim().split('\n').length, days.length - 1, 'the others verified')
  const fresh = await backtory(['verify', '--store', `file://${copy}`, '--verify', `${K}/host.pub`, '--all'], { ...e, BT_CONFIG_DIR: `${dir}/none` })
  t.equal(fresh.code, 4, 'the same from a machine without the config')
  const wrongKey = await backtory(['verify', 'www', '--verify', `${K}/other.pub`])
  t.not(wrongKey.code, 0, 'signed by another key: fails')
  t.match(wrongKey.stderr, /failed verification/)
})
