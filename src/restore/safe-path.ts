// Path rules for extraction: what an archive may name, and the check that no
// directory on the way to it is a symlink (which could point anywhere).
import { lstatSync, mkdirSync } from 'node:fs'
import { BtError, EXIT, UnsafePathError, isErrno } from '../errors.js'
import { isBinaryName, nameBytes, nameToFs } from '../format/fsname.js'

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
      const st = lstatSync(nameToFs(abs))
      if (st.isSymbolicLink()) throw new UnsafePathError(entry, `it would be written through the symlink ${JSON.stringify(abs.slice(target.length + 1))}`)
      if (!st.isDirectory()) throw new UnsafePathError(entry, `${JSON.stringify(abs.slice(target.length + 1))} is not a directory`)
    } catch (err) {
      if (!isErrno(err, 'ENOENT') || !create) throw err
      mkdirSync(nameToFs(abs), { mode: 0o755 })
    }
  }
}

/** The longest path, in bytes, that every call of a restore can take (the native helper's limit; PATH_MAX is 4096 with its NUL). */
export const MAX_PATH = 4094

/** Refuses, before anything is written, an entry whose path in the target the system cannot handle. */
export function checkLength(target: string, rel: string): void {
  const n = Buffer.byteLength(target) + 1 + (isBinaryName(rel) ? nameBytes(rel).length : Buffer.byteLength(rel))
  if (n <= MAX_PATH) return
  throw new BtError('BT_PATH_TOO_LONG', EXIT.FAILURE,
    `cannot restore ${JSON.stringify(rel)}: its path in the target would be ${n} bytes long, more than the ${MAX_PATH} this system allows`,
    [`restore into a directory with a shorter path: ${JSON.stringify(target)} is ${Buffer.byteLength(target)} bytes, and this entry needs it to be at most ${MAX_PATH - 1 - Buffer.byteLength(rel)}`])
}
