// Issue 11: backtory init makes a set that backs up at once, refuses to
// overwrite, and writes nothing when the store fails its check; backtory cron
// prints a line that, run as cron would, backs the set up in silence.
import t from 'tap'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { sh } from '../helpers.js'
import { backtory, listing, sandbox } from './setup.js'

t.test('init: config, keys, state and a checked store; then backup and cron work from it', async (t) => {
  const s = sandbox(t.testdir({}))
  mkdirSync(`${s.T}/src`)
  writeFileSync(`${s.T}/src/a`, 'a\n')
  const store = `file://${s.T}/store/`
  const r = await backtory(s, ['init', 'www', '--source', `${s.T}/src`, '--store', store, '--admin-key', `${s.T}/admin2`, '--exclude', '*.tmp'])
  t.equal(r.code, 0, r.stderr)
  const out = r.stdout.toString()
  t.match(out, /checked the store .*: reachable, writable, 0 backups/)
  t.match(out, /WARNING: move \S+admin2\.key off this host now/)
  t.match(out, /next: backtory backup --dry-run www/)
  const conf = readFileSync(`${s.cfg}/www.conf`, 'utf8')
  t.match(conf, `recipient = ${s.T}/admin2.pub`)
  t.match(conf, `sign-key = ${s.cfg}/host.key`)
  t.match(conf, 'exclude = *.tmp')
  t.ok(existsSync(`${s.cfg}/host.key`) && existsSync(`${s.data}/www/state`), 'host key and state directory')
  const again = await backtory(s, ['init', 'www', '--source', `${s.T}/src`, '--store', store, '--recipient', s.keys.adminPub])
  t.equal(again.code, 1)
  t.match(again.stderr, /the set's config \S+www\.conf exists already/)
  t.equal(readFileSync(`${s.cfg}/www.conf`, 'utf8'), conf, 'untouched')

  const cron = await backtory(s, ['cron', 'www'])
  t.equal(cron.code, 0, cron.stderr)
  const line = /^(\d+) (\d+) \* \* \* (.*)$/m.exec(cron.stdout.toString())
  t.ok(line, 'a crontab line')
  t.match(cron.stdout.toString(), /\[Timer\]\nOnCalendar=\*-\*-\* 03:17:00/)
  t.match(cron.stdout.toString(), /ExecStart=\S+node \S+backtory\.js backup -q www/)
  // As cron runs it: sh, a bare PATH, the line's own environment.
  const job = sh(line![3]!, { PATH: '/usr/bin:/bin', BT_CONFIG_DIR: '', BT_DATA_DIR: '' })
  t.equal(job.code, 0, job.stderr)
  t.equal(job.stdout + job.stderr, '', 'silent on success')
  t.equal(listing(store).length, 1, 'and the backup is stored')
})

t.test('init writes nothing when the store fails its check, and says why', async (t) => {
  const s = sandbox(t.testdir({}))
  writeFileSync(`${s.T}/afile`, '')
  const r = await backtory(s, ['init', 'www', '--source', s.T, '--store', `file://${s.T}/afile/x/`, '--recipient', s.keys.adminPub])
  t.equal(r.code, 1)
  t.match(r.stderr, /backtory init: error: .*afile/)
  t.notOk(existsSync(`${s.cfg}/www.conf`))
  const bad = await backtory(s, ['init', 'www', '--source', 'relative/ok', '--store', 'gopher://x/', '--recipient', s.keys.adminPub])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /www\.conf:\d+: store = gopher:\/\/x\/: not a URL the transports know/)
  const none = await backtory(s, ['init', 'www', '--source', s.T, '--store', `file://${s.T}/st/`])
  t.equal(none.code, 2)
  t.match(none.stderr, /no key to encrypt to/)
})
