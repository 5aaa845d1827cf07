// Captures: a command's standard output stored as one file at the stream's
// root, without a temporary file, as a run of parts of at most PART_SIZE
// bytes (backtory-stream(5), CAPTURES). Only the part being built is held in
// memory (the command's own buffers, which must not be reused once handed
// over); the command is read only as fast as the stream is written.
import { lstatSync } from 'node:fs'
import { BtError, EXIT } from '../errors.js'
import { type EntryMeta, PART_SIZE } from '../format/frame.js'
import { comparePaths } from '../state/order.js'
import { Scanner, type ScanOptions, scanStream } from './scan.js'
import { walk } from './walk.js'

export interface Capture {
  /** A plain file name at the stream's root (no '/', not '.' or '..'), e.g. "db.sql". */
  name: string
  /** Called when the stream reaches the capture's place (captures sit at their sorted position among the root's entries, order per src/state/order.ts comparePaths). Starts the command. */
  open(): { data: AsyncIterable<Buffer>; done: Promise<void> } // done rejects (a BtError) when the command fails
}

/** A capture name that cannot be stored: malformed, reserved, given twice, or taken by a file of the tree. */
export class CaptureNameError extends BtError {
  constructor(name: string, detail: string, ...hints: string[]) {
    super('BT_CAPTURE_NAME', EXIT.USAGE, `capture ${JSON.stringify(name)}: ${detail}`, hints)
  }
}

/** Names bt-restore keeps for itself at the root of a target (its marker, temporaries, stage). */
const RESERVED = /^(\.backtory-restore\.json(\.tmp)?|\.bt-stage-.*|\.bt-restore-.*)$/

function checkName(name: string): void {
  if (typeof name !== 'string' || name === '') throw new CaptureNameError(String(name), 'the name is empty')
  if (name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new CaptureNameError(name, 'the name must be a plain file name: no "/", not "." or ".."', 'captures are stored at the root of the stream')
  }
  if (Buffer.from(name, 'utf8').toString('utf8') !== name) throw new CaptureNameError(name, 'the name is not valid UTF-8')
  if (RESERVED.test(name)) throw new CaptureNameError(name, 'bt-restore reserves this name at the root of a target')
}

/** Validates the names and sorts the captures into stream order. */
function plan(opts: ScanOptions, captures: Capture[]): Capture[] {
  const seen = new Set<string>()
  for (const c of captures) {
    checkName(c.name)
    if (seen.has(c.name)) throw new CaptureNameError(c.name, 'given twice')
    seen.add(c.name)
    const abs = `${opts.root}/${c.name}`
    let isDir: boolean
    try {
      isDir = lstatSync(abs).isDirectory()
    } catch {
      continue // nothing there (or nothing readable): the walk's own check is the last word
    }
    if (!opts.skip?.has(abs) && (opts.exclude.empty || !opts.exclude.excludes(c.name, isDir))) throw collision(c.name)
  }
  return [...captures].sort((a, b) => comparePaths(a.name, b.name))
}

function collision(name: string): CaptureNameError {
  return new CaptureNameError(name, 'the tree already holds an entry of that name at its root',
    `rename the capture, or exclude the tree's entry (--exclude /${name})`)
}

/**
 * scanStream with captured files: each capture is opened when the walk reaches
 * its place among the root's entries and stored as a run of parts. The stream
 * fails (throws, no trailer) when a command fails. With no captures, the
 * bytes are exactly scanStream's.
 */
export async function* scanWithCaptures(opts: ScanOptions, captures: Capture[]): AsyncGenerator<Buffer> {
  if (captures.length === 0) {
    yield* scanStream(opts)
    return
  }
  const queue = plan(opts, captures)
  if (!opts.captureOwner) throw new Error('scanWithCaptures: ScanOptions.captureOwner is required with captures')
  const s = new Scanner(opts)
  yield* s.header()
  let next = 0
  for (const item of walk(opts.root, { ...opts })) {
    for (; next < queue.length && comparePaths(queue[next]!.name, item.rel) <= 0; next++) {
      if (queue[next]!.name === item.rel) throw collision(item.rel)
      yield* captured(s, queue[next]!, opts)
    }
    yield* s.item(item)
  }
  for (; next < queue.length; next++) yield* captured(s, queue[next]!, opts)
  yield* s.trailer()
}

/** One capture, as parts of PART_SIZE bytes but the last; a part is written once it is known whether more follow. */
async function* captured(s: Scanner, c: Capture, opts: ScanOptions): AsyncGenerator<Buffer> {
  const { uid, gid } = opts.captureOwner!
  const ms = (opts.now ?? Date.now)()
  const meta: EntryMeta = {
    path: c.name, type: 'file', mode: 0o600, uid, gid, uname: opts.ids.userName(uid), gname: opts.ids.groupName(gid),
    mtime: { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 }, size: 0, xattrs: [],
  }
  // A quick scan's deleted records for what lies before the capture, and its index entry passed.
  yield* s.place(c.name, 'file')
  const { data, done } = c.open()
  // Settled here so that a failure is never unhandled, whenever it is looked at.
  const outcome = done.then(() => undefined, (err: unknown) => err ?? new Error(`capture ${JSON.stringify(c.name)} failed`))
  const it = data[Symbol.asyncIterator]()
  let ended = false
  const pull = async (): Promise<Buffer | undefined> => {
    for (;;) {
      let r: IteratorResult<Buffer>
      try {
        r = await it.next()
      } catch (err) {
        ended = true
        throw err
      }
      if (r.done) {
        ended = true
        return undefined
      }
      if (r.value.length > 0) return r.value
    }
  }
  try {
    let carry: Buffer | undefined
    for (let index = 0; ; index++) {
      // The part's chunks, as the command wrote them: no copy, and at most PART_SIZE bytes held.
      const chunks: Buffer[] = []
      let fill = 0
      while (fill < PART_SIZE) {
        const chunk = carry ?? (await pull())
        carry = undefined
        if (!chunk) break
        const n = Math.min(chunk.length, PART_SIZE - fill)
        chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n))
        fill += n
        if (n < chunk.length) carry = chunk.subarray(n)
      }
      // A full part waits until it is known whether anything follows it.
      if (fill === PART_SIZE && !carry) carry = await pull()
      const more = carry !== undefined
      if (!more) {
        const err = await outcome
        if (err) throw err
      }
      yield* s.out.push(s.enc.entry({ ...meta, size: fill }, { index, more }))
      for (const c of chunks.splice(0)) yield* s.out.push(s.enc.data(c))
      yield* s.out.push(s.enc.endEntry())
      if (!more) return
    }
  } finally {
    // Abandoned (the stream failed or its reader went away): tell the producer to stop its command.
    if (!ended) await it.return?.()
  }
}
