// The wrapper's private temporary directories: a verify's trial restore (a
// whole tree) and a one-file restore's base. They are removed when the run
// ends, but a run killed with -9 cannot remove its own, and a trial restore
// may hold gigabytes of /tmp. So each name carries its process id, and every
// run first removes the ones of this user whose process is gone.
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'

export type ScratchKind = 'restore' | 'verify'

const NAMED = /^backtory-(restore|verify)\.(\d+)\.[A-Za-z0-9]{6}$/

export interface ScratchEnv {
  env: NodeJS.ProcessEnv
  pid: number
  uid: number
  alive: (pid: number) => boolean
}

/** Makes TMPDIR/backtory-KIND.PID.XXXXXX, mode 0700, after removing what killed runs left. */
export function makeScratch(kind: ScratchKind, e: ScratchEnv): string {
  const base = e.env.TMPDIR || '/tmp'
  removeStaleScratch(base, e.uid, e.alive)
  return mkdtempSync(`${base}/backtory-${kind}.${e.pid}.`)
}

/** Removes this user's scratch directories whose process no longer runs; returns their paths. */
export function removeStaleScratch(base: string, uid: number, alive: (pid: number) => boolean): string[] {
  let names: string[]
  try {
    names = readdirSync(base)
  } catch {
    return [] // TMPDIR unreadable: making the scratch directory says why
  }
  const removed: string[] = []
  for (const n of names) {
    const m = NAMED.exec(n)
    if (!m) continue
    try {
      const st = lstatSync(`${base}/${n}`)
      if (!st.isDirectory() || (uid >= 0 && st.uid !== uid) || alive(Number(m[2]))) continue
      rmSync(`${base}/${n}`, { recursive: true, force: true })
      removed.push(`${base}/${n}`)
    } catch {
      // Gone meanwhile, or not ours to remove: not this run's business.
    }
  }
  return removed
}
