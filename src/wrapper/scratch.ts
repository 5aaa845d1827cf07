// The wrapper's private temporary directories: a verify's trial restore (a
// whole tree) and a one-file restore's base. They are removed when the run
// ends, but a run killed with -9 cannot remove its own, and a trial restore
// may hold gigabytes of /tmp. So each name carries its process id, and every
// run first removes the ones of this user whose process is gone.
import { mkdtempSync } from 'node:fs'
import { removeDeadRuns } from '../sys/dead-runs.js'

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
  return removeDeadRuns(base, (n) => {
    const m = NAMED.exec(n)
    return m ? Number(m[2]) : undefined
  }, { uid, alive })
}
