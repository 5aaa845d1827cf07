// The full's index: one JSON line per entry, in stream order, plus the block
// signatures of regular files in a side file. Written once by bt-delta --full,
// read sequentially (a merge join in stream order) by bt-scan --state and
// bt-delta, so lookups cost no memory beyond one line.
import { createHash, type Hash, hash } from 'node:crypto'
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs'
import { type EntryMeta, type EntryType, formatTime } from '../format/frame.js'
import { writeAll } from '../sys/io.js'
import { LineReader } from './lines.js'
import { comparePaths } from './order.js'
import { BtError, EXIT } from '../errors.js'
import { stateIoError } from './errors.js'

export interface IndexEntry {
  path: string
  type: EntryType
  size: number
  mtime: string
  ctime?: string
  ino?: string
  /** Digest of everything but content: mode, owners, times, link target, xattrs. */
  meta: string
  /** Regular files: SHA-256 of the content (sparse files: of their map and data). */
  sha256?: string
  sparse?: boolean
  /** Regular, non-sparse files: where their encoded signature lies in sigs.bin. */
  sigOffset?: number
  sigLength?: number
}

export function metaDigest(m: EntryMeta): string {
  return hash('sha256', JSON.stringify([m.type, m.mode, m.uid, m.gid, m.uname, m.gname, formatTime(m.mtime), m.linkpath ?? null,
    m.devmajor ?? null, m.devminor ?? null, m.xattrs.map(([k, v]) => [k, v.toString('hex')])]))
}

/** The quick check: equal size, mtime, ctime and inode mean unchanged content (device numbers may differ). */
export function quickEqual(m: EntryMeta, e: IndexEntry): boolean {
  return e.type === 'file' && m.type === 'file' && m.size === e.size &&
    formatTime(m.mtime) === e.mtime && m.ctime !== undefined && formatTime(m.ctime) === e.ctime && m.ino === e.ino
}

/**
 * Bytes bound for one file, written some 256 KiB at a time: a write per
 * entry was a fifth of bt-delta --full's time on small files.
 */
class Spool {
  private readonly buf = Buffer.allocUnsafe(1 << 18)
  private fill = 0

  constructor(private readonly fd: number) {}

  add(b: Buffer | string): void {
    const n = typeof b === 'string' ? Buffer.byteLength(b) : b.length
    if (this.fill + n > this.buf.length) this.flush()
    if (n > this.buf.length) {
      writeAll(this.fd, typeof b === 'string' ? Buffer.from(b) : b)
      return
    }
    if (typeof b === 'string') this.buf.write(b, this.fill)
    else b.copy(this.buf, this.fill)
    this.fill += n
  }

  flush(): void {
    if (this.fill === 0) return
    const n = this.fill
    this.fill = 0
    writeAll(this.fd, this.buf, 0, n)
  }
}

export class IndexWriter {
  private readonly idx: number
  private readonly sigs: number
  private readonly idxOut: Spool
  private readonly sigsOut: Spool
  private sigBytes = 0
  private readonly hash: Hash = createHash('sha256')
  private last = ''
  count = 0

  constructor(private readonly indexPath: string, sigsPath: string, private readonly dir: string) {
    try {
      this.idx = openSync(indexPath, 'wx', 0o600)
      this.sigs = openSync(sigsPath, 'wx', 0o600)
    } catch (err) {
      throw stateIoError('write', indexPath, dir, err)
    }
    this.idxOut = new Spool(this.idx)
    this.sigsOut = new Spool(this.sigs)
  }

  private pending: { e: IndexEntry; signature?: Buffer } | undefined

  /**
   * Entries are written one behind, because an "incomplete" note about an
   * entry follows it in the stream and must reach its line (markIncomplete).
   */
  add(e: IndexEntry, signature?: Buffer): void {
    try {
      this.flush()
    } catch (err) {
      throw stateIoError('write', this.indexPath, this.dir, err)
    }
    this.pending = { e, signature }
  }

  /** The entry just added was read while changing: never let a quick check or a hash call it unchanged. */
  markIncomplete(path: string): void {
    if (this.pending?.e.path !== path) return
    delete this.pending.e.ctime
    delete this.pending.e.sha256
    delete this.pending.signature
  }

  private flush(): void {
    if (!this.pending) return
    const { e, signature } = this.pending
    this.pending = undefined
    this.write(e, signature)
  }

  private write(e: IndexEntry, signature?: Buffer): void {
    if (this.count > 0 && comparePaths(this.last, e.path) >= 0) throw new Error(`index out of order at ${JSON.stringify(e.path)}`)
    this.last = e.path
    if (signature) {
      this.sigsOut.add(signature)
      e.sigOffset = this.sigBytes
      e.sigLength = signature.length
      this.sigBytes += signature.length
      this.hash.update(signature)
    }
    const line = `${JSON.stringify(e)}\n`
    this.idxOut.add(line)
    this.hash.update(line, 'utf8')
    this.count++
  }

  /** Flushes to disk and returns the index digest. */
  close(): string {
    try {
      this.flush()
      this.idxOut.flush()
      this.sigsOut.flush()
      fsyncSync(this.idx)
      fsyncSync(this.sigs)
      closeSync(this.idx)
      closeSync(this.sigs)
    } catch (err) {
      throw stateIoError('write', this.indexPath, this.dir, err)
    }
    return this.hash.digest('hex')
  }

  abort(): void {
    for (const fd of [this.idx, this.sigs]) {
      try {
        closeSync(fd)
      } catch {
        // Already closed: aborting after close() is harmless.
      }
    }
  }
}


function damaged(file: string, detail: string): BtError {
  return new BtError('BT_STATE', EXIT.FAILURE, `the state file ${JSON.stringify(file)} is damaged: ${detail}`,
    ['rebuild the state from the stored full: bt-delta --state DIR --rebuild-from FULL'])
}

export function parseEntry(line: string, file: string): IndexEntry {
  let e: IndexEntry
  try {
    e = JSON.parse(line) as IndexEntry
  } catch {
    throw damaged(file, 'a line is not JSON')
  }
  if (typeof e.path !== 'string' || typeof e.type !== 'string' || typeof e.size !== 'number') throw damaged(file, 'a line lacks path, type or size')
  return e
}

/** Sequential reader with a forward-only find(), for lookups in stream order. */
export class IndexReader {
  private readonly lines: LineReader
  private readonly sigFd: number
  private current: IndexEntry | undefined
  private started = false
  private found: IndexEntry | undefined

  constructor(private readonly indexPath: string, private readonly sigsPath: string, dir: string) {
    try {
      this.lines = new LineReader(indexPath)
    } catch (err) {
      throw stateIoError('read', indexPath, dir, err)
    }
    try {
      this.sigFd = openSync(sigsPath, 'r')
    } catch (err) {
      this.lines.close()
      throw stateIoError('read', sigsPath, dir, err)
    }
  }

  private advance(): void {
    const line = this.lines.next()
    this.current = line === undefined || line === '' ? undefined : parseEntry(line, this.indexPath)
  }

  /** The entry for `path`, if any. Calls must come in stream order. */
  find(path: string): IndexEntry | undefined {
    if (!this.started) {
      this.started = true
      this.advance()
    }
    while (this.current && comparePaths(this.current.path, path) < 0) this.advance()
    this.found = this.current && this.current.path === path ? this.current : undefined
    return this.found
  }

  /**
   * The entries before `path` that find() has not reached yet, in order; the
   * cursor then rests on the first entry at or after `path` (undefined: the
   * end). For a merge join that must see what the other side lacks.
   */
  *before(path: string | undefined): Generator<IndexEntry> {
    if (!this.started) {
      this.started = true
      this.advance()
    }
    // What find() returned was on the other side too: not "before" anything.
    if (this.found && this.current === this.found) this.advance()
    this.found = undefined
    while (this.current && (path === undefined || comparePaths(this.current.path, path) < 0)) {
      const e = this.current
      this.advance()
      yield e
    }
  }

  /** Every entry, in order (a fresh pass over the file). */
  static *entries(indexPath: string): Generator<IndexEntry> {
    const lines = new LineReader(indexPath)
    try {
      for (let l = lines.next(); l; l = lines.next()) yield parseEntry(l, indexPath)
    } finally {
      lines.close()
    }
  }

  signature(e: IndexEntry): Buffer | undefined {
    if (e.sigOffset === undefined || e.sigLength === undefined) return undefined
    const b = Buffer.alloc(e.sigLength)
    let got = 0
    while (got < b.length) {
      const n = readSync(this.sigFd, b, got, b.length - got, e.sigOffset + got)
      if (n === 0) throw damaged(this.sigsPath, 'it is shorter than its index says')
      got += n
    }
    return b
  }

  close(): void {
    this.lines.close()
    closeSync(this.sigFd)
  }
}
