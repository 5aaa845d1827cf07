// Path rules for extraction: what an archive may name, and the check that no
// directory on the way to it is a symlink (which could point anywhere).
import { lstatSync, mkdirSync } from 'node:fs'
import { UnsafePathError, isErrno } from '../errors.js'

/** Normalises an entry path to "a/b/c" ("." for the root) or throws for a hostile one. */
export function safeRelative(path: string): string {
  if (path.includes('\0')) throw new UnsafePathError(path, 'it contains a NUL byte')
  if (path.startsWith('/')) throw new UnsafePathError(path, 'it is absolute')
  const parts = path.split('/').filter((p) => p !== '' && p !== '.')
  if (parts.includes('..')) throw new UnsafePathError(path, 'it contains a ".." component')
  return parts.length === 0 ? '.' : parts.join('/')
}

export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/')
  return i === -1 ? '.' : rel.slice(0, i)
}

export function isWithin(dir: string, rel: string): boolean {
  return dir === '.' || rel === dir || rel.startsWith(`${dir}/`)
}

/**
 * Makes sure every directory from the target down to `dir` is a real directory,
 * creating missing ones, and refuses when one of them is a symlink or a file.
 * `entry` names the archive entry in the error.
 */
export function ensureDirs(target: string, dir: string, entry: string, create: boolean): void {
  if (dir === '.') return
  let abs = target
  for (const part of dir.split('/')) {
    abs = `${abs}/${part}`
    try {
      const st = lstatSync(abs)
      if (st.isSymbolicLink()) throw new UnsafePathError(entry, `it would be written through the symlink ${JSON.stringify(abs.slice(target.length + 1))}`)
      if (!st.isDirectory()) throw new UnsafePathError(entry, `${JSON.stringify(abs.slice(target.length + 1))} is not a directory`)
    } catch (err) {
      if (!isErrno(err, 'ENOENT') || !create) throw err
      mkdirSync(abs, { mode: 0o755 })
    }
  }
}
