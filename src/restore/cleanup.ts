// What killed restores leave at the top of a target: stage directories and
// (from older versions) temporaries. Only our exact names are touched, and
// only when the process that made them is gone.
import { readdirSync, rmSync } from 'node:fs'
import { stageOwner, temporaryOwner } from './names.js'

/** Removes the stale stages and temporaries at the top of `target`, except the stage named `keep`. */
export function removeStale(target: string, keep: string | undefined, alive: (pid: number) => boolean): void {
  for (const name of readdirSync(target)) {
    const pid = stageOwner(name) ?? temporaryOwner(name)
    if (pid === undefined || name === keep || alive(pid)) continue
    rmSync(`${target}/${name}`, { recursive: true, force: true })
  }
}
