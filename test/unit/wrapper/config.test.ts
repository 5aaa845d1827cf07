// backtory.conf(5): what a good file parses to, and that every mistake an
// admin can make names the file and line instead of backing up something else.
import t from 'tap'
import { BtError } from '../../../src/errors.js'
import { configPath, parseConfig } from '../../../src/wrapper/config.js'
import { parseDuration, parseShare } from '../../../src/wrapper/values.js'

const where = { env: { BT_DATA_DIR: '/d', BT_CONFIG_DIR: '/c' }, uid: 0 }
const GOOD = `# the web server
source = zfs:tank/srv
recursive = yes
exclude = *.tmp
exclude = /var/cache
pre = pg_dump -Fc db > /srv/db.dump
capture = packages = dpkg -l
finally = logger "backup $BT_STATUS"
store = ftps://backup@host.example/srv/
store-password-file = ftp.pass
store-fingerprint = sha256:00
recipient = admin.pub
sign-key = /etc/backtory/host.key
full-every = 7d
full-share = 50%
keep-daily = 7
keep-within = 30d
`

t.test('a good file', async (t) => {
  const c = parseConfig(GOOD, '/etc/backtory/www.conf', where)
  t.equal(c.name, 'www')
  t.same(c.source, { kind: 'zfs', dataset: 'tank/srv', recursive: true })
  t.same(c.excludes, ['*.tmp', '/var/cache'])
  t.same(c.actions.map((a) => [a.kind, a.name, a.command]), [
    ['pre', undefined, 'pg_dump -Fc db > /srv/db.dump'],
    ['finally', undefined, 'logger "backup $BT_STATUS"'],
    ['capture', 'packages', 'dpkg -l'],
  ])
  t.equal(c.store.passwordFile, '/etc/backtory/ftp.pass', 'relative to the config file')
  t.same(c.recipients, ['/etc/backtory/admin.pub'])
  t.equal(c.verifyKey, '/etc/backtory/host.pub')
  t.equal(c.state, '/d/www/state')
  t.same(c.full, { everySeconds: 7 * 86400, afterDiffs: undefined, diffShare: 0.5 })
  t.equal(c.keep.daily, 7)
  t.equal(c.keep.withinSeconds, 30 * 86400)
})

t.test('every mistake names file and line', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [GOOD + 'keep-dialy = 3\n', /www\.conf:18: unknown key "keep-dialy"/],
    [GOOD + 'hook-timeout = 7 days\n', /www\.conf:18: hook-timeout = 7 days: give a duration/],
    [GOOD + 'store = file:///x/\n', /www\.conf:18: store is given twice \(first on line 9\)/],
    [GOOD + 'this is not a setting\n', /www\.conf:18: "this is not a setting" is not "key = value"/],
    [GOOD.replace('recipient = admin.pub\n', ''), /www\.conf: no recipient/],
    [GOOD.replace('store = ftps://backup@host.example/srv/', 'store = ftps://backup:secret@host.example/srv/'), /store holds a password/],
    [GOOD.replace('source = zfs:tank/srv', 'source = srv'), /www\.conf:2: source = srv: give an absolute directory/],
    [GOOD.replace('recursive = yes', 'recursive = true'), /recursive = true: say yes or no/],
  ]
  for (const [text, re] of cases) {
    const err = t.throws(() => parseConfig(text, '/etc/backtory/www.conf', where)) as unknown
    t.ok(err instanceof BtError && err.code === 'BT_CONFIG', 'a BT_CONFIG error')
    t.match((err as Error).message, re)
  }
})

t.test('a SET is a name in the config directory or a path', async (t) => {
  t.equal(configPath('www', where), '/c/www.conf')
  t.equal(configPath('./x.conf', where), `${process.cwd()}/x.conf`)
  t.throws(() => configPath('bad name', where), /not a set name/)
})

t.test('values', async (t) => {
  t.equal(parseDuration('90'), 90)
  t.equal(parseDuration('2w'), 14 * 86400)
  t.equal(parseDuration('-1d'), undefined)
  t.equal(parseShare('150%'), 1.5)
  t.equal(parseShare('0%'), undefined)
})

t.test('values the filters would refuse are refused here, by line', async (t) => {
  const base = 'source = /srv\nstore = file:///b/\nrecipient = a.pub\nsign-key = h.key\n'
  const err = (text: string) => {
    try {
      parseConfig(text, '/c/x.conf', where)
    } catch (e) {
      return (e as BtError).message
    }
    return 'parsed'
  }
  t.equal(err(`${base}compress = lz4\n`), '/c/x.conf:5: compress = lz4: say zstd, gzip or none')
  t.equal(err(`${base}volume-size = big\n`), '/c/x.conf:5: volume-size = big: give a size such as 1G or 512M')
  t.equal(err(`${base.replace('/srv', 'lvm:vg/lv')}`), '/c/x.conf: snapshot-size is missing')
  t.equal(parseConfig(`${base}metrics = prom\ncompress = none\nvolume-size = 512M\n`, '/c/x.conf', where).metrics, '/c/prom')
})
