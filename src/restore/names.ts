// The names bt-restore gives its own objects in a target: the marker, the
// stage directories of a run, and (before the journal-driven engine) per-entry
// temporaries. One definition, shared by the restore's cleanup and by bt-scan,
// which must never back these up.

export const MARKER = '.backtory-restore.json'
export const MARKER_TMP = `${MARKER}.tmp`

/**
 * The stage of the run with process id `pid`: at the top of the target, and
 * under the same name at the top of every other file system the restore
 * writes into (stage-dirs.ts).
 */
export function stageName(pid: string): string {
  return `.bt-stage-${pid}`
}

/** The file in a run's top stage that lists the other file systems' stages (stage-dirs.ts). */
export const STAGE_LIST = 'stages'

const STAGE = /^\.bt-stage-([0-9]+)$/
const TEMPORARY = /^\.bt-restore-([0-9]+)-[0-9]+$/

/** The owning process id of one of our stage directories, or undefined. */
export function stageOwner(name: string): number | undefined {
  const m = STAGE.exec(name)
  return m ? Number(m[1]) : undefined
}

/** The owning process id of an older bt-restore's per-entry temporary (any directory), or undefined. */
export function temporaryOwner(name: string): number | undefined {
  const m = TEMPORARY.exec(name)
  return m ? Number(m[1]) : undefined
}

/**
 * True for a name bt-restore made, in the directory `atTop` says (the target's
 * top, or below). Stages are found at any depth: a file system mounted below
 * the target has its own, at its top.
 */
export function isRestoreObject(name: string, atTop: boolean): boolean {
  if (temporaryOwner(name) !== undefined || stageOwner(name) !== undefined) return true
  return atTop && (name === MARKER || name === MARKER_TMP)
}
