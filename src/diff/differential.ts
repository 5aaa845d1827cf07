// bt-delta's differential: reads a fresh stream, looks every path up in the
// full's index (a merge join in stream order), and writes a compact "diff"
// stream (BACKTORY.unlisted=unchanged, backtory-stream(5)): unchanged files and
// untouched directories cost nothing, a path of the full that is gone costs a
// deleted record, changed files an rsync delta, moved or copied ones a
// reference, and only new content travels literally.
import { type Frame, type EntryFrame, type EntryMeta, type StreamInfo } from '../format/frame.js'
import { StreamEncoder } from '../format/writer.js'
import { BtError, EXIT, InputError } from '../errors.js'
import { DeltaDecoder } from '../delta/format.js'
import { DeltaEncoder } from '../delta/match.js'
import { decodeSignature } from '../delta/signature.js'
import { type IndexEntry, type IndexReader, metaDigest, quickEqual } from '../state/index.js'
import { IndexMerge, deletedMeta, isBelow } from '../state/merge.js'
import { type State } from '../state/store.js'
import { CopySources } from './copy-sources.js'
import { contentHasher } from './index-full.js'
import { Spool } from './spool.js'
import { Summary } from './summary.js'

/** Copies of files smaller than this are sent literally: a reference would save little and the lookup table costs memory. */
export const COPY_MIN = 4096

export interface DiffOptions {
  state: State
  index: IndexReader
  /** Compare content hashes instead of trusting size, mtime, ctime and inode. */
  checksum: boolean
  summary: Summary
  tmpdir?: string
  /** Names the spool directory, so that a later run can tell whether its owner is alive. */
  pid: number
}

/** The files of the full that a new file of at least COPY_MIN bytes may be a copy of. */
const copySource = (e: IndexEntry): boolean => e.type === 'file' && !e.sparse && e.size >= COPY_MIN

export async function* diffStream(frames: AsyncIterable<Frame>, o: DiffOptions): AsyncGenerator<Buffer> {
  const enc = new StreamEncoder()
  const sum = o.summary
  let sources: CopySources | undefined
  const spool = new Spool(o.pid, o.tmpdir)
  // The input leaves out what is unchanged (a compact quick scan): a path of the index it skips is not gone.
  let inputCompact = false
  // Directories whose metadata is as in the full, held back until something below them is written:
  // the ancestors of the current path only, so their number is bounded by the tree's depth.
  let held: EntryMeta[] = []
  // Finds the paths of the full that the input no longer has.
  const merge = new IndexMerge(o.index)
  // The entry last written, which an incomplete note may flag; undefined after an entry left out.
  let written: string | undefined
  const emit = function* (b: Buffer): Generator<Buffer> {
    sum.streamBytes += b.length
    if (b.length > 0) yield b
  }
  try {
    for await (const f of frames) {
      switch (f.kind) {
        case 'header': {
          const kind = f.info.stream
          if (kind !== 'full' && kind !== 'quick') {
            throw new InputError('BT_STREAM_KIND', `bt-delta makes differentials of full scans; the input is a ${JSON.stringify(kind)} stream`,
              'pipe bt-scan (or bt-snap) output into bt-delta')
          }
          if (kind === 'quick' && o.checksum) {
            throw new InputError('BT_STREAM_KIND', '--checksum cannot re-check files that bt-scan --state already marked unchanged',
              'run bt-scan without --state when you want --checksum')
          }
          if (kind === 'quick' && f.info.base !== o.state.full.id) {
            throw new InputError('BT_WRONG_BASE', `the scan was quick-checked against full ${f.info.base}, but the state holds full ${o.state.full.id}`,
              'give bt-scan and bt-delta the same --state directory')
          }
          inputCompact = kind === 'quick' && f.info.unlisted === 'unchanged'
          const info: StreamInfo = { ...f.info, stream: 'diff', base: o.state.full.id, baseIndex: o.state.full.index, unlisted: 'unchanged' }
          yield* emit(enc.header(info))
          break
        }
        case 'incomplete':
          // A note flags the entry before it; one left out (its content equals the full's) has nothing to flag here.
          if (f.path === written) yield* emit(enc.incomplete(f.path, f.reason))
          break
        case 'trailer':
          yield* deletionsBefore(undefined)
          yield* emit(enc.trailer())
          return
        case 'entry':
          yield* deletionsBefore(f.meta.path)
          yield* entry(f)
      }
    }
  } finally {
    spool.close()
    sources?.close()
  }

  /** Deleted records for the paths of the full that sort before `path` and that the input skipped. */
  function* deletionsBefore(path: string | undefined): Generator<Buffer> {
    for (const e of merge.missing(path)) {
      // A compact scan left it out as unchanged (it names what is gone itself).
      if (!inputCompact) yield* deleted(e.path)
      else if (e.type !== 'directory') sum.add('unchanged')
    }
  }

  function* deleted(path: string): Generator<Buffer> {
    yield* write(deletedMeta(path))
    sum.add('deleted')
    merge.markGone(path)
  }

  /** Writes an entry without content, after the held directories above it. */
  function* write(meta: EntryMeta): Generator<Buffer> {
    yield* release(meta.path)
    // A record without content carries no sparse map either: the full holds the data.
    yield* emit(enc.entry(meta.op ? { ...meta, sparse: undefined } : meta))
    yield* emit(enc.endEntry())
    written = meta.path
  }

  /** Writes the held directories that hold `path`, outermost first, and forgets those that do not. */
  function* release(path: string): Generator<Buffer> {
    while (held.length > 0 && !isBelow(held[held.length - 1]!.path, path)) held.pop()
    const dirs = held
    held = []
    for (const d of dirs) {
      yield* emit(enc.entry(d))
      yield* emit(enc.endEntry())
      sum.add('other')
    }
  }

  function* plain(meta: EntryMeta, kind: 'meta' | 'other'): Generator<Buffer> {
    yield* write(meta)
    sum.add(kind)
  }

  /** An entry as in the full: the compact differential leaves it out. */
  function omit(): void {
    sum.add('unchanged')
    written = undefined
  }

  async function* entry(f: EntryFrame): AsyncGenerator<Buffer> {
    const m = f.meta
    const base = merge.find(m.path, m.type)
    if (m.type === 'directory') {
      if (m.path !== '.' && base?.type === 'directory' && base.meta === metaDigest(m)) {
        // Untouched so far: written only if something below it is (the restore then sets its times again).
        while (held.length > 0 && !isBelow(held[held.length - 1]!.path, m.path)) held.pop()
        held.push(m)
        written = undefined
        return
      }
      yield* plain(m, 'other')
      return
    }
    if (m.type !== 'file') {
      // A hard link always travels: what it links to may have changed.
      if (m.type !== 'hardlink' && base?.type === m.type && base.meta === metaDigest(m)) omit()
      else yield* plain(m, 'other')
      return
    }
    if (m.op === 'deleted' && inputCompact) {
      // A compact scan names what is gone itself.
      yield* deleted(m.path)
      return
    }
    if (m.op === 'unchanged') {
      if (!base || base.type !== 'file') {
        throw new InputError('BT_WRONG_BASE', `the scan marked ${JSON.stringify(m.path)} unchanged, but the full's index has no such file`,
          'give bt-scan and bt-delta the same --state directory')
      }
      omit()
      return
    }
    if (m.op) throw new InputError('BT_STREAM_KIND', `the input already holds a differential record for ${JSON.stringify(m.path)}`)
    if (base && !o.checksum && quickEqual(m, base)) {
      omit()
      return
    }
    // Content travels: hash it, and against a base with a signature, encode a delta as it streams.
    const sig = base?.type === 'file' && !base.sparse && !m.sparse ? o.index.signature(base) : undefined
    let encoder: DeltaEncoder | undefined
    try {
      encoder = sig ? new DeltaEncoder(decodeSignature(sig)) : undefined
    } catch (err) {
      throw new BtError('BT_STATE', EXIT.FAILURE, `the signature of ${JSON.stringify(m.path)} in the state directory is damaged: ${(err as Error).message}`,
        ['rebuild the state from the stored full: bt-delta --state DIR --rebuild-from FULL'])
    }
    const h = contentHasher(m.sparse)
    spool.reset()
    for await (const c of f.body) {
      h.update(c)
      if (encoder) for (const b of encoder.update(c)) spool.write(b)
      else spool.write(c)
    }
    if (encoder) for (const b of encoder.finish()) spool.write(b)
    const sha = h.digest('hex')
    if (base?.type === 'file' && base.sha256 === sha && !base.sparse === !m.sparse) {
      if (base.meta === metaDigest(m)) omit()
      else yield* plain({ ...m, op: 'meta' }, 'meta')
      return
    }
    if (!m.sparse && m.size >= COPY_MIN) {
      sources ??= new CopySources(`${o.state.gen}/index.jsonl`, o.state.dir, copySource)
      const src = sources.get(sha)
      if (src && src.size === m.size) {
        yield* write({ ...m, op: 'copy', from: src.path, sha256: sha })
        sum.add('copy')
        return
      }
    }
    // With any block matched the delta is the smaller (a copy op is 13 bytes for at least a block),
    // except for a lone short tail block, where it is a few bytes larger: not worth a second pass.
    if (encoder && encoder.stats.copyOps > 0) {
      yield* release(m.path)
      yield* emit(enc.entry({ ...m, op: 'delta', deltaSize: spool.size, baseSha256: base!.sha256!, sha256: sha }))
      for (const c of spool.read()) yield* emit(enc.data(c))
      yield* emit(enc.endEntry())
      written = m.path
      sum.add('delta', spool.size)
      sum.deltaCovers += m.size
      return
    }
    // A literal: the spool holds the content, or a delta of literal ops only.
    yield* release(m.path)
    yield* emit(enc.entry(m))
    if (encoder) {
      const dec = new DeltaDecoder()
      for (const c of spool.read()) for (const op of dec.push(c)) if (op.kind === 'literal') yield* emit(enc.data(op.data))
      dec.end()
    } else {
      for (const c of spool.read()) yield* emit(enc.data(c))
    }
    yield* emit(enc.endEntry())
    written = m.path
    sum.add('literal', m.sparse ? spool.size : m.size)
  }
}
