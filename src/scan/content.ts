// Reads a regular file's content for the stream: finds holes with
// SEEK_DATA/SEEK_HOLE, and turns a file that shrinks, fails or changes while
// being read into zero-padded, flagged data rather than a broken stream.
import { type BigIntStats, closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { nameToFs } from '../format/fsname.js'
import { MAX_SEGMENTS } from '../format/sparse.js'
import { sys } from '../sys/native.js'
import { type BufferPool } from './pool.js'

export const CHUNK = 1 << 18

export function openRegular(abs: string): { fd: number; st: BigIntStats } {
  // O_NONBLOCK: should the path have become a FIFO since lstat, open must not hang.
  const fd = openSync(nameToFs(abs), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  try {
    return { fd, st: fstatSync(fd, { bigint: true }) }
  } catch (err) {
    closeSync(fd)
    throw err
  }
}

/** Data segments of a sparse file, or undefined to store it densely. */
export function dataSegments(fd: number, st: BigIntStats): Array<[number, number]> | undefined {
  const size = Number(st.size)
  if (size === 0 || st.blocks * 512n >= st.size) return undefined
  const segs: Array<[number, number]> = []
  try {
    for (let pos = 0; pos < size;) {
      const d = sys().seek(fd, pos, 0)
      if (d < 0 || d >= size) break
      const h = Math.min(sys().seek(fd, d, 1), size)
      segs.push([d, h - d])
      pos = h
      // One slot stays free for the trailing-hole marker below.
      if (segs.length >= MAX_SEGMENTS) return undefined
    }
  } catch {
    // No SEEK_DATA on this filesystem: store densely, which is always correct.
    return undefined
  }
  if (segs.length === 1 && segs[0]![0] === 0 && segs[0]![1] === size) return undefined
  const last = segs[segs.length - 1]
  // GNU tar's convention: a zero-length segment at the end marks a trailing hole.
  if (!last || last[0] + last[1] < size) segs.push([size, 0])
  return segs
}

function* zeros(n: number): Generator<Buffer> {
  for (let left = n; left > 0; left -= CHUNK) yield Buffer.alloc(Math.min(CHUNK, left))
}

/**
 * Yields exactly the bytes of `ranges`. Returns a reason when the data is not
 * what the file held (it shrank or a read failed); the gap is zero-filled.
 */
export function* readRanges(fd: number, ranges: Array<[number, number]>, pool: BufferPool): Generator<Buffer, string | undefined> {
  let reason: string | undefined
  for (const [off, len] of ranges) {
    let pos = off
    let left = len
    while (left > 0) {
      if (reason) {
        yield* zeros(left)
        break
      }
      const buf = pool.acquire(Math.min(CHUNK, left))
      let n: number
      try {
        n = readSync(fd, buf, 0, buf.length, pos)
      } catch (err) {
        reason = `read failed at byte ${pos}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`
        continue
      }
      if (n === 0) {
        reason = `shrank while being read (at byte ${pos} of ${off + len})`
        continue
      }
      yield n === buf.length ? buf : buf.subarray(0, n)
      pos += n
      left -= n
    }
  }
  return reason
}

export function changedSince(before: BigIntStats, fd: number): boolean {
  const after = fstatSync(fd, { bigint: true })
  return after.size !== before.size || after.mtimeNs !== before.mtimeNs || after.ctimeNs !== before.ctimeNs
}
