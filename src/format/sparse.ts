// GNU sparse format 1.0 map: the first blocks of a sparse file's data hold
// "<count>\n" then "<offset>\n<length>\n" per data segment, NUL-padded to a
// block. GNU tar and bsdtar both read it, so a sparse file stays sparse with them too.
import { FrameError, FrameSizeError, type Place } from '../errors.js'
import { BLOCK, padding } from './tarblock.js'

/** Files with more data segments than this are stored densely by the writer and refused by the reader. */
export const MAX_SEGMENTS = 1 << 17

export function encodeSparseMap(segments: Array<[number, number]>): Buffer {
  const text = `${segments.length}\n${segments.map(([o, l]) => `${o}\n${l}\n`).join('')}`
  const body = Buffer.from(text, 'ascii')
  return Buffer.concat([body, Buffer.alloc(padding(body.length))])
}

export function dataBytes(segments: Array<[number, number]>): number {
  let n = 0
  for (const [, l] of segments) n += l
  return n
}

/**
 * Incremental decoder: feed it whole blocks until it returns the map. It keeps
 * the partial line between blocks and never holds more than the map itself.
 */
export class SparseMapDecoder {
  private numbers: number[] = []
  private partial = ''
  private want = -1
  blocks = 0

  constructor(private readonly where: Place, private readonly realSize: number) {}

  push(block: Buffer): Array<[number, number]> | undefined {
    if (block.length !== BLOCK) throw new FrameError(this.where, 'sparse map is not block aligned')
    this.blocks++
    const text = this.partial + block.toString('latin1')
    const lines = text.split('\n')
    this.partial = lines.pop() ?? ''
    for (const line of lines) {
      if (!/^(0|[1-9][0-9]{0,15})$/.test(line)) throw new FrameError(this.where, 'sparse map holds a non-number')
      const n = Number(line)
      if (this.want === -1) {
        if (n > MAX_SEGMENTS) throw new FrameSizeError('sparse map', n, MAX_SEGMENTS, 'segments')
        this.want = n * 2
      } else {
        this.numbers.push(n)
      }
      if (this.numbers.length === this.want) return this.finish()
    }
    if (this.partial.length > 32) throw new FrameError(this.where, 'sparse map line too long')
    return undefined
  }

  private finish(): Array<[number, number]> {
    const segs: Array<[number, number]> = []
    let end = 0
    for (let i = 0; i < this.numbers.length; i += 2) {
      const off = this.numbers[i]!
      const len = this.numbers[i + 1]!
      if (off < end || off + len > this.realSize) throw new FrameError(this.where, 'sparse map segments overlap or exceed the file')
      segs.push([off, len])
      end = off + len
    }
    return segs
  }
}
