// Decodes a backtory stream into typed frames, enforcing every rule of
// backtory-stream(5): header first, chain digest at every frame, trailer last,
// nothing after it. Entry bodies are pulled lazily, so memory stays constant.
import {
  DigestMismatchError, FrameError, NotAStreamError, TrailingDataError, TruncatedStreamError,
} from '../errors.js'
import { ByteSource } from './bytes.js'
import { type EntryFrame, type Frame, type StreamInfo, chainOf, decodeEntry, decodeGlobal, storedSize } from './frame.js'
import { SparseMapDecoder, dataBytes } from './sparse.js'
import { BLOCK, checkPaxSize, decodePax, decodeUstar, isZeroBlock, padding } from './tarblock.js'

export interface ReadOptions {
  /** Largest pax header accepted, in bytes (tar-stream has no such cap; we must). */
  maxHeader?: number
}

export const DEFAULT_MAX_HEADER = 1 << 20

class Body implements AsyncIterable<Buffer> {
  constructor(private readonly src: ByteSource, public remaining: number, private readonly path: string) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    while (this.remaining > 0) {
      const c = await this.src.take(Math.min(this.remaining, 1 << 20))
      if (c.length === 0) throw new TruncatedStreamError(`ends inside the data of ${JSON.stringify(this.path)}`)
      this.remaining -= c.length
      yield c
    }
  }

  async drain(): Promise<void> {
    if (this.remaining === 0) return
    const got = await this.src.skip(this.remaining)
    if (got < this.remaining) throw new TruncatedStreamError(`ends inside the data of ${JSON.stringify(this.path)}`)
    this.remaining = 0
  }
}

export async function* readFrames(source: AsyncIterable<Buffer | string>, opts: ReadOptions = {}): AsyncGenerator<Frame> {
  const maxHeader = opts.maxHeader ?? DEFAULT_MAX_HEADER
  const src = new ByteSource(source)
  let info: StreamInfo | undefined
  let entries = 0
  let incompletes = 0
  let frameNo = 0
  let lastPath = ''

  const where = (at: number) => `frame ${frameNo} (byte ${at}${lastPath ? `, after ${JSON.stringify(lastPath)}` : ''})`

  const readBlock = async (at: number, what: string): Promise<Buffer> => {
    const b = await src.exact(BLOCK)
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
    const body = await src.exact(size + padding(size))
    if (body.length < size + padding(size)) throw new TruncatedStreamError(`ends inside a pax header at byte ${at}`)
    // The trailer's padding is covered by no digest, so every pax padding must be zeros.
    if (body.subarray(size).some((b) => b !== 0)) throw new FrameError(where(at), 'non-zero padding after a pax header')
    return decodePax(body.subarray(0, size), where(at))
  }

  try {
    for (;;) {
      const at = src.consumed
      const chain = src.digest()
      const block = await readBlock(at, 'a header')
      frameNo++
      if (isZeroBlock(block)) {
        if (!info) throw new NotAStreamError('it starts with an empty tar block')
        throw new TruncatedStreamError(`end-of-archive marker at byte ${at} before the trailer`)
      }
      let u
      try {
        u = decodeUstar(block, where(at))
      } catch (err) {
        if (!info) throw new NotAStreamError('no tar header where the header frame belongs')
        throw err
      }
      if (!info) {
        if (u.typeflag !== 'g') throw new NotAStreamError('no header frame')
        const pax = await readPax(u.size, at)
        if (!pax.has('BACKTORY.kind')) throw new NotAStreamError('the first global header is not backtory\'s')
        const f = decodeGlobal(pax, where(at))
        if (f.kind !== 'header') throw new NotAStreamError(`it starts with a ${f.kind} frame`)
        info = f.info
        yield f
        continue
      }
      if (u.typeflag !== 'x' && u.typeflag !== 'g') throw new FrameError(where(at), 'entry without a pax header (not written by backtory)')
      const pax = await readPax(u.size, at)
      const claimed = chainOf(pax)
      if (claimed === undefined) throw new FrameError(where(at), 'frame lacks BACKTORY.chain')
      if (claimed !== chain) throw new DigestMismatchError(where(at))

      if (u.typeflag === 'g') {
        const f = decodeGlobal(pax, where(at))
        if (f.kind === 'header') throw new FrameError(where(at), 'a second header frame')
        if (f.kind === 'incomplete') {
          incompletes++
          yield f
          continue
        }
        if (f.bytes !== at) throw new FrameError(where(at), `trailer counts ${f.bytes} bytes, the stream had ${at}`)
        if (f.entries !== entries || f.incomplete !== incompletes) {
          throw new FrameError(where(at), `trailer counts ${f.entries} entries and ${f.incomplete} incomplete, the stream had ${entries} and ${incompletes}`)
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

      const entryAt = src.consumed
      const ub = await readBlock(entryAt, 'an entry header')
      if (isZeroBlock(ub)) throw new FrameError(where(entryAt), 'pax header not followed by an entry')
      const eu = decodeUstar(ub, where(entryAt))
      const meta = decodeEntry(eu, pax, where(entryAt))
    if (meta.op && (info.stream === 'full' || (info.stream === 'quick' && meta.op !== 'unchanged'))) {
      throw new FrameError(where(entryAt), `an op ${JSON.stringify(meta.op)} record in a ${info.stream} stream`)
    }
      lastPath = meta.path
      let stored = storedSize(eu, pax, where(entryAt))
      if (meta.sparse) {
        const dec = new SparseMapDecoder(where(entryAt), meta.size)
        for (;;) {
          const mb = await readBlock(src.consumed, 'a sparse map')
          const segs = dec.push(mb)
          if (segs) {
            meta.sparse = segs
            break
          }
        }
        stored -= dec.blocks * BLOCK
        if (stored !== dataBytes(meta.sparse)) throw new FrameError(where(entryAt), 'sparse data size does not match its map')
      } else if (meta.type !== 'file' && stored !== 0) {
        throw new FrameError(where(entryAt), `${meta.type} entry with ${stored} bytes of data`)
      }
      entries++
      const body = new Body(src, stored, meta.path)
      const frame: EntryFrame = { kind: 'entry', meta, body }
      yield frame
      await body.drain()
      const padTo = padding(storedSize(eu, pax, where(entryAt)))
      if ((await src.skip(padTo)) < padTo) throw new TruncatedStreamError(`ends inside the padding of ${JSON.stringify(meta.path)}`)
    }
  } finally {
    // On success the source is at its end; on failure it must be released all the same.
    await src.close()
  }
}
