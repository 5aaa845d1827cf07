// POSIX ACLs travel as their exact binary xattrs (system.posix_acl_*), which
// bt-restore sets back. GNU tar and bsdtar ignore those and read star's text
// form (SCHILY.acl.*) instead, so the scanner writes that too, for them only.
import { type IdMaps } from './ids.js'

const TAGS: Record<number, string> = { 1: 'user', 2: 'user', 4: 'group', 8: 'group', 16: 'mask', 32: 'other' }
const NAMED = new Set([2, 8])

/** star's text: "user::rw-,user:nobody:r--:65534,group::r--,mask::r--,other::---"; undefined if malformed. */
export function aclText(buf: Buffer, ids: IdMaps): string | undefined {
  if (buf.length < 4 || buf.readUInt32LE(0) !== 2 || (buf.length - 4) % 8 !== 0) return undefined
  const parts: string[] = []
  for (let off = 4; off < buf.length; off += 8) {
    const tag = buf.readUInt16LE(off)
    const perm = buf.readUInt16LE(off + 2)
    const id = buf.readUInt32LE(off + 4)
    const kind = TAGS[tag]
    if (!kind) return undefined
    const rwx = `${perm & 4 ? 'r' : '-'}${perm & 2 ? 'w' : '-'}${perm & 1 ? 'x' : '-'}`
    if (NAMED.has(tag)) {
      const name = (tag === 2 ? ids.userName(id) : ids.groupName(id)) || String(id)
      parts.push(`${kind}:${name}:${rwx}:${id}`)
    } else {
      parts.push(`${kind}::${rwx}`)
    }
  }
  return parts.join(',')
}
