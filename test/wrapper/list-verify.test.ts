// backtory list and verify, a fresh machine's restore, and the errors, on
// days of backups made by the real filter pipeline into a file:// store: a
// restore with only the URL and keys; verify with public keys, a flipped byte
// named; a time before the first backup; a differential without its full.
import t from 'tap'
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync, fstatSync } from 'node:fs'
import { runBin } from '../helpers.js'
import { compareTrees } from '../tree.js'
import { K, makeWeek, writeConfig, type Day } from './week.js'

t.setTimeout(1_800_000) // a loaded machine runs its ~40 processes slowly

const dir = t.testdir({})
const url = `file://${dir}/store`
const env = { BT_CONFIG_DIR: `${dir}/cfg`, BT_DATA_DIR: `${dir}/data`, TZ: 'Europe/Berlin' }
writeConfig(`${dir}/cfg`, `${dir}/src`, url)
let days: Day[] = []
const KEY = ['--key', `${K}/admin.key`]
const backtory = (args: string[], e: NodeJS.ProcessEnv = env) => runBin('backtory', args, undefined, e)

t.before(async () => {
  days = await makeWeek(dir, url, '', 5)
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
  const s = await backtory(['restore', ...store, '--set', 'www', ...KEY, '--to', `${dir}/r-fresh-set`, '-n'], fresh)
  t.equal(s.code, 0, s.stderr)
  t.match(s.stdout.toString(), new RegExp(`/${days[days.length - 1]!.name} \\|`), '--set www: its newest')
  const other = await backtory(['restore', ...store, '--set', 'db', ...KEY, '--to', `${dir}/r-fresh-db`], fresh)
  t.equal(other.code, 1)
  t.match(other.stderr, /set "db" has no backups stored at file:/)
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
  t.match(l.stdout.toString(), / diff .* ok\n[^\n]* diff .* BASE-MISSING\n$/)
  t.match(l.stderr, /1 of 4 backups cannot be restored/)
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
