// Keep rules (issue 11, prune): restic forget's decisions for backups that come
// as a full plus differentials against it. Each case builds a store's listing
// and checks which backups stay, and that each says why.
import t, { type Test } from 'tap'
import { decide, hasKeepRules, isoWeek, type KeepInput } from '../../../src/wrapper/keep.js'
import { type KeepRules } from '../../../src/wrapper/set.js'

let n = 0
/** A backup at `iso`; a differential names its full's id as base. */
function b(iso: string, kind: 'full' | 'diff', base?: string, complete = true): KeepInput {
  const id = `id${++n}`
  return { name: `s_${iso.replace(/[-:]/g, '')}_${kind}_${id}${base ? `_${base}` : ''}`, kind, id, base: base ?? null, time: new Date(iso), complete }
}

/** A nightly backup at 03:00 UTC from `start` for `days` days, a full every `every` days (the first is a full). */
function nightly(start: string, days: number, every: number): KeepInput[] {
  const out: KeepInput[] = []
  let full: KeepInput | undefined
  for (let i = 0; i < days; i++) {
    const iso = new Date(Date.parse(`${start}T03:00:00Z`) + i * 86400_000).toISOString().replace(/\.000Z$/, 'Z')
    const x = i % every === 0 ? b(iso, 'full') : b(iso, 'diff', full!.id)
    if (x.kind === 'full') full = x
    out.push(x)
  }
  return out
}

const kept = (backups: KeepInput[], rules: KeepRules) => decide(backups, rules).filter((d) => d.keep).map((d) => d.backup.time.toISOString().slice(0, 10))

/** No decision keeps a differential whose full goes. */
function noOrphans(t: Test, backups: KeepInput[], rules: KeepRules): void {
  const ds = decide(backups, rules)
  const keptIds = new Set(ds.filter((d) => d.keep).map((d) => d.backup.id))
  for (const d of ds) if (d.keep && d.backup.kind === 'diff') t.ok(keptIds.has(d.backup.base!), `${d.backup.name} keeps its full`)
  for (const d of ds) t.ok(d.reasons.length > 0, `${d.backup.name} says why`)
}

t.test('isoWeek: Monday starts the week; week 1 holds the first Thursday', async (t) => {
  t.equal(isoWeek(new Date('2026-12-07T03:00:00Z')), '2026-W50', 'a Monday')
  t.equal(isoWeek(new Date('2026-12-06T23:59:59Z')), '2026-W49', 'the Sunday before')
  t.equal(isoWeek(new Date('2021-01-03T00:00:00Z')), '2020-W53', 'early January can belong to last year')
  t.equal(isoWeek(new Date('2024-12-30T00:00:00Z')), '2025-W01', 'late December can belong to next year')
  t.equal(isoWeek(new Date('2026-01-01T00:00:00Z')), '2026-W01')
})

t.test('hasKeepRules: none, or all zero, is no rule', async (t) => {
  t.notOk(hasKeepRules({}))
  t.notOk(hasKeepRules({ daily: 0, weekly: 0 }))
  t.ok(hasKeepRules({ monthly: 1 }))
  t.ok(hasKeepRules({ withinSeconds: 60 }))
})

t.test('keep-daily keeps the newest backup of each of the last N days that have one', async (t) => {
  const s = nightly('2026-11-01', 30, 7)
  // Two more on the last day: the newest of that day stands for it.
  const f = s.filter((x) => x.kind === 'full').pop()!
  s.push(b('2026-11-30T12:00:00Z', 'diff', f.id), b('2026-11-30T18:00:00Z', 'diff', f.id))
  const ds = decide(s, { daily: 3 })
  const keep = ds.filter((d) => d.keep)
  t.same(keep.filter((d) => d.reasons.some((r) => r.startsWith('daily'))).map((d) => d.backup.time.toISOString()),
    ['2026-11-28T03:00:00.000Z', '2026-11-29T03:00:00.000Z', '2026-11-30T18:00:00.000Z'])
  t.match(keep.at(-1)!.reasons, ['the newest backup', 'daily 2026-11-30'])
  t.match(ds.find((d) => d.backup.time.toISOString() === '2026-11-30T12:00:00.000Z'), { keep: false, reasons: ['no keep rule holds it'] })
  t.same(keep.filter((d) => d.backup.kind === 'full').map((d) => d.backup.time.toISOString().slice(0, 10)), ['2026-11-22', '2026-11-29'],
    'the full of 11-28\'s differential, and 11-29\'s own full')
  noOrphans(t, s, { daily: 3 })
})

t.test('a kept differential keeps its full, which says so', async (t) => {
  const s = nightly('2026-11-01', 10, 7) // fulls on 11-01 and 11-08
  const ds = decide(s, { daily: 1 })
  const keep = ds.filter((d) => d.keep)
  t.same(keep.map((d) => d.backup.time.toISOString().slice(0, 10)), ['2026-11-08', '2026-11-10'])
  t.match(keep[0]!.reasons, [/^the full of kept differential s_20261110T030000Z_diff_/])
  t.equal(ds.filter((d) => !d.keep).length, 8)
})

t.test('weekly and monthly buckets, restic style: the newest of each', async (t) => {
  const s = nightly('2026-09-01', 100, 7) // 2026-09-01 .. 2026-12-09
  const ds = decide(s, { weekly: 3, monthly: 3 })
  const weekly = ds.filter((d) => d.reasons.some((r) => r.startsWith('weekly'))).map((d) => d.backup.time.toISOString().slice(0, 10))
  t.same(weekly, ['2026-11-29', '2026-12-06', '2026-12-09'], 'Sundays end weeks; the current week\'s newest')
  const monthly = ds.filter((d) => d.reasons.some((r) => r.startsWith('monthly'))).map((d) => d.backup.time.toISOString().slice(0, 10))
  t.same(monthly, ['2026-10-31', '2026-11-30', '2026-12-09'], 'the last of each month')
  noOrphans(t, s, { weekly: 3, monthly: 3 })
})

t.test('keep-within counts back from the newest backup, not from now', async (t) => {
  const s = nightly('2020-01-01', 20, 7)
  t.same(kept(s, { withinSeconds: 3 * 86400 }).filter((d) => d !== '2020-01-15'), ['2020-01-18', '2020-01-19', '2020-01-20'],
    'three days back from the newest (and the full they need)')
  t.ok(kept(s, { withinSeconds: 3 * 86400 }).includes('2020-01-15'), 'their full')
  const r = decide(s, { withinSeconds: 3 * 86400 }).find((d) => d.backup.time.toISOString().startsWith('2020-01-19'))!
  t.same(r.reasons, ['within 3d of the newest backup'])
})

t.test('keep-fulls keeps the newest N fulls with all their differentials', async (t) => {
  const s = nightly('2026-11-01', 21, 7) // fulls 11-01, 11-08, 11-15
  const ds = decide(s, { lastFulls: 2 })
  t.same(ds.filter((d) => d.keep).map((d) => d.backup.time.toISOString().slice(0, 10)),
    s.slice(7).map((x) => x.time.toISOString().slice(0, 10)), 'the two newest fulls and their 12 differentials')
  t.ok(ds.filter((d) => !d.keep).every((d) => d.backup.time < new Date('2026-11-08')), 'the first chain goes')
  t.match(ds.find((d) => d.backup.time.toISOString().startsWith('2026-11-08'))!.reasons, ['full 2 of the last 2 (keep-fulls)'])
})

t.test('the newest backup is always kept; rules add up (a backup kept by any rule stays)', async (t) => {
  const s = nightly('2026-11-01', 15, 7)
  const only = decide(s, { monthly: 0, daily: 0 })
  t.same(only.filter((d) => d.keep).map((d) => d.backup.time.toISOString().slice(0, 10)), ['2026-11-15'], 'a full alone')
  const both = kept(s, { daily: 2, lastFulls: 1 })
  t.same(both, ['2026-11-08', '2026-11-14', '2026-11-15'], 'the last full, and the day before with its full')
  const union = kept(s, { daily: 3, monthly: 1 })
  t.same(union, ['2026-11-08', '2026-11-13', '2026-11-14', '2026-11-15'])
})

t.test('a differential whose full is not stored whole is never kept, and says why', async (t) => {
  const full = b('2026-11-01T03:00:00Z', 'full')
  const broken = { ...full, complete: false }
  const d1 = b('2026-11-02T03:00:00Z', 'diff', full.id)
  const later = b('2026-11-03T03:00:00Z', 'full')
  const ds = decide([broken, d1, later], { daily: 7 })
  t.same(ds.map((d) => [d.backup.kind, d.keep]), [['diff', false], ['full', true]], 'the incomplete full is not judged; its differential goes')
  t.match(ds[0]!.reasons, [/its full id\d+ is not stored whole: it cannot be restored/])
  // Even as the newest backup.
  const ds2 = decide([broken, d1], { daily: 7 })
  t.same(ds2.map((d) => d.keep), [false])
})

t.test('incomplete backups and other kinds are not judged', async (t) => {
  const full = b('2026-11-01T03:00:00Z', 'full')
  const partial = b('2026-11-02T03:00:00Z', 'diff', full.id, false)
  const index: KeepInput = { ...b('2026-11-01T03:00:00Z', 'full'), kind: 'index', name: 'x_index' }
  t.same(decide([full, partial, index], { daily: 1 }).map((d) => d.backup.name), [full.name])
})

t.test('a random month: nothing kept lacks its full, everything says why, the newest stays', async (t) => {
  let seed = 7
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  for (let run = 0; run < 50; run++) {
    const s: KeepInput[] = []
    let full: KeepInput | undefined
    let at = Date.parse('2026-10-01T00:00:00Z')
    for (let i = 0; i < 40; i++) {
      at += Math.floor(rnd() * 2 * 86400_000)
      const iso = new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z')
      const x = !full || rnd() < 0.2 ? b(iso, 'full') : b(iso, 'diff', full.id)
      if (x.kind === 'full') full = x
      s.push(x)
    }
    const rules: KeepRules = { daily: Math.floor(rnd() * 5), weekly: Math.floor(rnd() * 3), monthly: Math.floor(rnd() * 2), lastFulls: Math.floor(rnd() * 2) }
    const ds = decide(s, rules)
    const keptIds = new Set(ds.filter((d) => d.keep).map((d) => d.backup.id))
    if (ds.some((d) => d.keep && d.backup.kind === 'diff' && !keptIds.has(d.backup.base!))) t.fail(`run ${run}: an orphan`)
    if (ds.some((d) => d.reasons.length === 0)) t.fail(`run ${run}: a decision without a reason`)
    if (!ds.at(-1)!.keep) t.fail(`run ${run}: the newest went`)
  }
  t.pass('50 random months')
})
