// Phase 1: reads the rest of the stream to its verified end, checks every
// entry against the target as it is and as the commit will leave it, builds
// every new object in the stage, and writes the journal of what the commit
// will do. The target itself is only read. A full is planned like a
// differential against an empty tree: every entry is new, nothing is deleted
// but backtory's own stale temporaries.
import { lstatSync, readdirSync } from 'node:fs'
import { BtError, EXIT, InputError, UnsafePathError, isErrno } from '../errors.js'
import { type EntryFrame, type Frame } from '../format/frame.js'
import { fsToName, nameToFs } from '../format/fsname.js'
import { asIoError } from './fsops.js'
import { baseFile, buildContent } from './base.js'
import { type JournalWriter, type Step } from './journal.js'
import { type MetaOptions } from './metadata.js'
import { isRestoreObject, stageOwner, temporaryOwner } from './names.js'
import { namesIn, realDir, selectedAt } from './outside.js'
import { checkLength, parentOf, safeRelative } from './safe-path.js'
import { finishStaged, stageFile, stageSpecial } from './stage.js'
import { type StageDirs } from './stage-dirs.js'
import { type OpenDir, type Region, TreeView, kindOf } from './tree-view.js'

export interface PlanOptions extends MetaOptions {
  target: string
  /** This run's stages: the one at the top of the target, and those on other file systems below it. */
  stages: StageDirs
  /** The file system of the target's top. */
  top: Region
  kind: 'full' | 'diff'
  /** A version 2 differential may list only what changed: unlisted paths then stay as they are. */
  unlisted?: 'deleted' | 'unchanged'
  select?: (rel: string) => boolean
  alive(pid: number): boolean
}

export interface PlanSummary {
  entries: number
  bytes: number
  incomplete: number
}

export async function plan(frames: AsyncIterator<Frame>, journal: JournalWriter, o: PlanOptions): Promise<PlanSummary> {
  const sum: PlanSummary = { entries: 0, bytes: 0, incomplete: 0 }
  const diff = o.kind === 'diff'
  // What a directory of the differential holds besides what it lists is deleted, unless the stream says unchanged.
  const sweeps = diff && o.unlisted !== 'unchanged'
  const push = (s: Step) => journal.push(s)
  const view = new TreeView(o.target, o.top, (d) => { for (const path of deletions(d, o)) push({ op: 'delete', path }) })

  const entry = async (f: EntryFrame, rel: string): Promise<void> => {
    const m = f.meta
    checkLength(o.target, rel)
    if (rel === '.') {
      view.leaveFor('.')
      push({ op: 'dir', path: '.', meta: m })
      view.declare('.', 'dir', o.top.dev, sweeps ? new Set() : undefined)
      sum.entries++
      return
    }
    const parent = view.parentOf(rel, m.path)
    parent.seen?.add(rel.slice(rel.lastIndexOf('/') + 1))
    const abs = `${o.target}/${rel}`
    if (diff && m.op === 'deleted') {
      // Checked on its way like any entry (parentOf), so a deletion never reaches through a symlink.
      push({ op: 'delete', path: rel })
      view.declare(rel, 'other')
      sum.entries++
      return
    }
    const kind = kindOf(m.type)
    if (kind === 'dir') {
      push({ op: 'dir', path: rel, meta: m })
      view.declare(rel, 'dir', parent.exists ? dirDev(abs) : undefined, sweeps ? new Set() : undefined)
      sum.entries++
      return
    }
    // What the commit replaces: a directory of this same stream, or (a differential knows its tree) anything.
    const force = diff || view.kindAt(rel) === 'dir'
    if (!force && parent.exists) refuseNonEmptyDir(abs, rel)
    const step = await build(f, rel, force, parent.region.root)
    view.declare(rel, kind)
    if (step) {
      push(step)
      sum.entries++
    }
  }

  /** Builds the object in the stage on the file system of region `root`, where its parent is or will be. */
  const build = async (f: EntryFrame, rel: string, force: boolean, root: string): Promise<Step | undefined> => {
    const m = f.meta
    const { stage, tmp, in: region } = o.stages.next(root)
    const place: Step = region === undefined ? { op: 'place', path: rel, stage, force } : { op: 'place', path: rel, stage, force, in: region }
    if (m.type === 'hardlink') return link(rel, m.path, m.linkpath ?? '', region)
    if (m.type !== 'file') {
      stageSpecial(m, tmp, o)
      return place
    }
    if (!diff || m.op === undefined) {
      await stageFile(f, tmp, o, sum)
      return place
    }
    if (await buildContent(f, rel, o.target, tmp, sum, copyHint) === 'base') return m.op === 'meta' ? { op: 'meta', path: rel, meta: m } : undefined
    finishStaged(m, tmp, o)
    return place
  }

  /** A copy whose source PATTERN left out: the target was restored without it. */
  const copyHint = (from: string): string | undefined => o.select && !o.select(from)
    ? `the paths restored do not include ${JSON.stringify(from)}: restore the full with ${JSON.stringify(from)} among the paths too, then this differential; nothing was changed`
    : undefined

  /**
   * An entry of a differential that PATTERN leaves out: nothing of it is
   * restored, but selected paths the target holds below it end with it (see
   * outside.ts), and a directory of a differential listing every path is
   * opened, so that the names it leaves out are swept when it is left.
   */
  const outside = (f: EntryFrame, rel: string): void => {
    const top = view.leaveFor(rel)
    const inTop = rel !== '.' && top?.rel === parentOf(rel)
    if (inTop) top!.seen?.add(rel.slice(rel.lastIndexOf('/') + 1))
    if (f.meta.type === 'directory') {
      if (sweeps && (rel === '.' || (inTop && top!.exists)) && realDir(o.target, rel)) view.enterOutside(rel)
      return
    }
    if (rel !== '.' && realDir(o.target, rel)) for (const path of selectedAt(o.target, rel, o.select!)) push({ op: 'delete', path })
  }

  /** A hard link reaches only a regular file that this stream put at its target before it; `region` as for a staged object. */
  const link = (rel: string, path: string, linkpath: string, region: string | undefined): Step | undefined => {
    let target: string
    try {
      if (linkpath === '') throw new Error('it is empty')
      target = safeRelative(linkpath)
    } catch (err) {
      throw new UnsafePathError(path, `its link target ${JSON.stringify(linkpath)} is unsafe (${(err as Error).message.replace(/^.*: /, '')})`)
    }
    view.checkWay(target, path)
    const step: Step = region === undefined ? { op: 'link', path: rel, target } : { op: 'link', path: rel, target, in: region }
    if (view.kindAt(target) === 'file') return step
    if (o.select && !o.select(target)) {
      o.warn(`cannot restore hard link ${JSON.stringify(rel)}: its target ${JSON.stringify(target)} was not selected`)
      return undefined
    }
    // A differential that leaves unchanged files out may link to one: the full's file, checked in the target as it is.
    if (diff && o.unlisted === 'unchanged' && view.kindAt(target) === undefined) {
      baseFile(o.target, target, `the target of hard link ${JSON.stringify(rel)}, unchanged since the full`)
      return step
    }
    if (o.select && view.kindAt(target) === undefined) {
      o.warn(`cannot restore hard link ${JSON.stringify(rel)}: its target ${JSON.stringify(target)} was not selected`)
      return undefined
    }
    if (diff) {
      throw new InputError('BT_BASE_MISSING', `${JSON.stringify(target)} (the target of hard link ${JSON.stringify(rel)}) is not a regular file that the differential lists before it`,
        'the differential is corrupt or was not made by bt-delta; nothing was changed')
    }
    throw new InputError('BT_LINK_TARGET', `hard link ${JSON.stringify(rel)} points at ${JSON.stringify(target)}, which the stream did not hold before it as a regular file`,
      'the stream is corrupt or was not written by bt-scan; nothing was changed')
  }

  for (let r = await frames.next(); !r.done; r = await frames.next()) {
    const f = r.value
    if (f.kind === 'incomplete') {
      sum.incomplete++
      o.warn(`${JSON.stringify(f.path)} was incomplete when backed up (${f.reason}); restored as it was stored`)
    }
    if (f.kind !== 'entry') continue
    const rel = safeRelative(f.meta.path)
    try {
      if (!o.select || o.select(rel)) await entry(f, rel)
      else if (diff) outside(f, rel)
    } catch (err) {
      throw asIoError(`cannot restore ${JSON.stringify(rel)}`, err)
    }
  }
  view.finish()
  return sum
}

/** The st_dev of the directory at `abs`, or undefined when there is none (nothing, or something else). */
function dirDev(abs: string): number | undefined {
  try {
    const st = lstatSync(nameToFs(abs))
    return st.isDirectory() ? st.dev : undefined
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined
    throw err
  }
}

/** A full never removes a directory with content to put a non-directory there. */
function refuseNonEmptyDir(abs: string, rel: string): void {
  if (dirDev(abs) === undefined || readdirSync(nameToFs(abs)).length === 0) return
  throw new BtError('BT_TYPE_CONFLICT', EXIT.FAILURE, `cannot restore ${JSON.stringify(rel)}: a non-empty directory is in the way`,
    ['restore into an empty directory, or move the directory aside; nothing was changed'])
}

/**
 * What the commit deletes in a directory the plan is leaving: in a
 * differential, whatever the target holds there and the stream did not list;
 * in a full, only the temporaries that a killed older bt-restore left, and
 * the stages of killed runs at the top of a file system.
 */
function deletions(d: OpenDir, o: PlanOptions): string[] {
  const sweeps = o.kind === 'diff' && o.unlisted !== 'unchanged'
  // A directory PATTERN left out: what it no longer holds ends the selected paths in it.
  if (d.outside) return namesIn(o.target, d.rel).filter((n) => !d.seen!.has(n)).flatMap((n) => [...selectedAt(o.target, d.rel === '.' ? n : `${d.rel}/${n}`, o.select!)])
  if (!d.exists || (sweeps && !d.seen)) return []
  const out: string[] = []
  // As octets, so that a name that is not UTF-8 compares equal to the stream's name for it.
  const dir = nameToFs(d.rel === '.' ? o.target : `${o.target}/${d.rel}`)
  // Stages live at the top of the target and of each file system below it (stage-dirs.ts): only there is a dead one removed.
  const stages = d.rel === '.' || d.region.root === d.rel
  for (const name of readdirSync(dir, { encoding: 'buffer' }).map(fsToName).sort()) {
    const pid = temporaryOwner(name) ?? (stages ? stageOwner(name) : undefined)
    const ours = isRestoreObject(name, d.rel === '.')
    if (sweeps ? d.seen!.has(name) || (ours && (pid === undefined || o.alive(pid))) : pid === undefined || o.alive(pid)) continue
    out.push(d.rel === '.' ? name : `${d.rel}/${name}`)
  }
  return out
}
