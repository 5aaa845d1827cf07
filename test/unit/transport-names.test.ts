// Object names, URLs and .netrc: the parsers the remote tools rely on.
import t from 'tap'
import { netrcFor, parseNetrc } from '../../src/transport/credentials.js'
import { backupName, catalog, compactTime, volumeName } from '../../src/transport/names.js'
import { parseTarget, splitObjectUrl } from '../../src/transport/url.js'

t.test('names parse back to their fields, whatever the set', async (t) => {
  for (const set of ['www', 'db_main', 'a.b-c_d', 'x_20260101T000000Z_full_deadbeef']) {
    const b = { set, time: '20261126T183211Z', kind: 'diff', id: 'aa11', base: 'bb22' }
    const c = catalog([{ name: volumeName(backupName(b), 1, 1), size: 5 }])
    t.equal(c.backups.length, 1)
    t.match(c.backups[0], { ...b, complete: true, size: 5 }, `set ${set}`)
  }
  t.equal(compactTime('2026-11-26T18:32:11.123Z'), '20261126T183211Z')
  t.equal(compactTime('2026-11-26 18:32'), undefined)
})

t.test('a backup is complete only with all its volumes, consistent', async (t) => {
  const n = 'www_20261126T183211Z_full_aa'
  const c = catalog([
    { name: `${n}.0001-of-0003.sealed`, size: 1 }, { name: `${n}.0003-of-0003.sealed`, size: 1 },
    { name: '.bt-tmp.0123456789ab.0001', size: 9 }, { name: 'README', size: 3 },
    { name: 'y_20261126T183211Z_full_bb.0001-of-0002.sealed', size: 1 }, { name: 'y_20261126T183211Z_full_bb.0002-of-0003.sealed', size: 1 },
  ])
  t.same(c.backups.map((b) => [b.name, b.complete]), [[n, false], ['y_20261126T183211Z_full_bb', false]])
  t.same(c.temporaries.map((o) => o.name), ['.bt-tmp.0123456789ab.0001'])
  t.same(c.others.map((o) => o.name), ['README'])
})

t.test('URLs', async (t) => {
  t.match(parseTarget('ftps://u1234@backup.example.net:2121/srv/'), { scheme: 'ftps', host: 'backup.example.net', port: 2121, user: 'u1234', path: '/srv/' })
  t.match(parseTarget('sftp://me@[::1]/~/b'), { scheme: 'sftp', host: '::1', path: '/~/b' })
  t.match(parseTarget('file:///var/backups'), { scheme: 'file', path: '/var/backups' })
  t.match(parseTarget('relative/dir'), { scheme: 'file' })
  t.match(parseTarget('ftp://u%40x@h/a%20b'), { user: 'u@x', path: '/a b' })
  t.throws(() => parseTarget('ftp://u:p@h/'), { code: 'BT_USAGE' })
  t.throws(() => parseTarget('http://h/'), { code: 'BT_USAGE' })
  t.throws(() => parseTarget('file://otherhost/x'), { code: 'BT_USAGE' })
  t.same(splitObjectUrl('ftp://u@h/srv/latest'), { dir: 'ftp://u@h/srv/', name: 'latest' })
  t.same(splitObjectUrl('/var/b/name/'), { dir: '/var/b/', name: 'name' })
  t.throws(() => splitObjectUrl('ftp://u@h/'), { code: 'BT_USAGE' })
})

t.test('.netrc', async (t) => {
  const e = parseNetrc(`# mine
machine backup.example.net login u1234 password "s3 cr\\"et"
macdef init
  cd /srv
  ls

machine other login x password y
default login anon password guest
`)
  t.same(netrcFor(e, 'backup.example.net', ''), { machine: 'backup.example.net', login: 'u1234', password: 's3 cr"et' })
  t.same(netrcFor(e, 'backup.example.net', 'u1234')?.password, 's3 cr"et')
  t.same(netrcFor(e, 'other', 'x')?.password, 'y')
  t.same(netrcFor(e, 'unknown', '')?.login, 'anon', 'default matches any host')
  t.equal(netrcFor(e, 'other', 'someone-else'), undefined, 'no entry for another user')
})
