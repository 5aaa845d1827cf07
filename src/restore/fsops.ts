// File-system steps shared by full and differential restores: make, replace,
// write, remove, always without following a symlink at the final component.
import {
  closeSync, ftruncateSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, rmdirSync, unlinkSync, writeSync, constants,
} from 'node:fs'
import { BtError, EXIT, IoError, isErrno } from '../errors.js'
import { type EntryFrame } from '../format/frame.js'
import { nameToFs } from '../format/fsname.js'
import { writeAll } from '../sys/io.js'
import { sys } from '../sys/native.js'

export { writeAll }

export function asIoError(what: string, err: unknown): unknown {
  if (err instanceof BtError || !(err instanceof Error) || typeof (err as NodeJS.ErrnoException).code !== 'string') return err
  if (!/^E[A-Z]+$/.test((err as NodeJS.ErrnoException).code!)) return err
  return new IoError(what, err as NodeJS.ErrnoException)
}

export function removeQuietly(path: string): void {
  try {
    unlinkSync(nameToFs(path))
  } catch {
    // Best effort while failing already: the original error is the one to report.
  }
}

export function makeDir(abs: string): void {
  const path = nameToFs(abs)
  try {
    mkdirSync(path, { mode: 0o700 })
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err
    const st = lstatSync(path)
    if (st.isDirectory()) return
    // A symlink or file where the archive has a directory: replace it, never follow it.
    unlinkSync(path)
    mkdirSync(path, { mode: 0o700 })
  }
}

/** `tmp` is a staged object; `abs` the place in the target, a name from the stream. */
export function replace(tmp: string, abs: string, rel: string, opts: { force?: boolean } = {}): void {
  const path = nameToFs(abs)
  const from = nameToFs(tmp) // a stage below a mount point whose name is not UTF-8
  try {
    renameSync(from, path)
  } catch (err) {
    if (!isErrno(err, 'EISDIR', 'ENOTEMPTY', 'EEXIST')) throw err
    try {
      if (opts.force) rmSync(path, { recursive: true, force: true })
      else rmdirSync(path) // an empty directory may give way to a file
    } catch {
      // The staged object stays: a rerun of the commit needs it.
      throw new BtError('BT_TYPE_CONFLICT', EXIT.FAILURE,
        `cannot restore ${JSON.stringify(rel)}: a non-empty directory is in the way`,
        ['restore into an empty directory, or move the directory aside'])
    }
    renameSync(from, path)
  }
}

/** Writes a file's content to `tmp`; `beforeClose` may set metadata through the open descriptor. */
export async function writeFile(tmp: string, f: EntryFrame, sum: { bytes: number }, beforeClose?: (fd: number) => void): Promise<void> {
  const fd = openSync(nameToFs(tmp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
  let ok = false
  try {
    // A captured file's size is known only at the end of its body: plain content is written as it comes.
    const segs = f.meta.sparse ?? [[0, Number.MAX_SAFE_INTEGER]]
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
    beforeClose?.(fd)
    ok = true
  } finally {
    closeSync(fd)
    if (!ok) removeQuietly(tmp)
  }
}

/** Sets a directory's times back to what they were (a refused restore leaves no trace but the status change time). */
export function putTimesBack(dir: string, atimeNs: bigint, mtimeNs: bigint): void {
  const ns = (t: bigint) => [Number(t / 1_000_000_000n), Number(t % 1_000_000_000n)] as const
  const [as, an] = ns(atimeNs)
  const [ms, mn] = ns(mtimeNs)
  sys().lutimens(nameToFs(dir), as, an, ms, mn)
}
