// bt-restore's engine for a full stream. Each entry is built under a temporary
// name and moved into place only when the next frame arrives, because only then
// has the reader verified the chain digest over it: a corrupt or truncated
// stream never leaves a half-written or unverified object in the tree.
import {
  closeSync, ftruncateSync, linkSync, lstatSync, mkdirSync, openSync, renameSync, rmdirSync, symlinkSync,
  unlinkSync, writeSync, constants,
} from 'node:fs'
import { BtError, EXIT, InputError, IoError, UnsafePathError, isErrno } from '../errors.js'
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
        await writeFile(tmp, f, sum)
        break
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
      if (f.kind === 'header' && f.info.stream !== 'full') {
        throw new InputError('BT_STREAM_KIND', `this bt-restore applies full streams; the input is a ${JSON.stringify(f.info.stream)} stream`,
          'use a backtory version that knows this kind of stream')
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

function asIoError(what: string, err: unknown): unknown {
  if (err instanceof BtError || !(err instanceof Error) || typeof (err as NodeJS.ErrnoException).code !== 'string') return err
  if (!/^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code!)) return err
  return new IoError(what, err as NodeJS.ErrnoException)
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch {
    // Best effort while failing already: the original error is the one to report.
  }
}

function makeDir(abs: string): void {
  try {
    mkdirSync(abs, { mode: 0o700 })
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err
    const st = lstatSync(abs)
    if (st.isDirectory()) return
    // A symlink or file where the archive has a directory: replace it, never follow it.
    unlinkSync(abs)
    mkdirSync(abs, { mode: 0o700 })
  }
}

function replace(tmp: string, abs: string, rel: string): void {
  try {
    renameSync(tmp, abs)
  } catch (err) {
    if (!isErrno(err, 'EISDIR', 'ENOTEMPTY', 'EEXIST')) {
      removeQuietly(tmp)
      throw err
    }
    try {
      rmdirSync(abs) // an empty directory may give way to a file
    } catch {
      removeQuietly(tmp)
      throw new BtError('BT_TYPE_CONFLICT', EXIT.FAILURE,
        `cannot restore ${JSON.stringify(rel)}: a non-empty directory is in the way`,
        ['restore into an empty directory, or move the directory aside'])
    }
    renameSync(tmp, abs)
  }
}

async function writeFile(tmp: string, f: EntryFrame, sum: RestoreSummary): Promise<void> {
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
  let ok = false
  try {
    const segs = f.meta.sparse ?? [[0, f.meta.size]]
    let seg = 0
    let pos = segs[0]?.[0] ?? 0
    let left = segs[0]?.[1] ?? 0
    for await (const chunk of f.body) {
      for (let off = 0; off < chunk.length;) {
        while (left === 0) {
          seg++
          pos = segs[seg]![0]
          left = segs[seg]![1]
        }
        const n = Math.min(left, chunk.length - off)
        writeAll(fd, chunk, off, n, pos)
        off += n
        pos += n
        left -= n
      }
      sum.bytes += chunk.length
    }
    if (f.meta.sparse) ftruncateSync(fd, f.meta.size)
    ok = true
  } finally {
    closeSync(fd)
    if (!ok) removeQuietly(tmp)
  }
}

function writeAll(fd: number, b: Buffer, off: number, len: number, pos: number): void {
  while (len > 0) {
    const n = writeSync(fd, b, off, len, pos)
    off += n
    len -= n
    pos += n
  }
}

