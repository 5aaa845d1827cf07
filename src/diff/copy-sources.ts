// Where each content of the full lives, for copy and rename detection: the
// first file of the index with a given SHA-256, looked up by the content hash
// of a file that is new or changed. Held as an open-addressing table of the
// hash's first 64 bits and the byte offset of that file's index line (16 bytes
// a slot, so about 21 bytes a file), not as a Map of whole index entries: that
// cost some 3 KiB a file, 200 MiB and more on large trees, for the whole run.
// A hit reads its line back and checks the whole hash, so a 64-bit collision
// costs a lookup, never a wrong copy.
import { closeSync, openSync, readSync } from 'node:fs'
import { stateIoError } from '../state/errors.js'
import { type IndexEntry, parseEntry } from '../state/index.js'

export class CopySources {
  private k0 = new Uint32Array(1 << 10)
  private k1 = new Uint32Array(1 << 10)
  // Line offset + 1; 0 marks an empty slot.
  private at = new Float64Array(1 << 10)
  private used = 0
  private readonly fd: number

  /** Reads the index once, keeping the first file of each content that `wanted` accepts. */
  constructor(private readonly indexPath: string, stateDir: string, wanted: (e: IndexEntry) => boolean) {
    try {
      this.fd = openSync(indexPath, 'r')
    } catch (err) {
      throw stateIoError('read', indexPath, stateDir, err)
    }
    const buf = Buffer.allocUnsafe(1 << 16)
    let rest = Buffer.alloc(0)
    let off = 0 // file offset of rest[0]
    for (;;) {
      const n = readSync(this.fd, buf, 0, buf.length, null)
      const b = rest.length === 0 ? buf.subarray(0, n) : Buffer.concat([rest, buf.subarray(0, n)])
      let from = 0
      for (let nl = b.indexOf(0x0a); nl !== -1; nl = b.indexOf(0x0a, from)) {
        const e = parseEntry(b.toString('utf8', from, nl), indexPath)
        if (e.sha256 && wanted(e)) this.add(e.sha256, off + from)
        from = nl + 1
      }
      off += from
      rest = Buffer.from(b.subarray(from))
      if (n === 0) break
    }
  }

  /** The first file of the full with this content (hex SHA-256), if any. */
  get(sha: string): IndexEntry | undefined {
    const [a, b] = key(sha)
    const mask = this.at.length - 1
    for (let i = slot(a, b, mask); this.at[i] !== 0; i = (i + 1) & mask) {
      if (this.k0[i] === a && this.k1[i] === b) {
        const e = this.lineAt(this.at[i]! - 1)
        return e.sha256 === sha ? e : undefined
      }
    }
    return undefined
  }

  /** Bytes the table holds, whatever the entries' paths: 16 a slot. */
  get bytes(): number {
    return this.k0.byteLength + this.k1.byteLength + this.at.byteLength
  }

  close(): void {
    closeSync(this.fd)
  }

  private add(sha: string, offset: number): void {
    const [a, b] = key(sha)
    const mask = this.at.length - 1
    let i = slot(a, b, mask)
    for (; this.at[i] !== 0; i = (i + 1) & mask) if (this.k0[i] === a && this.k1[i] === b) return // the first one stays
    this.k0[i] = a
    this.k1[i] = b
    this.at[i] = offset + 1
    if (++this.used * 4 > this.at.length * 3) this.grow()
  }

  private grow(): void {
    const { k0, k1, at } = this
    this.k0 = new Uint32Array(k0.length * 2)
    this.k1 = new Uint32Array(k1.length * 2)
    this.at = new Float64Array(at.length * 2)
    const mask = this.at.length - 1
    for (let j = 0; j < at.length; j++) {
      if (at[j] === 0) continue
      let i = slot(k0[j]!, k1[j]!, mask)
      while (this.at[i] !== 0) i = (i + 1) & mask
      this.k0[i] = k0[j]!
      this.k1[i] = k1[j]!
      this.at[i] = at[j]!
    }
  }

  private lineAt(offset: number): IndexEntry {
    const parts: Buffer[] = []
    for (let pos = offset; ;) {
      const b = Buffer.allocUnsafe(4096)
      const n = readSync(this.fd, b, 0, b.length, pos)
      const nl = b.subarray(0, n).indexOf(0x0a)
      parts.push(b.subarray(0, nl === -1 ? n : nl))
      if (nl !== -1 || n === 0) break
      pos += n
    }
    return parseEntry(Buffer.concat(parts).toString('utf8'), this.indexPath)
  }
}

function key(sha: string): [number, number] {
  return [parseInt(sha.slice(0, 8), 16) >>> 0, parseInt(sha.slice(8, 16), 16) >>> 0]
}

function slot(a: number, b: number, mask: number): number {
  return (a ^ Math.imul(b, 0x9e3779b1)) & mask
}
