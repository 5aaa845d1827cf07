// bt-restore's engine, one for a full and a differential alike (a full is a
// differential against an empty tree):
//   1. plan and stage: read the stream to its verified end, check every entry
//      and build every new object in a stage inside the target, writing a
//      journal; the tree is only read, so any refusal changes nothing;
//   2. record: the marker names the stream being committed and its stage,
//      durably, before the first change;
//   3. commit: replay the journal. A kill here is finished by rerunning the
//      same restore with the same stream; any other differential is refused
//      until then.
// With PATTERN, the same steps restore a subset; the marker records the
// patterns, and a differential applies to such a target only for paths it
// provably holds (select.ts covers).
import { lstatSync, mkdirSync, rmSync } from 'node:fs'
import { BtError, InputError } from '../errors.js'
import { type Frame, type HeaderFrame } from '../format/frame.js'
import { refuseBusy, removeStage, removeStale } from './cleanup.js'
import { commit } from './commit.js'
import { asIoError, putTimesBack } from './fsops.js'
import { JOURNAL, JournalWriter } from './journal.js'
import { MARKER, type Marker, type Pending, readMarker, stageRoots, syncDir, writeMarker } from './marker.js'
import { type MetaOptions } from './metadata.js'
import { stageName } from './names.js'
import { type PlanSummary, plan } from './plan.js'
import { covers, normalPatterns, samePatterns, selector } from './select.js'
import { StageDirs } from './stage-dirs.js'

export interface RestoreOptions extends MetaOptions {
  /** Absolute path of an existing directory. */
  target: string
  /** PATTERN arguments: only the paths they select are restored (select.ts). */
  paths?: string[]
  /** Unique per process (the pid): names this run's stage. */
  tmpTag: string
  /** Whether the process `pid` is running: a stage of a live process is never removed. */
  alive(pid: number): boolean
  /** Called with each path put in place, and "deleted PATH" for a deletion. */
  onStep?(what: string): void
  /** Test hook: called before each commit step n, and once after the last. */
  beforeCommitStep?(n: number): void
}

export type RestoreSummary = PlanSummary

export async function restoreStream(frames: AsyncIterable<Frame>, o: RestoreOptions): Promise<RestoreSummary> {
  const it = frames[Symbol.asyncIterator]()
  const first = await it.next()
  if (first.done) return { entries: 0, bytes: 0, incomplete: 0 }
  const header = first.value as HeaderFrame
  const kind = streamKind(header)
  const name = stageName(o.tmpTag)
  refuseBusy(o.target, name, o.alive)
  const paths = normalPatterns(o.paths)
  const marker = readMarker(o.target)
  const pending = marker?.pending
  // A journal holds one selection: only a rerun of the same stream with the same PATTERN finishes it
  // (an older version's journal of PATTERN, without its patterns, never), else a whole rerun would finish a subset.
  const same = pending && !pending.partial && pending.id === header.info.id && pending.kind === kind && samePatterns(pending.paths, paths)
  // A full whose journal is gone (its stage removed by a run that was itself cut short) is simply planned again.
  if (same && (kind === 'diff' || hasJournal(o.target, pending))) return resume(it, pending, o)
  if (pending && kind === 'diff') throw unfinished(o.target, pending, header.info.id)
  if (kind === 'diff') checkBase(o.target, marker, header.info.base ?? '')
  if (kind === 'diff') checkHolds(o.target, marker!, paths)
  const full = kind === 'full' ? header.info.id : header.info.base!
  const holds = kind === 'diff' ? paths : heldAfterFull(marker, full, paths)

  // The stage lives inside the target (rename needs one file system; others below it get their own,
  // stage-dirs.ts); a refusal puts the target's own times back.
  const root = lstatSync(o.target, { bigint: true })
  if (pending) removeStage(o.target, pending.stage, stageRoots(pending)) // superseded by this full
  removeStale(o.target, undefined, o.alive)
  const stage = `${o.target}/${name}`
  mkdirSync(stage, { mode: 0o700 })
  try {
    refuseBusy(o.target, name, o.alive) // again, now that this run's stage shows: two that started together both see the other
  } catch (err) {
    rmSync(stage, { recursive: true, force: true })
    throw err
  }
  let sum: PlanSummary
  const journal = new JournalWriter(`${stage}/${JOURNAL}`)
  const stages = new StageDirs(o.target, stage, name, o.alive)
  try {
    const top = { root: '.', dev: Number(root.dev) }
    sum = await plan(it, journal, { ...o, select: selector(paths), stages, top, kind, unlisted: header.info.unlisted })
    journal.close()
  } catch (err) {
    try {
      journal.abandon()
    } catch {
      // closed already: the journal failed at its sync; the stage goes either way
    }
    stages.removeAll()
    rmSync(stage, { recursive: true, force: true })
    putTimesBack(o.target, root.atimeNs, root.mtimeNs)
    throw err
  }
  syncDir(stage)
  const others = stages.paths()
  for (const p of others) syncDir(`${o.target}/${p}`)
  const now: Pending = { id: header.info.id, kind, stage: name, ...(others.length > 0 ? { stages: others } : {}), ...(paths ? { paths } : {}) }
  // What the target will hold once committed, so that a rerun that finishes the commit records the same.
  writeMarker(o.target, { full, diff: null, ...(holds ? { paths: holds } : {}), pending: now })
  finish(now, full, holds, o)
  return sum
}

/** Reruns a commit that was cut short: the stream is read to its verified end first, then the journal is replayed. */
async function resume(it: AsyncIterator<Frame>, p: Pending, o: RestoreOptions): Promise<RestoreSummary> {
  const sum = { entries: 0, bytes: 0, incomplete: 0 }
  for (let r = await it.next(); !r.done; r = await it.next()) if (r.value.kind === 'entry') sum.entries++
  const marker = readMarker(o.target)!
  removeStale(o.target, p.stage, o.alive) // what runs killed since then left
  finish(p, marker.full, marker.paths, o)
  return sum
}

/** Phase 2 and the end: the journal, then the marker, then the stage goes. */
function finish(p: Pending, full: string, holds: string[] | undefined, o: RestoreOptions): void {
  const stage = `${o.target}/${p.stage}`
  if (!hasJournal(o.target, p)) {
    throw new InputError('BT_MARKER', `the stage ${JSON.stringify(stage)} of the unfinished restore of ${p.kind} ${p.id} is missing`,
      'the target cannot be finished: restore the full again into an empty directory')
  }
  const regions = stageRoots(p)
  try {
    commit({ ...o, stage, regions, beforeStep: o.beforeCommitStep }, () => {
      writeMarker(o.target, { full, diff: p.kind === 'diff' ? p.id : null, ...(holds ? { paths: holds } : {}) })
      removeStage(o.target, p.stage, regions)
    })
  } catch (err) {
    const e = asIoError(`restoring ${p.kind} ${p.id} failed in its commit phase`, err)
    if (e instanceof BtError) e.hints.push(e.code === 'BT_IO_EXDEV'
      // Staged on another file system than its place: mounts below the target changed since, or an older version staged it.
      ? `a file system below ${JSON.stringify(o.target)} was mounted or unmounted after this restore was staged: mount it as it was and run the same bt-restore again, or remove ${JSON.stringify(`${o.target}/${MARKER}`)} and restore the full again`
      : `${JSON.stringify(o.target)} holds part of it; fix the cause, then run the same bt-restore again with the same stream to finish it`)
    throw e
  }
}

function hasJournal(target: string, p: Pending): boolean {
  try {
    lstatSync(`${target}/${p.stage}/${JOURNAL}`)
    return true
  } catch {
    return false
  }
}

function streamKind(h: HeaderFrame): 'full' | 'diff' {
  const s = h.info.stream
  if (s === 'full' || s === 'diff') return s
  throw new InputError('BT_STREAM_KIND', `bt-restore applies full and diff streams; the input is a ${JSON.stringify(s)} stream`,
    s === 'quick' ? 'a quick-checked scan is input for bt-delta, not a backup: pipe it through bt-delta' : 'use a backtory version that knows this kind of stream')
}

function checkBase(target: string, marker: Marker | undefined, base: string): void {
  if (!marker || marker.full !== base) {
    throw new InputError('BT_WRONG_BASE',
      `this differential needs full ${base}, but ${JSON.stringify(target)} holds ${marker ? `full ${marker.full}` : 'no restored full'}`,
      'restore the full it names first: bt-restore DIR < FULL, then this differential')
  }
  if (marker.diff !== null) {
    throw new InputError('BT_WRONG_BASE', `${JSON.stringify(target)} already holds differential ${marker.diff} on top of full ${marker.full}`,
      'a differential applies to the full alone: restore the full again, then this differential')
  }
}

/**
 * The paths a target holds after a full restored with `paths`: all of them for
 * a whole full; after a subset, that subset, joined to what the target held of
 * the same full (patterns only ever add paths); a subset of a whole target of
 * the same full leaves it whole.
 */
function heldAfterFull(marker: Marker | undefined, full: string, paths: string[] | undefined): string[] | undefined {
  if (paths === undefined) return undefined
  if (!marker || marker.pending || marker.full !== full || marker.diff !== null) return paths
  return marker.paths && normalPatterns([...marker.paths, ...paths])
}

/** A differential applies to a target restored with PATTERN only for paths that the target provably holds. */
function checkHolds(target: string, marker: Marker, paths: string[] | undefined): void {
  if (covers(marker.paths, paths)) return
  const held = marker.paths!.map((p) => JSON.stringify(p)).join(' ')
  const asked = paths ? paths.map((p) => JSON.stringify(p)).join(' ') : ''
  throw new InputError('BT_SUBSET', paths
    ? `${JSON.stringify(target)} holds only the paths ${held} of full ${marker.full}, which may not include all that ${asked} selects`
    : `${JSON.stringify(target)} holds only the paths ${held} of full ${marker.full}; a whole differential cannot apply to it`,
  paths
    ? `restore the full with the same paths first (bt-restore DIR ${asked} < FULL), then this differential with them; nothing was changed`
    : `restore the full with the same paths first, or apply this differential with the paths the target holds: bt-restore DIR ${held} < DIFF; nothing was changed`)
}

function unfinished(target: string, p: Pending, id: string): InputError {
  return new InputError('BT_UNFINISHED',
    `${JSON.stringify(target)} holds an unfinished restore of ${p.kind} ${p.id}, killed in its commit phase; differential ${id} cannot apply until it is finished`,
    `run the same bt-restore again with ${p.kind} ${p.id}${p.paths ? ` and the paths ${p.paths.map((x) => JSON.stringify(x)).join(' ')}` : ''} to finish it, then apply differential ${id}`)
}
