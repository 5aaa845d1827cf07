// What killed restores leave at the top of a target: stage directories and
// (from older versions) temporaries. Only our exact names are touched, and
// only when the process that made them is gone. A stage whose process lives
// is another bt-restore at work in the same target: the target is busy.
import { readdirSync, rmSync } from 'node:fs'
import { BtError, EXIT } from '../errors.js'
import { stageOwner, temporaryOwner } from './names.js'

/** Removes the stale stages and temporaries at the top of `target`, except the stage named `keep`. */
export function removeStale(target: string, keep: string | undefined, alive: (pid: number) => boolean): void {
  for (const name of readdirSync(target)) {
    const pid = stageOwner(name) ?? temporaryOwner(name)
    if (pid === undefined || name === keep || alive(pid)) continue
    rmSync(`${target}/${name}`, { recursive: true, force: true })
  }
}

/**
 * Refuses while another live bt-restore has its stage in `target` (`keep` is
 * this run's own): two restores interleaving their commits, or one removing
 * the other's stage, would leave a mix that a marker calls whole.
 */
export function refuseBusy(target: string, keep: string, alive: (pid: number) => boolean): void {
  for (const name of readdirSync(target)) {
    const pid = stageOwner(name)
    if (pid === undefined || name === keep || !alive(pid)) continue
    throw new BtError('BT_TARGET_BUSY', EXIT.FAILURE, `another bt-restore (process ${pid}) is restoring into ${JSON.stringify(target)}`,
      [`wait for it to end and run again; if no bt-restore runs, remove its stage ${JSON.stringify(`${target}/${name}`)}`])
  }
}
