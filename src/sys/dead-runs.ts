// Scratch directories named for the process that made them (PREFIX-PID-XXXXXX
// and the like): a run killed with -9 cannot remove its own, so each later run
// removes those of this user whose process is gone. A live run's directory is
// never touched.
import { lstatSync, readdirSync, rmSync } from 'node:fs'

/** What a directory name says: the pid of its run, 'old' to remove once older than `maxAgeMs`, or undefined: not ours. */
export type RunOf = (name: string) => number | 'old' | undefined

export interface DeadRunsOptions {
  uid: number
  alive: (pid: number) => boolean
  now?: number
  /** For names without a pid (older versions): removed once this old. */
  maxAgeMs?: number
}

/** Removes the directories in `base` that `runOf` claims and whose run is over; returns their paths. */
export function removeDeadRuns(base: string, runOf: RunOf, o: DeadRunsOptions): string[] {
  let names: string[]
  try {
    names = readdirSync(base)
  } catch {
    return [] // unreadable: making the caller's own directory there says why, if it matters
  }
  const now = o.now ?? Date.now()
  const removed: string[] = []
  for (const n of names) {
    const run = runOf(n)
    if (run === undefined) continue
    try {
      const st = lstatSync(`${base}/${n}`)
      if (!st.isDirectory() || (o.uid >= 0 && st.uid !== o.uid)) continue
      if (run === 'old' ? o.maxAgeMs === undefined || now - st.mtimeMs < o.maxAgeMs : o.alive(run)) continue
      rmSync(`${base}/${n}`, { recursive: true, force: true })
      removed.push(`${base}/${n}`)
    } catch {
      // Gone meanwhile, or not ours to remove: not this run's business.
    }
  }
  return removed
}
