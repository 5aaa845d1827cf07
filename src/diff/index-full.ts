// bt-delta --full and --rebuild-from: turns the entries of a full stream into
// the index that later differentials are made against. The same function
// serves both, so a rebuilt index is byte-identical to the original.
import { createHash, hash } from 'node:crypto'
import { InputError } from '../errors.js'
import { type EntryFrame, type Frame, type StreamInfo, formatTime } from '../format/frame.js'
import { MAX_BLOCKS, MIN_BLOCK, SignatureBuilder, blockSizeFor, encodeSignature } from '../delta/signature.js'
import { type IndexEntry, type IndexWriter, metaDigest } from '../state/index.js'
import { Generation } from '../state/store.js'

export async function indexEntry(f: EntryFrame, writer: IndexWriter): Promise<void> {
  const m = f.meta
  const e: IndexEntry = { path: m.path, type: m.type, size: m.size, mtime: formatTime(m.mtime), meta: metaDigest(m) }
  if (m.ctime) e.ctime = formatTime(m.ctime)
  if (m.ino !== undefined) e.ino = m.ino
  if (m.type !== 'file') {
    writer.add(e)
    return
  }
  if (m.sparse) {
    // Holes are not read, so a sparse file is identified by its map and its data.
    const h = createHash('sha256')
    e.sparse = true
    h.update(JSON.stringify(m.sparse))
    for await (const c of f.body) h.update(c)
    e.sha256 = h.digest('hex')
    writer.add(e)
    return
  }
  // A capture's size is known only at its end: its signature takes the smallest
  // block, and is dropped past MAX_BLOCKS blocks (1 GiB), where that block would
  // make the table grow without bound; such a capture then travels literally.
  const capture = m.capture !== undefined
  let sig: SignatureBuilder | undefined = new SignatureBuilder(capture ? MIN_BLOCK : blockSizeFor(m.size), capture ? undefined : m.size)
  const chunks = f.body[Symbol.asyncIterator]()
  let r = await chunks.next()
  if (!capture && !r.done && r.value.length === m.size) {
    // The whole content in one chunk, as most small files come: digested in one call.
    sig.update(r.value)
    e.sha256 = hash('sha256', r.value)
    r = await chunks.next()
    if (!r.done) throw new Error(`indexEntry: more data than the ${m.size} bytes of ${JSON.stringify(m.path)}`)
  } else {
    const h = createHash('sha256')
    let seen = 0
    for (; !r.done; r = await chunks.next()) {
      const c = r.value
      h.update(c)
      seen += c.length
      if (capture && seen > MIN_BLOCK * MAX_BLOCKS) sig = undefined
      sig?.update(c)
    }
    e.sha256 = h.digest('hex')
  }
  e.size = m.size
  writer.add(e, sig && encodeSignature(sig.finish()))
}

/** Content digest as bt-delta compares it: the same rule as indexEntry's. */
export function contentHasher(sparse: Array<[number, number]> | undefined) {
  const h = createHash('sha256')
  if (sparse) h.update(JSON.stringify(sparse))
  return h
}

/**
 * Indexes a full stream into a new generation of the state directory `dir`.
 * The generation is returned uncommitted: the caller commits it only once the
 * stream is whole, and as "pending" until a store confirms it holds the full.
 */
export async function indexFull(frames: AsyncIterable<Frame>, dir: string): Promise<{ gen: Generation; info: StreamInfo }> {
  let gen: Generation | undefined
  let info: StreamInfo | undefined
  let done = false
  try {
    for await (const f of frames) {
      if (f.kind === 'header') {
        if (f.info.stream !== 'full') {
          throw new InputError('BT_STREAM_KIND', `a full needs a complete scan; the input is a ${JSON.stringify(f.info.stream)} stream`,
            'run bt-scan without --state (and without BT_STATE) for a full')
        }
        gen = new Generation(dir, f.info.id)
        info = f.info
      } else if (f.kind === 'entry') {
        await indexEntry(f, gen!.writer)
      } else if (f.kind === 'incomplete') {
        gen!.writer.markIncomplete(f.path)
      } else if (f.kind === 'trailer') {
        done = true
      }
    }
  } finally {
    if (!done) gen?.abort()
  }
  return { gen: gen!, info: info! }
}
