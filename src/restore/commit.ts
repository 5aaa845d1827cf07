// Phase 2: replays the journal onto the target. It runs only after the whole
// stream verified and every check passed, and again from the top when a rerun
// finishes a commit that was killed: so each step is idempotent. A staged
// object that is gone was renamed into place already; a directory that exists
// is kept; metadata, links and deletions are simply done again.
// A staged object of another file system is in the stage of the same name at
// the top of its region (stage-dirs.ts), which the step names.
import { linkSync, lstatSync, rmSync } from 'node:fs'
import { type EntryMeta } from '../format/frame.js'
import { isErrno } from '../errors.js'
import { nameToFs } from '../format/fsname.js'
import { asIoError, makeDir, removeQuietly, replace } from './fsops.js'
import { JOURNAL, type Step, readJournal } from './journal.js'
import { type MetaOptions, applyModeAndTimes, applyOwnerAndXattrs } from './metadata.js'
import { ensureDirs, isWithin, parentOf } from './safe-path.js'

export interface CommitOptions extends MetaOptions {
  target: string
  /** Absolute path of the stage at the top of the target, which holds the journal and the staged objects of its file system. */
  stage: string
  /** The region roots (relative to the target) whose stages hold the objects of other file systems. */
  regions?: string[]
  /** Called with the path of each object put in place (and "deleted PATH"). */
  onStep?(what: string): void
  /** Test hook: called before step n (0-based) and once after the last. */
  beforeStep?(n: number): void
}

interface Dir {
  rel: string
  meta: EntryMeta
}

/** Replays the journal; `done` runs after the last step and before the directories get their times. */
export function commit(o: CommitOptions, done: () => void): void {
  const dirs: Dir[] = []
  const absOf = (rel: string) => (rel === '.' ? o.target : `${o.target}/${rel}`)
  const name = o.stage.slice(o.stage.lastIndexOf('/') + 1)
  const stageOf = (region: string | undefined) => (region === undefined ? o.stage : `${o.target}/${region}/${name}`)
  // A region's top holds its stage until `done` removes it, which changes its times: it gets them after that.
  const regions = new Set(o.regions)
  const late: Dir[] = []
  const finish = (d: Dir) => {
    if (regions.has(d.rel)) late.push(d)
    else applyModeAndTimes(absOf(d.rel), d.meta)
  }
  let n = 0
  for (const s of readJournal(`${o.stage}/${JOURNAL}`)) {
    o.beforeStep?.(n++)
    // A non-directory replacing a directory of the stream: that directory is done, without times.
    if (s.op !== 'dir' && s.op !== 'meta' && dirs[dirs.length - 1]?.rel === s.path) dirs.pop()
    while (dirs.length > 0 && !isWithin(dirs[dirs.length - 1]!.rel, s.path)) finish(dirs.pop()!)
    try {
      step(s)
    } catch (err) {
      throw asIoError(`cannot put ${JSON.stringify(s.path)} in place`, err)
    }
  }
  o.beforeStep?.(n)
  done()
  while (dirs.length > 0) late.push(dirs.pop()!)
  for (const d of late) applyModeAndTimes(absOf(d.rel), d.meta)

  function step(s: Step): void {
    const abs = absOf(s.path)
    if (s.path !== '.' && dirs[dirs.length - 1]?.rel !== parentOf(s.path)) ensureDirs(o.target, parentOf(s.path), s.path, true)
    switch (s.op) {
      case 'dir':
        if (s.path !== '.') makeDir(abs)
        applyOwnerAndXattrs(abs, s.meta, o)
        dirs.push({ rel: s.path, meta: s.meta })
        o.onStep?.(s.path)
        return
      case 'place': {
        const staged = `${stageOf(s.in)}/${s.stage}`
        try {
          replace(staged, abs, s.path, { force: s.force })
        } catch (err) {
          // Gone from the stage: renamed into place by the run that was cut short.
          if (!isErrno(err, 'ENOENT') || present(staged)) throw err
          return
        }
        o.onStep?.(s.path)
        return
      }
      case 'meta':
        applyOwnerAndXattrs(abs, s.meta, o)
        applyModeAndTimes(abs, s.meta)
        o.onStep?.(s.path)
        return
      case 'link': {
        const tmp = `${stageOf(s.in)}/link`
        removeQuietly(tmp)
        linkSync(nameToFs(absOf(s.target)), nameToFs(tmp))
        replace(tmp, abs, s.path, { force: true })
        o.onStep?.(s.path)
        return
      }
      case 'delete':
        rmSync(nameToFs(abs), { recursive: true, force: true })
        o.onStep?.(`deleted ${s.path}`)
    }
  }
}

function present(path: string): boolean {
  try {
    lstatSync(nameToFs(path))
    return true
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false
    throw err
  }
}
