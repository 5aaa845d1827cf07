// backtory restore on a week of backups made by the real filter pipeline
// into a file:// store: every day restored by --at equals that day's tree;
// --latest, --id, one file to standard output, a subset, --dry-run.
// (list-verify.test.ts: a fresh machine, list, verify and the errors.)
import t from 'tap'
import { mkdirSync, readFileSync, readdirSync } from 'node:fs'
import { runBin, sh } from '../helpers.js'
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
  const r = await backtory(['restore', 'www', '--at', mid.toISOString(), ...KEY, '--to', `${dir}/r-mid`, '-n'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout.toString(), new RegExp(`/${days[2]!.name} \\|`), 'the earlier day')
})

t.test('--latest (the default) and --id', async (t) => {
  const last = days[days.length - 1]!
  let r = await backtory(['restore', 'www', '--latest', ...KEY, '--to', `${dir}/r-latest`])
  t.equal(r.code, 0, r.stderr)
  t.same(compareTrees(last.tree, `${dir}/r-latest`), [])
  r = await backtory(['restore', 'www', ...KEY, '--to', `${dir}/r-default`, '-n'])
  t.match(r.stdout.toString(), new RegExp(`/${last.name} \\|`), 'the default is the newest')
  const id = /_diff_([0-9a-f]+)_/.exec(days[1]!.name)![1]!
  r = await backtory(['restore', 'www', '--id', id.slice(0, 8), ...KEY, '--to', `${dir}/r-id`])
  t.equal(r.code, 0, r.stderr)
  t.same(compareTrees(days[1]!.tree, `${dir}/r-id`), [], 'an id prefix as list shows it')
  r = await backtory(['restore', 'www', '--id', days[3]!.name, ...KEY, '--to', `${dir}/r-name`, '-n'])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout.toString(), new RegExp(`^bt-get \\S+/${days[3]!.name} \\| [^\\n]+\\n$`), 'a full by its name: itself alone')
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

t.test('one file to standard output, from a differential', async (t) => {
  const tmp = `${dir}/tmp-o`
  mkdirSync(tmp)
  const e = { ...env, TMPDIR: tmp }
  for (const [i, want] of [[1, 'worker_processes 4;\n'], [4, 'worker_processes 16;\n']] as const) {
    const r = await backtory(['restore', 'www', '--at', days[i]!.time.toISOString(), ...KEY, '--to', '-', 'etc/nginx/nginx.conf'], e)
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout.toString(), want, `day ${i}'s version`)
  }
  for (const [path, want, what] of [['late/file', 'day 5\n', 'a file new in the differential'],
    ['sub/c-renamed.txt', 'charlie\n', 'a file the differential leaves unchanged: the full\'s version']] as const) {
    const r = await backtory(['restore', 'www', ...KEY, '--to', '-', path], e)
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout.toString(), want, what)
  }
  t.same(readdirSync(tmp), [], 'the private directory of the full\'s version is removed')
})

t.test('a subset from a full', async (t) => {
  const to = `${dir}/r-subset-full`
  const r = await backtory(['restore', 'www', '--at', days[3]!.time.toISOString(), ...KEY, '--to', to, 'etc', 'sub/c-renamed.txt'])
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(`${to}/etc/nginx/nginx.conf`, 'utf8'), 'worker_processes 8;\n')
  t.equal(readFileSync(`${to}/sub/c-renamed.txt`, 'utf8'), 'charlie\n')
  // bt-restore's marker records the subset the directory holds.
  t.same(readdirSync(to).filter((n) => n !== '.backtory-restore.json').sort(), ['etc', 'sub'], 'only the paths asked for')
})

t.test('a subset from a full and a differential', async (t) => {
  const to = `${dir}/r-subset-diff`
  const r = await backtory(['restore', 'www', '--at', days[4]!.time.toISOString(), ...KEY, '--to', to, 'etc', 'a.txt'])
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(`${to}/etc/nginx/nginx.conf`, 'utf8'), 'worker_processes 16;\n')
  t.same(readdirSync(to).filter((n) => !n.startsWith('.backtory')).sort(), ['a.txt', 'etc'])
  t.same(compareTrees(`${days[4]!.tree}/etc`, `${to}/etc`), [], 'as of that day')
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

t.test('--to - from a differential: the full\'s version into a private directory, removed whatever happens', async (t) => {
  const dry = await backtory(['restore', 'www', '--at', days[1]!.time.toISOString(), ...KEY, '--to', '-', 'etc/nginx/nginx.conf', '-n'])
  t.equal(dry.code, 0, dry.stderr)
  t.match(dry.stdout.toString(), new RegExp('^T=\\$\\(mktemp -d\\) &&\\n' +
    'bt-get \\S+_full_\\S+ \\| bt-open .* \\| bt-restore --no-same-owner "\\$T" etc/nginx/nginx.conf &&\\n' +
    'bt-get \\S+_diff_\\S+ \\| bt-open .* \\| bt-restore -O etc/nginx/nginx.conf --base "\\$T"\\nrm -rf "\\$T"\\n$'))
  const tmp = `${dir}/tmp-fail`
  mkdirSync(tmp)
  const r = await backtory(['restore', 'www', '--at', days[1]!.time.toISOString(), ...KEY, '--to', '-', 'no/such/file'], { ...env, TMPDIR: tmp })
  t.not(r.code, 0, 'no such file')
  t.match(r.stderr, new RegExp(`backtory restore: error: restoring ${days[1]!.name} failed: bt-restore exited`))
  t.equal(r.stdout.length, 0, 'nothing on standard output')
  t.same(readdirSync(tmp), [], 'the private directory is gone')
})
