// Decodes a backtory stream into typed frames, enforcing every rule of
// backtory-stream(5): header first, chain digest at every frame, trailer last,
// nothing after it. Entry bodies are pulled lazily, so memory stays constant.
// The parts of a captured file are handed on as one entry (see run.ts).
// Versions 1 and 2 differ only in where the header, notes and trailer live
// (their own g frames, or the x headers of members); consumers see the same frames.
import {
  DigestMismatchError, FrameError, NotAStreamError, type Place, TrailingDataError, TruncatedStreamError,
} from '../errors.js'
import { ByteSource } from './bytes.js'
import { decodeGlobal, decodeHeader, decodeNote, decodeTrailer, tarRecordsDigest } from './control.js'
import {
  type CapturePart, type EntryMeta, type Frame, type HeaderFrame, type IncompleteFrame, type StreamInfo, type TrailerFrame,
  chainOf, decodeEntry, decodePart, storedSize, text,
} from './frame.js'
import { RunBody } from './run.js'
import { SparseMapDecoder, dataBytes } from './sparse.js'
import { BLOCK, type PaxRecords, checkPaxSize, decodePax, decodeUstar, isZeroBlock, padding } from './tarblock.js'

export interface ReadOptions {
  /** Largest pax header accepted, in bytes (tar-stream has no such cap; we must). */
  maxHeader?: number
}

export const DEFAULT_MAX_HEADER = 1 << 20

const DONE: Promise<IteratorResult<Buffer>> = Promise.resolve({ done: true, value: undefined })

export class Body implements AsyncIterable<Buffer> {
  constructor(private readonly src: ByteSource, public remaining: number, private readonly path: string) {}

  // A plain iterator, not an async generator: a small file's one chunk is
  // usually buffered already, and is handed over without a generator's machinery.
  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return { next: () => this.next() }
  }

  private next(): Promise<IteratorResult<Buffer>> {
    if (this.remaining <= 0) return DONE
    const c = this.src.takeSync(Math.min(this.remaining, 1 << 20))
    if (c === undefined) return this.nextSlow()
    this.remaining -= c.length
    return Promise.resolve({ done: false, value: c })
  }

  private async nextSlow(): Promise<IteratorResult<Buffer>> {
    const c = await this.src.take(Math.min(this.remaining, 1 << 20))
    if (c.length === 0) throw new TruncatedStreamError(`ends inside the data of ${JSON.stringify(this.path)}`)
    this.remaining -= c.length
    return { done: false, value: c }
  }

  /** Skips what of the data is buffered; true when none is left. */
  drainSync(): boolean {
    if (this.remaining > 0) this.remaining -= this.src.skipSync(this.remaining)
    return this.remaining === 0
  }

  async drain(): Promise<void> {
    if (this.drainSync()) return
    const got = await this.src.skip(this.remaining)
    if (got < this.remaining) throw new TruncatedStreamError(`ends inside the data of ${JSON.stringify(this.path)}`)
    this.remaining = 0
  }
}

/** An entry frame as read, before it is handed on: its data still unread. */
export interface EntryHead {
  meta: EntryMeta
  /** The stored bytes after the sparse map: the content. */
  body: Body
  part: CapturePart | undefined
  /** Where its entry block starts, for messages. */
  where: Place
  /** Version 2: the incomplete note its x header carries, about the entry before it. */
  note?: IncompleteFrame
  /** Reads the rest of its data and its padding. */
  finish(): Promise<void>
  /** finish() when what is left is buffered already; false if it must be awaited. */
  finishSync(): boolean
}

class Entry implements EntryHead {
  note?: IncompleteFrame
  constructor(
    readonly meta: EntryMeta, readonly body: Body, readonly part: CapturePart | undefined, readonly where: Place,
    readonly block: Buffer, private readonly src: ByteSource, private pad: number,
  ) {}

  finishSync(): boolean {
    if (!this.body.drainSync()) return false
    if (this.pad > 0) this.pad -= this.src.skipSync(this.pad)
    return this.pad === 0
  }

  async finish(): Promise<void> {
    if (this.finishSync()) return
    await this.body.drain()
    if ((await this.src.skip(this.pad)) < this.pad) throw new TruncatedStreamError(`ends inside the padding of ${JSON.stringify(this.meta.path)}`)
    this.pad = 0
  }
}

/** Where a frame lies, made into text only for a message. */
class At {
  constructor(private readonly frame: number, private readonly byte: number, private readonly after: string) {}

  toString(): string {
    return `frame ${this.frame} (byte ${this.byte}${this.after ? `, after ${JSON.stringify(this.after)}` : ''})`
  }
}

export type Head = { global: IncompleteFrame | TrailerFrame; at: number; where: Place; note?: IncompleteFrame } | EntryHead

export async function* readFrames(source: AsyncIterable<Buffer | string>, opts: ReadOptions = {}): AsyncGenerator<Frame> {
  const maxHeader = opts.maxHeader ?? DEFAULT_MAX_HEADER
  const src = new ByteSource(source)
  let info: StreamInfo | undefined
  let entries = 0
  let incompletes = 0
  let frameNo = 0
  let lastPath = ''
  /** The path of a capture whose last part was just read: a part after it is out of place. */
  let ended: string | undefined
  /** The entry an incomplete note may flag now: the one just read, if no note flagged it yet. */
  let noteable: string | undefined
  /** Version 2: what the end member must repeat of the root entry. */
  let root: { block: Buffer; records: string } | undefined

  const where = (at: number) => new At(frameNo, at, lastPath)

  const readBlock = async (at: number, what: string): Promise<Buffer> => {
    const b = src.exactSync(BLOCK) ?? await src.exact(BLOCK)
    if (b.length === BLOCK) return b
    if (b.length === 0 && at === 0) throw new TruncatedStreamError('the input is empty')
    // A few bytes that do not even start like a header frame are not a cut stream.
    if (at === 0 && !b.subarray(0, 15).equals(Buffer.from('BACKTORY.header').subarray(0, Math.min(15, b.length)))) {
      throw new NotAStreamError(`${b.length} bytes that do not start a header frame`)
    }
    if (b.length === 0) throw new TruncatedStreamError(`ends after ${entries} entries without a trailer`)
    throw new TruncatedStreamError(`ends inside ${what} at byte ${at}`)
  }

  const readPax = async (size: number, at: number) => {
    checkPaxSize(size, maxHeader)
    const n = size + padding(size)
    const body = src.exactSync(n) ?? await src.exact(n)
    if (body.length < n) throw new TruncatedStreamError(`ends inside a pax header at byte ${at}`)
    // The trailer's padding is covered by no digest, so every pax padding must be zeros.
    for (let i = size; i < n; i++) if (body[i] !== 0) throw new FrameError(where(at), 'non-zero padding after a pax header')
    return decodePax(body.subarray(0, size), where(at))
  }

  /** The header frame; in version 2 also the root entry, whose x header carries it. */
  const readHeader = async (): Promise<{ header: HeaderFrame; first?: EntryHead }> => {
    const block = await readBlock(0, 'a header')
    frameNo++
    if (isZeroBlock(block)) throw new NotAStreamError('it starts with an empty tar block')
    let u
    try {
      u = decodeUstar(block, where(0))
    } catch {
      throw new NotAStreamError('no tar header where the header frame belongs')
    }
    if (u.typeflag !== 'g' && u.typeflag !== 'x') throw new NotAStreamError('no header frame')
    const pax = await readPax(u.size, 0)
    const kind = text(pax, 'BACKTORY.kind')
    if (kind === undefined) throw new NotAStreamError(u.typeflag === 'g' ? 'the first global header is not backtory\'s' : 'a pax archive whose first header is not backtory\'s')
    if (kind !== 'header') throw new NotAStreamError(`it starts with a ${kind} frame`)
    const header = u.typeflag === 'g' ? decodeGlobal(pax, where(0)) as HeaderFrame : decodeHeader(pax, 'x', where(0))
    if (header.info.version === '1') return { header }
    const first = await readEntry(header.info, pax, header.info.version)
    if (first.meta.path !== '.') throw new FrameError(first.where, `the first entry is ${JSON.stringify(first.meta.path)}: a version 2 stream starts with its root "."`)
    root = { block: first.block, records: tarRecordsDigest(pax) }
    return { header, first }
  }

  /** The entry block after an x header, and what follows it up to the content. */
  const readEntry = async (s: StreamInfo, pax: PaxRecords, version: string): Promise<Entry> => {
    const entryAt = src.consumed
    const ub = await readBlock(entryAt, 'an entry header')
    const before = where(entryAt)
    if (isZeroBlock(ub)) throw new FrameError(before, 'pax header not followed by an entry')
    const eu = decodeUstar(ub, before)
    const meta = decodeEntry(eu, pax, before, version)
    if (meta.op && !(s.stream === 'diff' || (s.stream === 'quick' && (meta.op === 'unchanged' || (meta.op === 'deleted' && s.unlisted === 'unchanged'))))) {
      throw new FrameError(before, `an op ${JSON.stringify(meta.op)} record in a ${s.stream} stream`)
    }
    lastPath = meta.path
    // Messages from here on name the entry itself as the one the frame comes after (as they always have).
    const here = where(entryAt)
    const stored = storedSize(eu, pax, here)
    let content = stored
    if (meta.sparse) {
      const dec = new SparseMapDecoder(here, meta.size)
      for (;;) {
        const mb = await readBlock(src.consumed, 'a sparse map')
        const segs = dec.push(mb)
        if (segs) {
          meta.sparse = segs
          break
        }
      }
      content -= dec.blocks * BLOCK
      if (content !== dataBytes(meta.sparse)) throw new FrameError(here, 'sparse data size does not match its map')
    } else if (meta.type !== 'file' && stored !== 0) {
      throw new FrameError(here, `${meta.type} entry with ${stored} bytes of data`)
    }
    const part = decodePart(pax, meta, here)
    if (part && s.stream === 'diff') throw new FrameError(here, 'a capture\'s part in a diff stream, which stores every file whole')
    entries++
    return new Entry(meta, new Body(src, content, meta.path), part, here, ub, src, padding(stored))
  }

  /** The next frame after the header, its chain checked; an entry's data is left unread. */
  const readHead = async (s: StreamInfo): Promise<Head> => {
    const at = src.consumed
    const chain = src.digest()
    const block = await readBlock(at, 'a header')
    frameNo++
    if (isZeroBlock(block)) throw new TruncatedStreamError(`end-of-archive marker at byte ${at} before the trailer`)
    const u = decodeUstar(block, where(at))
    const v1 = s.version === '1'
    if (u.typeflag !== 'x' && !(v1 && u.typeflag === 'g')) {
      throw new FrameError(where(at), u.typeflag === 'g' ? 'a typeflag g block in a version 2 stream' : 'entry without a pax header (not written by backtory)')
    }
    const pax = await readPax(u.size, at)
    const claimed = chainOf(pax)
    if (claimed === undefined) throw new FrameError(where(at), 'frame lacks BACKTORY.chain')
    if (claimed !== chain) throw new DigestMismatchError(where(at))
    if (u.typeflag === 'g') {
      const f = decodeGlobal(pax, where(at))
      if (f.kind === 'header') throw new FrameError(where(at), 'a second header frame')
      return { global: f, at, where: where(at) }
    }
    const note = v1 ? undefined : decodeNote(pax, where(at))
    const kind = v1 ? undefined : text(pax, 'BACKTORY.kind')
    if (kind === 'trailer') {
      const global = decodeTrailer(pax, where(at))
      await readEnd(pax, at)
      return { global, at, where: where(at), ...(note ? { note } : {}) }
    }
    if (kind === 'header') throw new FrameError(where(at), 'a second header frame')
    if (kind !== undefined) throw new FrameError(where(at), `unknown frame kind ${JSON.stringify(kind)}`)
    const h = await readEntry(s, pax, s.version)
    if (note) h.note = note
    return h
  }

  /** Version 2: the end member is the root's entry block again, with the root's tar records. */
  const readEnd = async (pax: PaxRecords, at: number): Promise<void> => {
    const b = await readBlock(src.consumed, 'the end member')
    if (!b.equals(root!.block)) throw new FrameError(where(at), 'the trailer\'s member is not the root entry\'s header block repeated octet for octet')
    if (tarRecordsDigest(pax) !== root!.records) throw new FrameError(where(at), 'the trailer\'s member has tar records (path, ids, times, xattrs) other than the root entry\'s')
  }

  const note = (f: IncompleteFrame, at: Place): IncompleteFrame => {
    if (noteable === undefined) throw new FrameError(at, `an incomplete note about ${JSON.stringify(f.path)} that follows no entry`)
    if (f.path !== noteable) throw new FrameError(at, `an incomplete note about ${JSON.stringify(f.path)} after the entry ${JSON.stringify(noteable)}: a note names the entry it follows`)
    noteable = undefined
    incompletes++
    return f
  }

  try {
    const { header, first } = await readHeader()
    info = header.info
    yield header
    let pending: Head | undefined = first
    for (;;) {
      const h: Head = pending ?? await readHead(info)
      pending = undefined
      if (h.note) yield note(h.note, h.where)
      else if (!('global' in h && h.global.kind === 'incomplete')) noteable = undefined
      if ('global' in h) {
        ended = undefined
        const f = h.global
        if (f.kind === 'incomplete') {
          yield note(f, h.where)
          continue
        }
        if (f.bytes !== h.at) throw new FrameError(where(h.at), `trailer counts ${f.bytes} bytes, the stream had ${h.at}`)
        if (f.entries !== entries || f.incomplete !== incompletes) {
          throw new FrameError(where(h.at), `trailer counts ${f.entries} entries and ${f.incomplete} incomplete, the stream had ${entries} and ${incompletes}`)
        }
        const eoa = await src.exact(2 * BLOCK)
        if (eoa.length < 2 * BLOCK) throw new TruncatedStreamError('the end-of-archive marker after the trailer is missing')
        if (!isZeroBlock(eoa.subarray(0, BLOCK)) || !isZeroBlock(eoa.subarray(BLOCK))) {
          throw new TrailingDataError(`non-zero bytes right after the trailer at byte ${src.consumed - 2 * BLOCK}`)
        }
        if (!(await src.atEnd())) throw new TrailingDataError(`more bytes after the end-of-archive marker at byte ${src.consumed}`)
        yield f
        return
      }
      if (h.part && h.part.index !== 0) {
        throw new FrameError(h.where, `part ${h.part.index} of ${JSON.stringify(h.meta.path)} ${ended === h.meta.path ? 'after its last part' : 'without part 0 before it'}`)
      }
      ended = undefined
      if (!h.part?.more) {
        if (h.part) h.meta.capture = { parts: 1 }
        yield { kind: 'entry', meta: h.meta, body: h.body }
        if (!h.finishSync()) await h.finish()
        if (h.part) ended = h.meta.path
        noteable = h.meta.path
        continue
      }
      const run = new RunBody(h, () => readHead(info!))
      yield { kind: 'entry', meta: h.meta, body: run }
      await run.drain()
      ended = h.meta.path
      noteable = h.meta.path
    }
  } finally {
    // On success the source is at its end; on failure it must be released all the same.
    await src.close()
  }
}
