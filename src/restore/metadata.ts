// Applies an entry's metadata to a restored object that is not yet in place.
// Order matters: chown clears setuid bits and an ACL rewrites group bits, so
// owners first, then xattrs, then the mode, then the times.
import { chmodSync, fchmodSync, fchownSync, lchownSync } from 'node:fs'
import { type EntryMeta } from '../format/frame.js'
import { nameToFs } from '../format/fsname.js'
import { type IdMaps } from '../scan/ids.js'
import { sys } from '../sys/native.js'

export interface MetaOptions {
  /** Restore owners (only root can). */
  sameOwner: boolean
  /** Use the ids in the stream, not the names looked up on this system. */
  numericOwner: boolean
  ids: IdMaps
  warn(message: string): void
}

export function ownerOf(meta: EntryMeta, o: MetaOptions): [number, number] {
  if (o.numericOwner) return [meta.uid, meta.gid]
  const uid = meta.uname ? o.ids.uidOf(meta.uname) : undefined
  const gid = meta.gname ? o.ids.gidOf(meta.gname) : undefined
  return [uid ?? meta.uid, gid ?? meta.gid]
}

/** With `fd` (an open regular file) the owner and mode go through it: no path lookups. */
export function applyOwnerAndXattrs(abs: string, meta: EntryMeta, o: MetaOptions, fd?: number): void {
  const path = nameToFs(abs)
  if (o.sameOwner) {
    const [uid, gid] = ownerOf(meta, o)
    if (fd === undefined) lchownSync(path, uid, gid)
    else fchownSync(fd, uid, gid)
  }
  for (const [name, value] of meta.xattrs) {
    try {
      sys().setXattr(path, name, value)
    } catch (err) {
      o.warn(`cannot restore extended attribute ${name} of ${JSON.stringify(meta.path)}: ${(err as Error).message}`)
    }
  }
}

export function applyModeAndTimes(abs: string, meta: EntryMeta, fd?: number): void {
  const path = nameToFs(abs)
  // A symlink's mode is meaningless on Linux and chmod would follow it.
  if (fd !== undefined) fchmodSync(fd, meta.mode)
  else if (meta.type !== 'symlink') chmodSync(path, meta.mode)
  sys().lutimens(path, meta.mtime.sec, meta.mtime.nsec, meta.mtime.sec, meta.mtime.nsec)
}
