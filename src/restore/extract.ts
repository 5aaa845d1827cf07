// bt-restore's engine for a full stream. Each entry is built under a temporary
// name and moved into place only when the next frame arrives, because only then
// has the reader verified the chain digest over it: a corrupt or truncated
// stream never leaves a half-written or unverified object in the tree.
import { linkSync, symlinkSync, constants } from 'node:fs'
import { InputError, IoError, UnsafePathError, isErrno } from '../errors.js'
import { applyDiff } from './apply-diff.js'
import { asIoError, makeDir, removeQuietly, replace, writeFile } from './fsops.js'
import { removeMarker, writeMarker } from './marker.js'
import { type EntryFrame, type Frame } from '../format/frame.js'
import { sys } from '../sys/native.js'
import { type MetaOptions, applyModeAndTimes, applyOwnerAndXattrs } from './metadata.js'
import { ensureDirs, isWithin, parentOf, safeRelative } from './safe-path.js'

export interface RestoreOptions extends MetaOptions {
  /** Absolute path of an existing directory. */
  target: string
  select?: (rel: string) => boolean
  /** Unique per process, for temporary names. */
  tmpTag: string
  /** Called for each entry put in place. */
  onEntry?(rel: string, frame: EntryFrame): void
  /** Called with each path a differential changes. */
  onVerbose?(what: string): void
}

export interface RestoreSummary {
  entries: number
  bytes: number
  incomplete: number
}

interface Pending {
  commit(): void
  discard(): void
}

interface OpenDir {
  rel: string
  abs: string
  frame: EntryFrame
}

export async function restoreStream(frames: AsyncIterable<Frame>, o: RestoreOptions): Promise<RestoreSummary> {
  const sum: RestoreSummary = { entries: 0, bytes: 0, incomplete: 0 }
  const dirs: OpenDir[] = []
  let pending: Pending | undefined
  let seq = 0
  let fullId = ''
  const absOf = (rel: string) => (rel === '.' ? o.target : `${o.target}/${rel}`)
  const tmpFor = (rel: string) => `${absOf(parentOf(rel))}/.bt-restore-${o.tmpTag}-${seq++}`
  const fsCall = <T>(what: string, fn: () => T): T => {
    try {
      return fn()
    } catch (err) {
      throw asIoError(what, err)
    }
  }

  /**
   * The parent must be a real directory, not a symlink. The directory on top of
   * the stack was made or checked by this run, so the common case costs nothing.
   */
  const verifyParent = (rel: string, entry: string) => {
    const parent = parentOf(rel)
    if (dirs.length > 0 && dirs[dirs.length - 1]!.rel === parent) return
    ensureDirs(o.target, parent, entry, true)
  }

  const finishDir = (d: OpenDir) => fsCall(`cannot set the mode and times of ${JSON.stringify(d.rel)}`,
    () => applyModeAndTimes(d.abs, d.frame.meta))
  const leaveDirsFor = (rel: string) => {
    while (dirs.length > 0 && !isWithin(dirs[dirs.length - 1]!.rel, rel)) finishDir(dirs.pop()!)
  }

  /** Moves a finished temporary object onto its final path. */
  const placeAt = (tmp: string, rel: string, frame: EntryFrame): Pending => ({
    commit: () => fsCall(`cannot put ${JSON.stringify(rel)} in place`, () => {
      replace(tmp, absOf(rel), rel)
      sum.entries++
      o.onEntry?.(rel, frame)
    }),
    discard: () => removeQuietly(tmp),
  })

  const build = async (f: EntryFrame, rel: string): Promise<Pending | undefined> => {
    const m = f.meta
    if (rel === '.' || m.type === 'directory') {
      return {
        commit: () => fsCall(`cannot create directory ${JSON.stringify(rel)}`, () => {
          const abs = absOf(rel)
          if (rel !== '.') verifyParent(rel, m.path)
          makeDir(abs)
          applyOwnerAndXattrs(abs, m, o)
          dirs.push({ rel, abs, frame: f })
          sum.entries++
          o.onEntry?.(rel, f)
        }),
        discard: () => undefined,
      }
    }
    // A non-directory replacing a directory of the stream: that directory is done.
    if (dirs.length > 0 && dirs[dirs.length - 1]!.rel === rel) finishDir(dirs.pop()!)
    verifyParent(rel, m.path)
    const tmp = tmpFor(rel)
    switch (m.type) {
      case 'file':
        await writeFile(tmp, f, sum, (fd) => {
          applyOwnerAndXattrs(tmp, m, o, fd)
          applyModeAndTimes(tmp, m, fd)
        })
        return placeAt(tmp, rel, f)
      case 'symlink':
        symlinkSync(m.linkpath!, tmp)
        break
      case 'hardlink': {
        let target: string
        try {
          target = safeRelative(m.linkpath!)
        } catch (err) {
          throw new UnsafePathError(m.path, `its link target ${JSON.stringify(m.linkpath)} is unsafe (${(err as Error).message.replace(/^.*: /, '')})`)
        }
        ensureDirs(o.target, parentOf(target), m.path, false)
        try {
          linkSync(absOf(target), tmp)
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw err
          if (!o.select) throw new InputError('BT_LINK_TARGET', `hard link ${JSON.stringify(rel)} points at ${JSON.stringify(target)}, which the stream did not hold before it`, 'the stream is corrupt or was not written by bt-scan')
          o.warn(`cannot restore hard link ${JSON.stringify(rel)}: its target ${JSON.stringify(target)} was not selected`)
          return undefined
        }
        return placeAt(tmp, rel, f) // a link shares its target's metadata
      }
      case 'chardev':
      case 'blockdev':
        sys().mknod(tmp, (m.type === 'chardev' ? constants.S_IFCHR : constants.S_IFBLK) | 0o600, m.devmajor ?? 0, m.devminor ?? 0)
        break
      case 'fifo':
        sys().mkfifo(tmp, 0o600)
        break
    }
    try {
      applyOwnerAndXattrs(tmp, m, o)
      applyModeAndTimes(tmp, m)
    } catch (err) {
      removeQuietly(tmp)
      throw err
    }
    return placeAt(tmp, rel, f)
  }

  try {
    for await (const f of frames) {
      // Any frame after an entry proves, by its chain digest, that the entry arrived intact.
      pending?.commit()
      pending = undefined
      if (f.kind === 'incomplete') {
        sum.incomplete++
        o.warn(`${JSON.stringify(f.path)} was incomplete when backed up (${f.reason}); restored as it was stored`)
        continue
      }
      if (f.kind === 'header') {
        if (f.info.stream === 'diff') return await applyDiff(f, frames, o)
        if (f.info.stream !== 'full') {
          throw new InputError('BT_STREAM_KIND', `bt-restore applies full and diff streams; the input is a ${JSON.stringify(f.info.stream)} stream`,
            f.info.stream === 'quick' ? 'a quick-checked scan is input for bt-delta, not a backup: pipe it through bt-delta' : 'use a backtory version that knows this kind of stream')
        }
        fullId = f.info.id
      }
      // A partial restore proves nothing about the whole tree: it forgets what the tree held.
      if (f.kind === 'trailer') {
        if (o.select) removeMarker(o.target)
        else writeMarker(o.target, { full: fullId, diff: null })
      }
      if (f.kind !== 'entry') continue
      const rel = safeRelative(f.meta.path)
      if (o.select && !o.select(rel)) continue
      leaveDirsFor(rel)
      pending = await build(f, rel).catch((err: unknown) => {
        throw asIoError(`cannot restore ${JSON.stringify(rel)}`, err)
      })
    }
  } catch (err) {
    pending?.discard()
    // Leave the directories usable; the first error is the one worth reporting.
    for (const d of dirs.reverse()) {
      try {
        finishDir(d)
      } catch {
        continue
      }
    }
    throw err
  }
  while (dirs.length > 0) finishDir(dirs.pop()!)
  return sum
}

