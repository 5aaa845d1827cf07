// The marker a restore leaves in its target: which full it holds, which
// differential (if any) was applied on top, which paths it holds when it was
// restored with PATTERN, and, while a commit phase runs, which stream is being
// committed from which stage. A differential is applied only to the exact full
// it was made against, only once, and only to paths the target holds; a commit
// that was cut short is finished by rerunning the same restore.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { InputError, isErrno } from '../errors.js'
import { nameToFs } from '../format/fsname.js'
import { MARKER, MARKER_TMP } from './names.js'

export { MARKER }

/** A commit phase under way: its journal is in the stage, and a rerun of the same stream finishes it. */
export interface Pending {
  /** Id of the stream being committed. */
  id: string
  kind: 'full' | 'diff'
  /** Name of the stage directory at the top of the target. */
  stage: string
  /** The stages of the same name on the other file systems below the target, relative to it (stage-dirs.ts); absent when there are none. */
  stages?: string[]
  /** The PATTERN arguments of the run being committed (normalised, sorted); absent for a whole stream. */
  paths?: string[]
  /** Written by older versions for a full restored with PATTERN: such a commit is planned again, never resumed. */
  partial?: boolean
}

export interface Marker {
  full: string
  diff: string | null
  /** The patterns whose paths the target holds (see select.ts); absent when it holds the whole tree. */
  paths?: string[]
  pending?: Pending
}

const isPaths = (v: unknown) => v === undefined || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'))

function valid(m: Marker): boolean {
  if (typeof m.full !== 'string' || !(m.diff === null || typeof m.diff === 'string') || !isPaths(m.paths)) return false
  const p = m.pending
  return p === undefined || (typeof p.id === 'string' && (p.kind === 'full' || p.kind === 'diff') &&
    typeof p.stage === 'string' && /^\.bt-stage-[0-9]+$/.test(p.stage) && isPaths(p.paths) && isStages(p.stages, p.stage))
}

/** Each the stage's name below a safe relative path, never at the top (that is `stage` itself). */
function isStages(v: unknown, stage: string): boolean {
  if (v === undefined) return true
  return isPaths(v) && (v as string[]).every((s) => {
    const root = s.slice(0, -(stage.length + 1))
    return s.endsWith(`/${stage}`) && root !== '' && !root.split('/').some((c) => c === '' || c === '.' || c === '..')
  })
}

/** The region roots of a pending commit's other stages. */
export function stageRoots(p: Pending): string[] {
  return (p.stages ?? []).map((s) => s.slice(0, -(p.stage.length + 1)))
}

export function readMarker(target: string): Marker | undefined {
  let text: string
  try {
    text = readFileSync(`${target}/${MARKER}`, 'utf8')
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined
    throw err
  }
  try {
    const m = JSON.parse(text) as Marker
    if (valid(m)) return m
  } catch {
    // fall through to the error below: a damaged marker proves nothing about the tree
  }
  throw new InputError('BT_MARKER', `the marker ${JSON.stringify(`${target}/${MARKER}`)} is damaged`,
    'restore the full again into an empty directory')
}

export function removeMarker(target: string): void {
  rmSync(`${target}/${MARKER}`, { force: true })
}

/** Replaces the marker atomically and durably: a commit phase must not start before its record is on disk. */
export function writeMarker(target: string, m: Marker): void {
  const tmp = `${target}/${MARKER_TMP}`
  const fd = openSync(tmp, 'w', 0o644)
  try {
    writeSync(fd, `${JSON.stringify(m)}\n`)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, `${target}/${MARKER}`)
  syncDir(target)
}

export function syncDir(dir: string): void {
  const fd = openSync(nameToFs(dir), 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
