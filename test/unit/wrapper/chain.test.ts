// Which backups a restore needs, and the times an admin types for --at: every
// form, the errors that must name what is wrong, and DST's missing and doubled hours.
import t from 'tap'
import { BtError } from '../../../src/errors.js'
import { type StoredBackup } from '../../../src/wrapper/catalog.js'
import { chainOf, selectChain } from '../../../src/wrapper/chain.js'
import { listRows, textLines } from '../../../src/wrapper/cmd-list.js'
import { localIso, parseTime } from '../../../src/wrapper/when.js'

const URL = 'file:///store'
let n = 0
function row(kind: string, iso: string, o: Partial<StoredBackup> = {}): StoredBackup {
  const id = o.id ?? `${kind === 'full' ? 'f' : 'd'}${String(++n).padStart(31, '0')}`
  const base = o.base ?? null
  return {
    name: `www_${iso.replace(/[-:]/g, '').replace('.000', '')}_${kind}_${id}${base ? `_${base}` : ''}`,
    set: 'www', kind, id, base, time: new Date(iso), size: kind === 'full' ? 1000 : 10, volumes: 1, complete: true, baseMissing: false, stored: 1, firstVolume: true, ...o,
  }
}

function week(): StoredBackup[] {
  const f1 = row('full', '2026-11-13T03:00:00Z', { id: 'aaaa1111'.padEnd(32, '0') })
  const d1 = row('diff', '2026-11-14T03:00:00Z', { base: f1.id })
  const d2 = row('diff', '2026-11-15T03:00:00Z', { base: f1.id })
  const f2 = row('full', '2026-11-20T03:00:00Z', { id: 'aaaa2222'.padEnd(32, '0') })
  const idx = row('index', '2026-11-20T03:00:00Z', { base: null })
  const d3 = row('diff', '2026-11-21T03:00:00Z', { base: f2.id })
  return [f1, d1, d2, f2, idx, d3]
}

const code = (fn: () => unknown) => {
  try {
    fn()
  } catch (err) {
    return err instanceof BtError ? err.code : String(err)
  }
  return 'no error'
}

t.test('--at picks the newest backup made at or before the time, with its full', async (t) => {
  const rows = week()
  const [f1, , d2, f2, , d3] = rows
  const at = (iso: string) => selectChain(rows, { at: new Date(iso) }, 'www', URL)
  t.same(at('2026-11-15T03:00:00Z').members.map((m) => m.name), [f1!.name, d2!.name], 'exactly at a backup\'s time')
  t.same(at('2026-11-19T23:00:00Z').members.map((m) => m.name), [f1!.name, d2!.name], 'between backups: the one before')
  t.same(at('2026-11-20T03:00:00Z').members.map((m) => m.name), [f2!.name], 'a full alone; the index beside it is not a backup')
  t.same(at('2027-01-01T00:00:00Z').members.map((m) => m.name), [f2!.name, d3!.name])
  t.equal(at('2026-11-15T03:00:00Z').bytes, 1010, 'a restore fetches the full and the differential')
  t.same(selectChain(rows, { latest: true }, 'www', URL).members.map((m) => m.name), [f2!.name, d3!.name])
})

t.test('--id takes a name, an id, or a unique prefix of 6 or more', async (t) => {
  const rows = week()
  const d1 = rows[1]!
  t.equal(selectChain(rows, { id: d1.name }, 'www', URL).target, d1)
  t.equal(selectChain(rows, { id: d1.id }, 'www', URL).target, d1)
  t.equal(selectChain(rows, { id: 'aaaa22' }, 'www', URL).target, rows[3])
  t.equal(code(() => selectChain(rows, { id: 'aaaa' }, 'www', URL)), 'BT_NO_BACKUP', 'too short a prefix')
  t.equal(selectChain(rows, { id: 'aaaa11' }, 'www', URL).target, rows[0])
  const twins = [row('full', '2026-12-01T00:00:00Z', { id: 'bbbbbb1'.padEnd(32, '0') }), row('full', '2026-12-02T00:00:00Z', { id: 'bbbbbb2'.padEnd(32, '0') })]
  t.throws(() => selectChain([...rows, ...twins], { id: 'bbbbbb' }, 'www', URL), { code: 'BT_AMBIGUOUS', message: /names 2 backups/ })
})

t.test('clear errors: too old, no backups, incomplete, a differential without its full', async (t) => {
  const rows = week()
  t.throws(() => selectChain(rows, { at: new Date('2026-11-01T00:00:00Z') }, 'www', URL),
    { code: 'BT_TOO_OLD', message: /no backup made at or before .*: the oldest is www_20261113T030000Z_full_/ })
  t.throws(() => selectChain(rows, { latest: true }, 'db', URL), { code: 'BT_NO_BACKUP', message: /set "db" has no backups stored at file:\/\/\/store/ })
  const f2 = rows[3]!
  const gone = rows.filter((r) => r !== f2)
  const err = (() => {
    try {
      selectChain(gone, { latest: true }, 'www', URL)
    } catch (e) {
      return e as BtError
    }
  })()!
  t.equal(err.code, 'BT_BASE_MISSING')
  t.match(err.message, new RegExp(`differential ${rows[5]!.name} .* cannot be restored: its full ${f2.id} is not stored whole`), 'names both')
  t.match(err.hints[0], new RegExp(`--id ${rows[2]!.id}`), 'and the newest backup before it that can be restored')
  const partial = [...rows.slice(0, 5), { ...rows[5]!, complete: false }]
  t.same(selectChain(partial, { latest: true }, 'www', URL).members.map((m) => m.kind), ['full'], 'an incomplete upload is not a backup: the one before it')
  t.equal(code(() => selectChain(partial, { id: rows[5]!.id }, 'www', URL)), 'BT_INCOMPLETE', 'asked for by id: refused, named')
  const broken = rows.map((r) => (r === f2 ? { ...r, complete: false } : r))
  t.same(chainOf(broken, rows[5]!), { kind: 'base-missing', base: f2.id }, 'a full with volumes missing is no base')
})

t.test('list: what each restore fetches, and what cannot be restored', async (t) => {
  const rows = week().filter((r) => r.kind !== 'full' || r.id.startsWith('aaaa2'))
  const listed = listRows(rows)
  t.same(listed.map((r) => [r.kind, r.fetch, r.problem]), [['diff', null, 'base-missing'], ['diff', null, 'base-missing'], ['full', 1000, null], ['diff', 1010, null]])
  const lines = textLines(listed)
  t.match(lines[0], /^TIME +KIND +SIZE +RESTORE +ID +BASE +STATUS$/)
  t.match(lines[1], /diff +10 B +- +d\d+ +aaaa1111 +BASE-MISSING$/)
  t.equal(new Set(lines.map((l) => l.indexOf('KIND') >= 0 ? l.indexOf('KIND') : l.search(/ (full|diff) /) + 1)).size, 1, 'aligned')
})

t.test('times: the forms an admin types', async (t) => {
  const saved = process.env.TZ
  t.teardown(() => {
    process.env.TZ = saved
  })
  process.env.TZ = 'Europe/Berlin'
  const now = new Date('2026-11-23T12:00:00Z')
  t.equal(parseTime('2026-11-20 03:00', now).toISOString(), '2026-11-20T02:00:00.000Z', 'local time, as typed (CET is UTC+1)')
  t.equal(parseTime('2026-11-20T03:00:15', now).toISOString(), '2026-11-20T02:00:15.000Z', 'ISO without a zone is local too')
  t.equal(parseTime('2026-07-20 03:00', now).toISOString(), '2026-07-20T01:00:00.000Z', 'summer time (CEST, UTC+2)')
  t.equal(parseTime('2026-11-20', now).toISOString(), '2026-11-20T22:59:59.000Z', 'a day: its end, local')
  t.equal(parseTime('2026-11-20T03:00:00Z', now).toISOString(), '2026-11-20T03:00:00.000Z')
  t.equal(parseTime('2026-11-20T03:00:00+05:30', now).toISOString(), '2026-11-19T21:30:00.000Z')
  t.equal(parseTime('2026-11-20T03:00:00-0200', now).toISOString(), '2026-11-20T05:00:00.000Z')
  t.equal(parseTime('3d', now).toISOString(), '2026-11-20T12:00:00.000Z')
  t.equal(parseTime('12h', now).toISOString(), '2026-11-23T00:00:00.000Z')
  t.equal(parseTime('2w ago', now).toISOString(), '2026-11-09T12:00:00.000Z')
  t.equal(localIso(new Date('2026-11-20T02:00:00Z')), '2026-11-20T03:00:00+01:00', 'shown as --at reads it back')
  t.equal(parseTime(localIso(new Date('2026-07-01T10:11:12Z')), now).toISOString(), '2026-07-01T10:11:12.000Z', 'a listed time round-trips')

  for (const bad of ['yesterday', '20.11.2026', '11/20/2026', '2026-13-01', '2026-02-30', '2026-11-20 25:00', '3', '']) {
    t.throws(() => parseTime(bad, now), { code: 'BT_USAGE', message: /cannot read the time/ }, JSON.stringify(bad))
  }
  const err = (() => {
    try {
      parseTime('tomorrow', now)
    } catch (e) {
      return e as BtError
    }
  })()!
  t.match(err.hints[0], /2026-11-20 03:00.*local.*ISO 8601.*3d/, 'the hint gives the forms')
  t.throws(() => parseTime('2026-03-29 02:30', now), { message: /does not exist here/ }, 'skipped by the spring change')
  t.throws(() => parseTime('2026-10-25 02:30', now), { message: /happened twice here.*2026-10-25T00:30:00.000Z or 2026-10-25T01:30:00.000Z/ },
    'passed twice in the autumn: both instants named')
})
