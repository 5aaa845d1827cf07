// Turns lstat/fstat results into the stream's EntryMeta: type, full mode,
// owners with names, nanosecond times, device numbers and extended attributes.
import { type BigIntStats, readlinkSync } from 'node:fs'
import { type EntryMeta, type EntryType, type Time } from '../format/frame.js'
import { fsToName, nameToFs } from '../format/fsname.js'
import { sys } from '../sys/native.js'
import { aclText } from './acl.js'
import { type IdMaps } from './ids.js'

const NS = 1_000_000_000n

export function timeOf(ns: bigint): Time {
  let sec = ns / NS
  let nsec = ns % NS
  if (nsec < 0n) {
    nsec += NS
    sec -= 1n
  }
  return { sec: Number(sec), nsec: Number(nsec) }
}

export function typeOf(st: BigIntStats): EntryType | undefined {
  if (st.isFile()) return 'file'
  if (st.isDirectory()) return 'directory'
  if (st.isSymbolicLink()) return 'symlink'
  if (st.isCharacterDevice()) return 'chardev'
  if (st.isBlockDevice()) return 'blockdev'
  if (st.isFIFO()) return 'fifo'
  return undefined // socket: cannot be backed up, a server recreates it
}

export function readXattrs(abs: string, warn: (m: string) => void, rel: string): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = []
  const path = nameToFs(abs)
  let names: string[]
  try {
    names = sys().listXattr(path).sort()
  } catch (err) {
    warn(`cannot list extended attributes of ${JSON.stringify(rel)}: ${(err as Error).message}`)
    return out
  }
  for (const name of names) {
    try {
      out.push([name, sys().getXattr(path, name)])
    } catch (err) {
      // ENODATA: removed between list and get, which is just a change during the scan.
      if ((err as NodeJS.ErrnoException).code !== 'ENODATA') {
        warn(`cannot read extended attribute ${name} of ${JSON.stringify(rel)}: ${(err as Error).message}`)
      }
    }
  }
  return out
}

/**
 * What the stat alone says, without extended attributes: enough for the quick
 * check, and for an unchanged record, which stands for the full's metadata.
 */
export function statMeta(rel: string, st: BigIntStats, type: EntryType, ids: IdMaps): EntryMeta {
  const uid = Number(st.uid)
  const gid = Number(st.gid)
  return {
    path: rel, type, mode: Number(st.mode) & 0o7777, uid, gid, uname: ids.userName(uid), gname: ids.groupName(gid),
    mtime: timeOf(st.mtimeNs), ctime: timeOf(st.ctimeNs), size: type === 'file' ? Number(st.size) : 0,
    dev: String(st.dev), ino: String(st.ino), xattrs: [],
  }
}

export function metaOf(rel: string, abs: string, st: BigIntStats, type: EntryType, ids: IdMaps,
  warn: (m: string) => void): EntryMeta {
  const meta = statMeta(rel, st, type, ids)
  meta.xattrs = readXattrs(abs, warn, rel)
  const access = meta.xattrs.find(([n]) => n === 'system.posix_acl_access')
  const dflt = meta.xattrs.find(([n]) => n === 'system.posix_acl_default')
  if (access || dflt) {
    meta.tarAcl = {}
    if (access) meta.tarAcl.access = aclText(access[1], ids)
    if (dflt) meta.tarAcl.default = aclText(dflt[1], ids)
  }
  if (type === 'symlink') {
    // Octets too: a target that is not UTF-8 is kept as it is, like a name.
    meta.linkpath = fsToName(readlinkSync(nameToFs(abs), 'buffer'))
  }
  if (type === 'chardev' || type === 'blockdev') [meta.devmajor, meta.devminor] = sys().devSplit(Number(st.rdev))
  return meta
}
