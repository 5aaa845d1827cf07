// The parts of a captured file (backtory-stream(5), CAPTURES) as one entry's
// body: it reads part after part, checking that they form an unbroken run, and
// grows the entry's size as each part's header arrives. Each part's chain
// digest is checked by the reader as it reads the next part's header, so the
// last part is vouched for by the frame after the run, as any entry is.
import { FrameError, TruncatedStreamError } from '../errors.js'
import { type EntryMeta, type Frame } from './frame.js'
import { type EntryHead, type Head } from './reader.js'

export class RunBody implements AsyncIterable<Buffer> {
  private part: EntryHead
  private readonly meta: EntryMeta
  private readonly capture = { parts: 1 }
  private done = false

  /** `first` is part 0, with more to come; `next` reads the next frame's head. */
  constructor(first: EntryHead, private readonly next: () => Promise<Head>) {
    this.part = first
    this.meta = first.meta
    this.meta.capture = this.capture
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    do yield* this.part.body
    while (await this.advance())
  }

  /** Reads whatever of the run is left, checking it all the same. */
  async drain(): Promise<void> {
    while (await this.advance());
  }

  /** Finishes the current part and reads the next one's head; false once the last part is finished. */
  private async advance(): Promise<boolean> {
    if (this.done) return false
    await this.part.finish()
    if (!this.part.part!.more) {
      this.done = true
      return false
    }
    const path = JSON.stringify(this.meta.path)
    const want = this.part.part!.index + 1
    const h = await this.next().catch((err: unknown) => {
      throw err instanceof TruncatedStreamError ? new TruncatedStreamError(`ends inside the capture ${path}, after its part ${want - 1}`) : err
    })
    if ('global' in h) {
      const what = h.global.kind === 'trailer' && !h.note ? 'the trailer' : 'an incomplete note'
      throw new FrameError(h.where, `${what} where part ${want} of the capture ${path} belongs (its part ${want - 1} says more follow)`)
    }
    if (h.note) throw new FrameError(h.where, `an incomplete note where part ${want} of the capture ${path} belongs (its part ${want - 1} says more follow)`)
    if (h.meta.path !== this.meta.path) {
      throw new FrameError(h.where, `the capture ${path} continues with ${JSON.stringify(h.meta.path)}: the parts of a run share one path`)
    }
    if (!h.part) throw new FrameError(h.where, `an entry without BACKTORY.part where part ${want} of the capture ${path} belongs`)
    if (h.part.index !== want) throw new FrameError(h.where, `part ${h.part.index} of the capture ${path} where part ${want} belongs`)
    this.part = h
    this.meta.size += h.meta.size
    this.capture.parts++
    return true
  }
}

/**
 * For listings: reads a captured file's body to its end, checking its parts,
 * so that its size is the whole file's. Other frames are returned as they are.
 */
export async function settled(f: Frame): Promise<Frame> {
  if (f.kind === 'entry' && f.body instanceof RunBody) await f.body.drain()
  return f
}
