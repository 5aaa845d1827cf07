// The one order every stream, index and walk shares: depth first, the root
// first, names compared bytewise within a directory. Plain string comparison
// of whole paths is not it: "a-c" sorts before "a/b" as a string, after it here.
// A name's octets are compared, escaped ones (format/fsname.ts) included.
import { nameBytes } from '../format/fsname.js'

export function comparePaths(a: string, b: string): number {
  if (a === b) return 0
  if (a === '.') return -1
  if (b === '.') return 1
  const ca = a.split('/')
  const cb = b.split('/')
  const n = Math.min(ca.length, cb.length)
  for (let i = 0; i < n; i++) {
    if (ca[i] === cb[i]) continue
    return Buffer.compare(nameBytes(ca[i]!), nameBytes(cb[i]!))
  }
  return ca.length - cb.length
}
