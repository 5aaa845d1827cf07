// Encodes frames to bytes and keeps the running chain digest. Pure apart from
// hashing: callers decide where the bytes go, so every tool shares one encoder.
//
// Version 2 (the default) has no frame of its own for the header, a note or
// the trailer: the header's records go into the root entry's x header, a note's
// into the next member's, the trailer's onto a repeat of the root at the end
// (backtory-stream(5), FRAMING). So header() and incomplete() return no bytes;
// what they say comes out with the next entry() or trailer().
import { createHash, type Hash } from 'node:crypto'
import {
  encodeHeaderRecords, encodeIncompleteRecords, encodeNoteRecords, encodeTrailerRecords, isTarRecord,
} from './control.js'
import { type CapturePart, type EntryMeta, STREAM_VERSION, type StreamInfo, entryRecords, typeflagOf } from './frame.js'
import { dataBytes, encodeSparseMap } from './sparse.js'
import { BLOCK, ZERO_BLOCK, encodePax, encodeUstar, padding, paxLength, writePax } from './tarblock.js'

type Records = Array<[string, string | Buffer]>

export interface EncoderOptions {
  /**
   * The BACKTORY.v to write: "1" lays the stream out as version 1 (for test
   * vectors and tests of old streams); any other value as version 2.
   */
  version?: string
}

export class StreamEncoder {
  readonly version: string
  private readonly v1: boolean
  /** Version 2: the header's records, until the root entry carries them. */
  private headerRecords: Records | undefined
  /** Version 2: a note waiting for the next member's x header. */
  private note: Records | undefined
  /** Version 2: what the end member repeats of the root entry. */
  private root: { block: Buffer; records: Records; mtime: number } | undefined

  private readonly hash: Hash = createHash('sha256')
  private bytes = 0
  private entries = 0
  private incompletes = 0
  private owed = 0
  private stored = 0
  private started = false
  private ended = false
  /** An unfinished capture: its path and the part that must come next. */
  private run: { path: string; next: number } | undefined

  constructor(opts: EncoderOptions = {}) {
    this.version = opts.version ?? STREAM_VERSION
    this.v1 = this.version === '1'
  }

  /** The header frame: its bytes in version 1; in version 2 none, as the root entry carries it. */
  header(info: StreamInfo): Buffer {
    if (this.started) throw new Error('header written twice')
    this.started = true
    const records = encodeHeaderRecords(info, this.version)
    if (!this.v1) {
      this.headerRecords = records
      return Buffer.alloc(0)
    }
    return this.emit(globalFrame('BACKTORY.header', encodePax(records), Date.parse(info.time) / 1000))
  }

  /**
   * Header blocks of an entry; then exactly the entry's data bytes must follow via data().
   * With `part`, the entry is one part of a captured file whose size is the part's
   * (backtory-stream(5), CAPTURES); the parts of a run must follow each other.
   */
  entry(meta: EntryMeta, part?: CapturePart): Buffer {
    this.expectBody(part ? meta.path : undefined)
    if (part) this.checkPart(meta, part)
    const content = meta.type !== 'file' ? 0
      : meta.op === 'delta' ? meta.deltaSize ?? 0
      : meta.op ? 0
      : meta.sparse ? dataBytes(meta.sparse) : meta.size
    const map = meta.sparse ? encodeSparseMap(meta.sparse) : undefined
    this.stored = content + (map?.length ?? 0)
    const first = this.headerRecords
    if (first && (meta.path !== '.' || meta.type !== 'directory')) throw new Error('a version 2 stream starts with its root directory "."')
    let records = entryRecords(meta, this.stored, this.chain(), part)
    if (first) records = [...first, ...records.slice(0, -1)] // nothing before the first member: no chain
    if (this.note) records = [...this.note, ...records]
    this.note = undefined
    this.headerRecords = undefined
    // The x header, its records, the entry's block and any sparse map, made in one buffer.
    const paxLen = paxLength(records)
    const blockAt = BLOCK + paxLen + padding(paxLen)
    const out = Buffer.allocUnsafe(blockAt + BLOCK + (map?.length ?? 0)).fill(0, 0, blockAt + BLOCK) // from the shared slab, as encodeUstar's
    encodeUstar(ustarFor('x', first ? 'BACKTORY.header' : paxName(meta.path), paxLen, meta.mtime.sec), out.subarray(0, BLOCK))
    writePax(out, BLOCK, records)
    const name = meta.sparse ? sparseName(meta.path) : meta.type === 'directory' ? `${meta.path}/` : meta.path
    const block = encodeUstar({
      name, mode: meta.mode, uid: meta.uid, gid: meta.gid, size: this.stored, mtime: meta.mtime.sec,
      typeflag: typeflagOf(meta.type), linkname: meta.linkpath ?? '', uname: meta.uname, gname: meta.gname,
      devmajor: meta.devmajor ?? 0, devminor: meta.devminor ?? 0,
    }, out.subarray(blockAt, blockAt + BLOCK))
    if (map) map.copy(out, blockAt + BLOCK)
    if (first) this.root = { block: Buffer.from(block), records: entryRecords(meta, 0, '').filter(isTarRecord), mtime: meta.mtime.sec }
    this.entries++
    this.owed = content
    return this.emit(out)
  }

  data(chunk: Buffer): Buffer {
    if (chunk.length > this.owed) throw new Error(`entry data overruns its size by ${chunk.length - this.owed} bytes`)
    this.owed -= chunk.length
    return this.emit(chunk)
  }

  /** Closes the current entry's data with block padding. */
  endEntry(): Buffer {
    if (this.owed !== 0) throw new Error(`entry data is ${this.owed} bytes short`)
    const p = padding(this.stored)
    this.stored = 0
    return this.emit(p ? ZERO_BLOCK.subarray(0, p) : Buffer.alloc(0))
  }

  /** Flags the entry just written; it names that entry. In version 2 its bytes come with the next member. */
  incomplete(path: string, reason: string): Buffer {
    if (this.run) throw new Error(`incomplete note inside the capture of ${JSON.stringify(this.run.path)}`)
    this.expectBody()
    if (this.entries === 0 || this.note) throw new Error('an incomplete note follows the entry it flags, one note per entry')
    this.incompletes++
    if (!this.v1) {
      this.note = encodeNoteRecords(path, reason)
      return Buffer.alloc(0)
    }
    return this.emit(globalFrame('BACKTORY.incomplete', encodePax(encodeIncompleteRecords(path, reason, this.chain())), 0))
  }

  /** Trailer frame plus the end-of-archive marker: nothing may follow. */
  trailer(): Buffer {
    this.expectBody()
    this.ended = true
    const records = encodeTrailerRecords({
      entries: this.entries, incomplete: this.incompletes, bytes: this.bytes, chain: this.chain(),
    })
    if (this.v1) return this.emit(Buffer.concat([globalFrame('BACKTORY.trailer', encodePax(records), 0), ZERO_BLOCK, ZERO_BLOCK]))
    // Version 2 ends with a member, a repeat of the root: every tar reader takes it as one.
    if (!this.root) throw new Error('a version 2 stream holds at least its root directory')
    const body = encodePax([...(this.note ?? []), ...this.root.records, ...records])
    return this.emit(Buffer.concat([
      encodeUstar(ustarFor('x', 'BACKTORY.trailer', body.length, this.root.mtime)), pad(body), this.root.block, ZERO_BLOCK, ZERO_BLOCK,
    ]))
  }

  get incompleteCount(): number {
    return this.incompletes
  }

  private chain(): string {
    return this.hash.copy().digest('hex')
  }

  private expectBody(partOf?: string): void {
    if (!this.started || this.ended) throw new Error('frame outside header..trailer')
    if (this.owed !== 0 || this.stored !== 0) throw new Error('previous entry not finished')
    if (this.run && partOf !== this.run.path) throw new Error(`the capture of ${JSON.stringify(this.run.path)} lacks its last part`)
  }

  private checkPart(meta: EntryMeta, part: CapturePart): void {
    const want = this.run?.next ?? 0
    if (part.index !== want) throw new Error(`part ${part.index} of ${JSON.stringify(meta.path)} where part ${want} belongs`)
    if (meta.type !== 'file' || meta.sparse || meta.op) throw new Error('only a plain regular file can be a capture\'s part')
    this.run = part.more ? { path: meta.path, next: want + 1 } : undefined
  }

  private emit(b: Buffer): Buffer {
    this.hash.update(b)
    this.bytes += b.length
    return b
  }
}

function ustarFor(typeflag: string, name: string, size: number, mtime: number) {
  return {
    name, mode: 0o644, uid: 0, gid: 0, size, mtime: Math.max(0, Math.trunc(mtime)), typeflag, linkname: '',
    uname: '', gname: '', devmajor: 0, devminor: 0,
  }
}

function globalFrame(name: string, body: Buffer, mtime: number): Buffer {
  return Buffer.concat([encodeUstar(ustarFor('g', name, body.length, mtime)), pad(body)])
}

function pad(b: Buffer): Buffer {
  const p = padding(b.length)
  return p ? Buffer.concat([b, ZERO_BLOCK.subarray(0, p)]) : b
}

/** GNU tar's naming for pax headers, so tools that show them print something sane. */
export function paxName(path: string): string {
  const slash = path.lastIndexOf('/')
  return slash === -1 ? `PaxHeaders/${path}` : `${path.slice(0, slash)}/PaxHeaders/${path.slice(slash + 1)}`
}

function sparseName(path: string): string {
  const slash = path.lastIndexOf('/')
  return slash === -1 ? `GNUSparseFile.0/${path}` : `${path.slice(0, slash)}/GNUSparseFile.0/${path.slice(slash + 1)}`
}

export { BLOCK }
