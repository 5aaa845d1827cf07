// Which backups prune keeps, as restic forget decides it, for backups that
// come in pairs: a point in time is a full, or a differential plus its full.
// Pure: the stored backups and the rules in, a decision with its reasons out.
//
// - Only restorable points count: complete fulls, and complete differentials
//   whose full is stored whole. A differential whose full is gone cannot be
//   restored, is never kept, and says why.
// - A backup kept by any rule stays; a kept differential keeps its full.
// - The newest point is always kept, whatever the rules say.
// - keep-within counts back from the newest backup, not from now (restic's
//   rule): a set whose backups stopped is not emptied by the passing days.
// - daily/weekly/monthly keep the newest point of each of the last N days,
//   ISO weeks (from Monday) and months that have one; days are UTC's, as the
//   times in the backups' names are, so a decision reads the same on every host.
// - keep-fulls keeps the newest N fulls with all their differentials.
import { type KeepRules } from './set.js'

export interface KeepInput {
  name: string
  kind: string
  id: string
  /** The full a differential is based on. */
  base: string | null
  time: Date
  complete: boolean
}

export interface Decision<B extends KeepInput = KeepInput> {
  backup: B
  keep: boolean
  /** Why it is kept (each rule that holds it), or why it goes. */
  reasons: string[]
}

/** Whether any rule would keep more than the newest backup: prune refuses to run without one. */
export function hasKeepRules(r: KeepRules): boolean {
  return [r.lastFulls, r.withinSeconds, r.daily, r.weekly, r.monthly].some((n) => n !== undefined && n > 0)
}

const day = (t: Date) => t.toISOString().slice(0, 10)
const month = (t: Date) => t.toISOString().slice(0, 7)

/** The ISO 8601 week of `t` (UTC), e.g. "2026-W49": weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(t: Date): string {
  const d = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()))
  d.setUTCDate(d.getUTCDate() + 3 - ((d.getUTCDay() + 6) % 7)) // the Thursday of its week decides the year
  const year = d.getUTCFullYear()
  const week = 1 + Math.floor((d.getTime() - Date.UTC(year, 0, 1)) / (7 * 86400_000))
  return `${year}-W${String(week).padStart(2, '0')}`
}

const BUCKETS: Array<{ rule: 'daily' | 'weekly' | 'monthly'; key: (t: Date) => string }> = [
  { rule: 'daily', key: day },
  { rule: 'weekly', key: isoWeek },
  { rule: 'monthly', key: month },
]

/** One decision per complete full and differential in `backups` (others are not prune's to judge), oldest first. */
export function decide<B extends KeepInput>(backups: B[], rules: KeepRules): Decision<B>[] {
  const judged = backups.filter((b) => b.complete && (b.kind === 'full' || b.kind === 'diff'))
    .sort((a, b) => a.time.getTime() - b.time.getTime() || a.name.localeCompare(b.name))
  const fulls = new Map(judged.filter((b) => b.kind === 'full').map((b) => [b.id, b]))
  const reasons = new Map<B, string[]>(judged.map((b) => [b, []]))
  const why = (b: B, r: string) => reasons.get(b)!.push(r)
  const points = judged.filter((b) => b.kind === 'full' || (b.base !== null && fulls.has(b.base))).reverse() // newest first

  if (points.length > 0) why(points[0]!, 'the newest backup')
  if (rules.withinSeconds !== undefined && rules.withinSeconds > 0 && points.length > 0) {
    const cutoff = points[0]!.time.getTime() - rules.withinSeconds * 1000
    for (const b of points) if (b.time.getTime() > cutoff) why(b, `within ${duration(rules.withinSeconds)} of the newest backup`)
  }
  if (rules.lastFulls !== undefined && rules.lastFulls > 0) {
    const newest = points.filter((b) => b.kind === 'full').slice(0, rules.lastFulls)
    newest.forEach((f, i) => {
      why(f, `full ${i + 1} of the last ${rules.lastFulls} (keep-fulls)`)
      for (const d of points) if (d.base === f.id) why(d, `a differential of full ${i + 1} of the last ${rules.lastFulls} (keep-fulls)`)
    })
  }
  for (const { rule, key } of BUCKETS) {
    let left = rules[rule] ?? 0
    let last: string | undefined
    for (const b of points) {
      if (left <= 0) break
      const k = key(b.time)
      if (k === last) continue
      last = k
      why(b, `${rule} ${k}`)
      left--
    }
  }
  // A kept differential restores only with its full.
  for (const b of points) {
    if (b.kind === 'diff' && reasons.get(b)!.length > 0) {
      const f = fulls.get(b.base!)!
      if (!reasons.get(f)!.some((r) => r.startsWith('the full of'))) why(f, `the full of kept differential ${b.name}`)
    }
  }
  return judged.map((b) => {
    const r = reasons.get(b)!
    if (r.length > 0) return { backup: b, keep: true, reasons: r }
    if (b.kind === 'diff' && (b.base === null || !fulls.has(b.base))) {
      return { backup: b, keep: false, reasons: [`its full ${b.base ?? '(none)'} is not stored whole: it cannot be restored`] }
    }
    return { backup: b, keep: false, reasons: ['no keep rule holds it'] }
  })
}

function duration(s: number): string {
  for (const [unit, n] of [['w', 604800], ['d', 86400], ['h', 3600], ['m', 60]] as const) if (s % n === 0) return `${s / n}${unit}`
  return `${s}s`
}
