// bt-delta --full and --rebuild-from: turns the entries of a full stream into
// the index that later differentials are made against. The same function
// serves both, so a rebuilt index is byte-identical to the original.
import { createHash } from 'node:crypto'
import { type EntryFrame, formatTime } from '../format/frame.js'
import { MAX_BLOCKS, MIN_BLOCK, SignatureBuilder, blockSizeFor, encodeSignature } from '../delta/signature.js'
import { type IndexEntry, type IndexWriter, metaDigest } from '../state/index.js'

export async function indexEntry(f: EntryFrame, writer: IndexWriter): Promise<void> {
  const m = f.meta
  const e: IndexEntry = { path: m.path, type: m.type, size: m.size, mtime: formatTime(m.mtime), meta: metaDigest(m) }
  if (m.ctime) e.ctime = formatTime(m.ctime)
  if (m.ino !== undefined) e.ino = m.ino
  if (m.type !== 'file') {
    writer.add(e)
    return
  }
  const h = createHash('sha256')
  if (m.sparse) {
    // Holes are not read, so a sparse file is identified by its map and its data.
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
  let sig: SignatureBuilder | undefined = new SignatureBuilder(capture ? MIN_BLOCK : blockSizeFor(m.size))
  let seen = 0
  for await (const c of f.body) {
    h.update(c)
    seen += c.length
    if (capture && seen > MIN_BLOCK * MAX_BLOCKS) sig = undefined
    sig?.update(c)
  }
  e.size = m.size
  e.sha256 = h.digest('hex')
  writer.add(e, sig && encodeSignature(sig.finish()))
}

/** Content digest as bt-delta compares it: the same rule as indexEntry's. */
export function contentHasher(sparse: Array<[number, number]> | undefined) {
  const h = createHash('sha256')
  if (sparse) h.update(JSON.stringify(sparse))
  return h
}
