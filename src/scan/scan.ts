// bt-scan's engine: walks a tree and encodes every entry into a backtory
// stream. A sync generator of Buffers; the caller supplies backpressure by
// pulling (Readable.from), so memory stays constant whatever the tree.
import { type BigIntStats, closeSync } from 'node:fs'
import { isErrno } from '../errors.js'
import { type EntryMeta, type EntryType, type StreamInfo } from '../format/frame.js'
import { StreamEncoder } from '../format/writer.js'
import { type Excluder } from './exclude.js'
import { changedSince, dataSegments, openRegular, readRanges } from './content.js'
import { type IdMaps } from './ids.js'
import { type BufferPool } from './pool.js'
import { metaOf, statMeta, typeOf } from './meta.js'
import { type WalkItem, walk } from './walk.js'
import { type IndexEntry, type IndexReader, quickEqual } from '../state/index.js'
import { IndexMerge, deletedMeta } from '../state/merge.js'

export interface ScanOptions {
  root: string
  info: StreamInfo
  exclude: Excluder
  oneFileSystem: boolean
  excludeCaches: boolean
  ids: IdMaps
  /** A recoverable problem: counted, and the run ends with exit 3. */
  warn(message: string): void
  /** Worth telling, not a problem (a skipped socket). */
  notice(message: string): void
  /** Where read buffers come from; the writer gives them back (pool.release) once written. */
  pool: BufferPool
  /** Absolute paths never to scan: the tool's own output file when it lies inside the tree. */
  skip?: Set<string>
  /**
   * The full's index (bt-scan --state): the scan is then a compact quick
   * stream (BACKTORY.unlisted=unchanged). A file whose size, mtime, ctime and
   * inode match the index is left out, its content not read; a path of the
   * index that the walk no longer finds gets a deleted record.
   */
  index?: IndexReader
  /**
   * scanWithCaptures: the owner of captured files, the uid and gid the commands
   * run as. Required when there are captures.
   */
  captureOwner?: { uid: number; gid: number }
  /** scanWithCaptures: the clock for a capture's mtime, in ms since the epoch (default Date.now). */
  now?: () => number
}

/**
 * Gathers small buffers (headers, small files) into one pooled batch, so that
 * 100k tiny files do not become 300k pipe writes; large chunks pass as they are.
 */
export class Batcher {
  private batch: Buffer | undefined
  private fill = 0

  constructor(private readonly pool: BufferPool) {}

  *push(b: Buffer): Generator<Buffer> {
    if (b.length >= 1 << 16) {
      yield* this.flush()
      yield b
      return
    }
    if (this.batch && this.fill + b.length > this.batch.length) yield* this.flush()
    this.batch ??= this.pool.acquire(this.pool.size)
    b.copy(this.batch, this.fill)
    this.fill += b.length
    this.pool.release(b) // copied and already hashed: a pooled read buffer is free again
  }

  *flush(): Generator<Buffer> {
    if (!this.batch || this.fill === 0) return
    const out = this.batch.subarray(0, this.fill)
    this.batch = undefined
    this.fill = 0
    yield out
  }
}

/**
 * The encoder, batcher and hard-link table of one scan, fed one walk item at a
 * time; scanStream drives it synchronously, scanWithCaptures (capture.ts)
 * interleaves captured files between items.
 */
/** What became of a walk item: in the stream, left out as the full has it, or dropped (a socket, unreadable, vanished). */
type Outcome = 'written' | 'unchanged' | 'dropped'

export class Scanner {
  readonly enc = new StreamEncoder()
  readonly out: Batcher
  private readonly links = new Map<string, string>()
  private readonly merge: IndexMerge | undefined

  constructor(private readonly opts: ScanOptions) {
    this.out = new Batcher(opts.pool)
    this.merge = opts.index ? new IndexMerge(opts.index) : undefined
  }

  /**
   * Reaches `path` in the index: deleted records for the paths of the full
   * before it that the walk did not find, and the full's entry for it, if any.
   * Every path the stream holds passes here, in stream order.
   */
  *place(path: string | undefined, type?: EntryType): Generator<Buffer, IndexEntry | undefined> {
    if (!this.merge) return undefined
    for (const e of this.merge.missing(path)) yield* this.deleted(e.path)
    return path === undefined ? undefined : this.merge.find(path, type)
  }

  private *deleted(path: string): Generator<Buffer> {
    yield* this.out.push(this.enc.entry(deletedMeta(path)))
    yield* this.out.push(this.enc.endEntry())
    this.merge!.markGone(path)
  }

  *header(): Generator<Buffer> {
    const { info, index } = this.opts
    // Checked against an index, the scan leaves out what is unchanged: the header must say so, or a reader would take it for deleted.
    yield* this.out.push(this.enc.header(index ? { ...info, unlisted: 'unchanged' } : info))
  }

  *trailer(): Generator<Buffer> {
    yield* this.place(undefined)
    yield* this.out.push(this.enc.trailer())
    yield* this.out.flush()
  }

  *item(item: WalkItem): Generator<Buffer> {
    const type = typeOf(item.st)
    const base = yield* this.place(item.rel, type)
    const outcome = yield* this.entry(item, type, base)
    // Not in the stream, so not as in the full either: as a full scan's absence would, it is gone.
    if (outcome === 'dropped' && base) yield* this.deleted(item.rel)
  }

  /** Non-files are always written (bt-delta leaves out those as in the full): few, and their check would read their xattrs anyway. */
  private *entry(item: WalkItem, type: EntryType | undefined, base: IndexEntry | undefined): Generator<Buffer, Outcome> {
    const { opts, enc, out } = this
    if (!type) {
      opts.notice(`skipped socket ${JSON.stringify(item.rel)}`)
      return 'dropped'
    }
    if (type === 'file') return yield* this.regularFile(item, base)
    let meta: EntryMeta
    try {
      meta = metaOf(item.rel, item.abs, item.st, type, opts.ids, opts.warn)
    } catch (err) {
      this.vanishedOrUnreadable(item.rel, err)
      return 'dropped'
    }
    const first = this.linkTarget(item, item.st)
    if (first !== undefined) Object.assign(meta, { type: 'hardlink', linkpath: first, devmajor: undefined, devminor: undefined })
    yield* out.push(enc.entry(meta))
    yield* out.push(enc.endEntry())
    return 'written'
  }

  private linkTarget(item: WalkItem, st: BigIntStats): string | undefined {
    if (st.nlink < 2n || st.isDirectory()) return undefined
    const key = `${st.dev}:${st.ino}`
    const first = this.links.get(key)
    if (first === undefined) this.links.set(key, item.rel)
    return first
  }

  private vanishedOrUnreadable(rel: string, err: unknown): void {
    const { opts } = this
    if (isErrno(err, 'ENOENT')) opts.warn(`${JSON.stringify(rel)} vanished during the scan`)
    else opts.warn(`cannot read ${JSON.stringify(rel)}: ${(err as Error).message}`)
  }

  private *regularFile(item: WalkItem, base: IndexEntry | undefined): Generator<Buffer, Outcome> {
    const { opts, enc, out } = this
    if (base) {
      // The walk's lstat decides; extended attributes are not read for a file
      // the check calls unchanged (a change to them changes the ctime anyway).
      const meta = statMeta(item.rel, item.st, 'file', opts.ids)
      if (quickEqual(meta, base)) {
        const first = this.linkTarget(item, item.st)
        // As in the full: the compact quick stream leaves it out.
        if (first === undefined) return 'unchanged'
        // A hard link travels as in a full scan, its attributes included.
        let link: EntryMeta
        try {
          link = metaOf(item.rel, item.abs, item.st, 'file', opts.ids, opts.warn)
        } catch (err) {
          this.vanishedOrUnreadable(item.rel, err)
          return 'dropped'
        }
        yield* out.push(enc.entry({ ...link, type: 'hardlink', linkpath: first, size: 0 }))
        yield* out.push(enc.endEntry())
        return 'written'
      }
    }
    let opened
    try {
      opened = openRegular(item.abs)
    } catch (err) {
      this.vanishedOrUnreadable(item.rel, err)
      return 'dropped'
    }
    const { fd, st } = opened
    try {
      if (!st.isFile() || st.ino !== item.st.ino) {
        opts.warn(`${JSON.stringify(item.rel)} was replaced during the scan; skipped`)
        return 'dropped'
      }
      const meta = metaOf(item.rel, item.abs, st, 'file', opts.ids, opts.warn)
      const first = this.linkTarget(item, st)
      if (first !== undefined) {
        Object.assign(meta, { type: 'hardlink', linkpath: first, size: 0 })
        yield* out.push(enc.entry(meta))
        yield* out.push(enc.endEntry())
        return 'written'
      }
      const sparse = dataSegments(fd, st)
      if (sparse) meta.sparse = sparse
      yield* out.push(enc.entry(meta))
      const reader = readRanges(fd, sparse ?? [[0, meta.size]], opts.pool)
      let r = reader.next()
      for (; !r.done; r = reader.next()) yield* out.push(enc.data(r.value))
      yield* out.push(enc.endEntry())
      const reason = r.value ?? (changedSince(st, fd) ? 'changed while being read' : undefined)
      if (reason) {
        opts.warn(`${JSON.stringify(item.rel)} ${reason}; its copy in the stream is marked incomplete`)
        yield* out.push(enc.incomplete(item.rel, reason))
      }
      return 'written'
    } finally {
      closeSync(fd)
    }
  }
}

export function* scanStream(opts: ScanOptions): Generator<Buffer> {
  const s = new Scanner(opts)
  yield* s.header()
  for (const item of walk(opts.root, { ...opts })) yield* s.item(item)
  yield* s.trailer()
}
