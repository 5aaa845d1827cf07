// A temporary file that holds one entry's output until its size and kind are
// known: a tar header states the size before the data, and a pipe cannot seek.
// Its directory is named for the process (bt-delta-PID-XXXXXX), so a later run
// can tell the spool of a killed run from that of a live one and remove it.
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { removeDeadRuns } from '../sys/dead-runs.js'
import { writeAll } from '../sys/io.js'
import { tmpIoError } from '../state/errors.js'

const OURS = /^bt-delta-(\d+)-[A-Za-z0-9]{6}$/
/** Spools of older versions carry no pid: removed once a day old. */
const UNNAMED = /^bt-delta-[A-Za-z0-9]{6}$/
const DAY = 24 * 3600_000

export class Spool {
  private readonly dir: string
  private readonly fd: number
  size = 0

  constructor(pid: number, private readonly base = tmpdir()) {
    try {
      this.dir = mkdtempSync(`${base}/bt-delta-${pid}-`)
      this.fd = openSync(`${this.dir}/spool`, 'w+', 0o600)
    } catch (err) {
      throw tmpIoError(base, err)
    }
  }

  reset(): void {
    ftruncateSync(this.fd, 0)
    this.size = 0
  }

  write(b: Buffer): void {
    try {
      writeAll(this.fd, b, 0, b.length, this.size)
    } catch (err) {
      throw tmpIoError(this.base, err)
    }
    this.size += b.length
  }

  *read(chunk = 1 << 20): Generator<Buffer> {
    for (let pos = 0; pos < this.size;) {
      const b = Buffer.allocUnsafe(Math.min(chunk, this.size - pos))
      const n = readSync(this.fd, b, 0, b.length, pos)
      if (n === 0) throw new Error('spool file shrank while being read')
      yield n === b.length ? b : b.subarray(0, n)
      pos += n
    }
  }

  close(): void {
    closeSync(this.fd)
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/**
 * Removes the spools in `base` that killed runs of this user left: those
 * whose process is gone. Even a mistaken removal would not hurt a live run,
 * which reads and writes its spool through an open descriptor.
 */
export function removeStaleSpools(base: string, uid: number, alive: (pid: number) => boolean, now = Date.now()): string[] {
  const runOf = (n: string) => {
    const m = OURS.exec(n)
    return m ? Number(m[1]) : UNNAMED.test(n) ? 'old' as const : undefined
  }
  return removeDeadRuns(base, runOf, { uid, alive, now, maxAgeMs: DAY })
}
