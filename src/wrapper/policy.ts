// Full or differential: the set's policy (backtory.conf(5) full-every,
// full-after, full-share) applied to what the state and the store say. Pure,
// so every rule is tested without a store. The one rule no policy overrides:
// a differential is made only against a full the store holds whole, so a
// full whose upload died, or a store that lost it, means a full again.
import { type StoredBackup } from './catalog.js'
import { type FullPolicy } from './set.js'
import { formatDuration } from './values.js'

/** The confirmed full of the state directory (its "current" link), as the policy needs it. */
export interface CurrentFull {
  id: string
  /** When its scan began (ISO-8601). */
  time: string
}

export interface PolicyInput {
  now: Date
  /** The state's confirmed full; undefined when it has none. */
  current?: CurrentFull
  /** Why the state has no confirmed full, when the caller knows (a lost state directory). */
  noCurrentWhy?: string
  /** The set's complete backups as the store lists them. */
  stored: StoredBackup[]
  policy: FullPolicy
}

export interface Decision {
  kind: 'full' | 'diff'
  /** For a full: the rule that made it one, in words for the summary. */
  why?: string
  /** The full a differential is made against. */
  base?: StoredBackup
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`

export function decide(i: PolicyInput): Decision {
  const full = (why: string): Decision => ({ kind: 'full', why })
  if (!i.current) return full(i.noCurrentWhy ?? 'no full is confirmed stored yet')
  const id = i.current.id
  const base = i.stored.find((b) => b.kind === 'full' && b.id === id && b.complete)
  if (!base) return full(`the store does not hold the state's full ${id} complete`)
  const p = i.policy
  const made = Date.parse(i.current.time)
  const age = (i.now.getTime() - (Number.isNaN(made) ? base.time.getTime() : made)) / 1000
  if (p.everySeconds !== undefined && age >= p.everySeconds) {
    return full(`full ${id} is ${formatDuration(age)} old (full-every = ${formatDuration(p.everySeconds)})`)
  }
  const diffs = i.stored.filter((b) => b.kind === 'diff' && b.base === id && b.complete)
  if (p.afterDiffs !== undefined && diffs.length >= p.afterDiffs) {
    return full(`${diffs.length} differential${diffs.length === 1 ? '' : 's'} since full ${id} (full-after = ${p.afterDiffs})`)
  }
  const last = diffs[diffs.length - 1]
  if (p.diffShare !== undefined && last && base.size > 0 && last.size > p.diffShare * base.size) {
    return full(`the last differential is ${pct(last.size / base.size)} of its full's size (full-share = ${pct(p.diffShare)})`)
  }
  return { kind: 'diff', base }
}
