// What the stream declared at each path, for the plan's checks of paths that
// are no longer on its stack (a hard link's target, a symlink that a later
// entry would pass through). Held as a keyed 52-bit hash of the path in an
// open-addressing table of two Uint32Arrays: about 10 bytes a path at worst,
// where a Map of numbers costs some 70, so a million-file restore stays well
// inside the memory bound. A stream cannot aim at a collision: the key is random.
import { randomBytes } from 'node:crypto'

export type Kind = 'dir' | 'file' | 'symlink' | 'other'
const KINDS: readonly Kind[] = ['dir', 'file', 'symlink', 'other']

const [S1, S2] = [randomBytes(4).readUInt32LE(0), randomBytes(4).readUInt32LE(0)]

export class PathKinds {
  // Slot i: lo[i] = low 32 bits of the hash; hi[i] = (high 20 bits << 3) | (kind index + 1); 0 = empty.
  private lo = new Uint32Array(1 << 12)
  private hi = new Uint32Array(1 << 12)
  private used = 0

  get(path: string): Kind | undefined {
    const [h, l] = hash(path)
    const i = this.find(h, l)
    const v = this.hi[i]!
    return v === 0 ? undefined : KINDS[(v & 7) - 1]
  }

  set(path: string, kind: Kind): void {
    const [h, l] = hash(path)
    const i = this.find(h, l)
    if (this.hi[i] === 0) this.used++
    this.lo[i] = l
    this.hi[i] = ((h << 3) | (KINDS.indexOf(kind) + 1)) >>> 0
    if (this.used * 4 > this.lo.length * 3) this.grow()
  }

  /** The slot holding (h, l), or the empty slot where it belongs. */
  private find(h: number, l: number): number {
    const mask = this.lo.length - 1
    for (let i = (l ^ Math.imul(h, 0x9e3779b1)) & mask; ; i = (i + 1) & mask) {
      const v = this.hi[i]!
      if (v === 0 || (this.lo[i] === l && v >>> 3 === h)) return i
    }
  }

  private grow(): void {
    const { lo, hi } = this
    this.lo = new Uint32Array(lo.length * 2)
    this.hi = new Uint32Array(hi.length * 2)
    for (let j = 0; j < lo.length; j++) {
      if (hi[j] === 0) continue
      const i = this.find(hi[j]! >>> 3, lo[j]!)
      this.lo[i] = lo[j]!
      this.hi[i] = hi[j]!
    }
  }
}

/** Two FNV-style lanes, seeded: 20 high bits and 32 low bits. */
function hash(path: string): [number, number] {
  let a = S1 ^ 0x811c9dc5
  let b = S2 ^ 0x01000193
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 13)
  }
  return [b >>> 12, a >>> 0]
}
