// A differential restored with PATTERN: its entries that the patterns leave
// out are not restored, but they still say what became of the selected paths
// below them. A deleted record, or a non-directory, at a directory that holds
// selected paths ends those paths; so does a name that a differential listing
// every path leaves out of a directory. These find the selected paths that the
// target holds below such a place, through real directories only.
import { lstatSync, readdirSync } from 'node:fs'
import { isErrno } from '../errors.js'
import { fsToName, nameToFs } from '../format/fsname.js'
import { isRestoreObject } from './names.js'

/** Whether `rel` is a directory in `target`, reached through directories only (never a symlink). */
export function realDir(target: string, rel: string): boolean {
  if (rel === '.') return true
  let abs = target
  for (const part of rel.split('/')) {
    abs = `${abs}/${part}`
    try {
      if (!lstatSync(nameToFs(abs)).isDirectory()) return false
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false
      throw err
    }
  }
  return true
}

/** The names in the directory `rel` of the target, as the stream names them, sorted; bt-restore's own objects left out. */
export function namesIn(target: string, rel: string): string[] {
  const dir = nameToFs(rel === '.' ? target : `${target}/${rel}`)
  return readdirSync(dir, { encoding: 'buffer' }).map(fsToName).sort().filter((n) => !isRestoreObject(n, rel === '.'))
}

/** The topmost selected paths at or below `rel` (a real directory, or anything else when `rel` itself is selected). */
export function* selectedAt(target: string, rel: string, select: (rel: string) => boolean): Generator<string> {
  if (select(rel)) {
    yield rel
    return
  }
  if (!isDirNoFollow(target, rel)) return
  for (const name of namesIn(target, rel)) yield* selectedAt(target, rel === '.' ? name : `${rel}/${name}`, select)
}

function isDirNoFollow(target: string, rel: string): boolean {
  try {
    return lstatSync(nameToFs(rel === '.' ? target : `${target}/${rel}`)).isDirectory()
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false
    throw err
  }
}
