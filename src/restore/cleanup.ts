// What killed restores leave in a target: stage directories and (from older
// versions) temporaries. Only our exact names are touched, and only when the
// process that made them is gone. A stage whose process lives is another
// bt-restore at work in the same target: the target is busy.
import { readFileSync, readdirSync, rmSync } from 'node:fs'
import { BtError, EXIT, isErrno } from '../errors.js'
import { nameToFs } from '../format/fsname.js'
import { STAGE_LIST, stageOwner, temporaryOwner } from './names.js'
import { realDir } from './outside.js'
import { safeRelative } from './safe-path.js'

/** Removes the stale stages (with the ones they list) and temporaries at the top of `dir`, except the stage named `keep`. */
export function removeStale(dir: string, keep: string | undefined, alive: (pid: number) => boolean): void {
  for (const name of readdirSync(nameToFs(dir))) {
    const pid = stageOwner(name) ?? temporaryOwner(name)
    if (pid === undefined || name === keep || alive(pid)) continue
    if (stageOwner(name) !== undefined) removeStage(dir, name)
    else rmSync(nameToFs(`${dir}/${name}`), { recursive: true, force: true })
  }
}

/**
 * Removes the stage `name` at the top of `target` and its namesakes in the
 * other file systems that it lists (stage-dirs.ts) or that `roots` names
 * (the marker's record): those first, since the list is in the top stage.
 */
export function removeStage(target: string, name: string, roots: string[] = []): void {
  for (const root of new Set([...listedRoots(`${target}/${name}`), ...roots])) {
    // Reached through real directories only: a symlink put in the way leads nowhere.
    if (realDir(target, root)) rmSync(nameToFs(`${target}/${root}/${name}`), { recursive: true, force: true })
  }
  rmSync(nameToFs(`${target}/${name}`), { recursive: true, force: true })
}

/** The region roots a top stage lists; a line cut short by a kill named no stage yet, and is skipped. */
function listedRoots(stage: string): string[] {
  let text: string
  try {
    text = readFileSync(nameToFs(`${stage}/${STAGE_LIST}`), 'utf8')
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return []
    throw err
  }
  const roots: string[] = []
  for (const line of text.split('\n')) {
    try {
      const root = JSON.parse(line) as unknown
      if (typeof root === 'string' && root !== '.' && safeRelative(root) === root) roots.push(root)
    } catch {
      // the torn last line of a killed run, or an unsafe name: neither names a stage of ours
    }
  }
  return roots
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
