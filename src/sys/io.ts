import { writeSync } from 'node:fs'

/** writeSync until every byte is written (a write may be short); `pos` null means the file offset. */
export function writeAll(fd: number, b: Buffer, off = 0, len = b.length - off, pos: number | null = null): void {
  while (len > 0) {
    const n = writeSync(fd, b, off, len, pos)
    off += n
    len -= n
    if (pos !== null) pos += n
  }
}
