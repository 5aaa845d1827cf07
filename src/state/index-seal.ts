// Index objects sealed and opened with the host key alone (crypto/index-key.ts):
// bt-put --index-key seals a generation into one, bt-delta --rebuild-index
// opens one into a new current generation. The seal format is the one every
// backup uses (backtory-seal(5)), with a scrypt stanza instead of recipients.
import { InputError } from '../errors.js'
import { decompressor } from '../crypto/compress.js'
import { type Compression, type SealHeader } from '../crypto/header.js'
import { INDEX_LOG_N, indexPassphrase, publicOf } from '../crypto/index-key.js'
import { type PrivateKey, type PublicKey } from '../crypto/keys.js'
import { openArchive } from '../crypto/opener.js'
import { sealArchive } from '../crypto/sealer.js'
import { readFrames } from '../format/reader.js'
import { INDEX_KIND, type IndexStreamOptions, indexStream } from './index-export.js'
import { importIndex } from './index-import.js'
import { type FullInfo, type State } from './store.js'

/** The sealed index object of generation `s`, for set `set`, signed by the host key. */
export function sealIndex(s: State, key: PrivateKey, set: string, o: IndexStreamOptions): AsyncGenerator<Buffer> {
  return sealArchive({ recipients: [], passphrase: indexPassphrase(key), logN: INDEX_LOG_N, signer: key, compress: 'zstd', set })(indexStream(s, o))
}

export interface RebuildOptions {
  key: PrivateKey
  /** Signers to trust; none: the host key's own public half. */
  verify: PublicKey[]
  who: { tool: string; pid: number }
  maxHeader?: number
}

/**
 * Opens the sealed index object `source` and makes it the current generation
 * of `dir`. Refuses (before writing anything current) another kind of
 * archive, another signer, a key that does not open it, and any damage.
 */
export async function rebuildFromIndex(source: AsyncIterable<Buffer>, dir: string, o: RebuildOptions): Promise<{ full: FullInfo; header: SealHeader }> {
  const verify = o.verify.length ? o.verify : [publicOf(o.key)]
  let header: SealHeader | undefined
  let compress: Compression = 'none'
  const opened = openArchive(source, {
    keys: [], passphrase: indexPassphrase(o.key), verify,
    onHeader: (h) => {
      if (h.header.kind !== INDEX_KIND) {
        throw new InputError('BT_INDEX_OBJECT', `the archive is a ${JSON.stringify(h.header.kind)} backup (${h.header.id}), not an index object`,
          'fetch the object of kind "index" that pairs with the full (bt-ls URL --json names it as index_name)')
      }
      header = h.header
      compress = h.header.compress
    },
  })
  const inflated = (async function* () {
    // The header comes first, so the compression is known before the first payload byte.
    const it = opened[Symbol.asyncIterator]()
    const first = await it.next()
    yield* decompressor(compress)((async function* () {
      if (!first.done) yield first.value
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value
    })())
  })()
  const frames = readFrames(inflated, o.maxHeader === undefined ? {} : { maxHeader: o.maxHeader })
  try {
    // The sealed header, and so the id, is known once the first frame is read.
    const first = await frames.next()
    if (first.done) throw new InputError('BT_INDEX_OBJECT', 'not a valid index object: it holds no stream')
    const full = await importIndex((async function* () {
      yield first.value
      yield* frames
    })(), dir, header!.id, o.who)
    return { full, header: header! }
  } catch (err) {
    throw o.verify.length ? err : keyMismatch(err, o.key)
  }
}

/** The opener's words for a wrong signer or passphrase, said of the host key that was given. */
function keyMismatch(err: unknown, key: PrivateKey): unknown {
  const code = (err as { code?: unknown }).code
  if (code !== 'BT_UNKNOWN_SIGNER' && code !== 'BT_PASSPHRASE') return err
  return new InputError('BT_INDEX_KEY', `the index object was not made with the host key ${JSON.stringify(key.path)} (fingerprint ${key.fingerprint}): ` +
    (code === 'BT_UNKNOWN_SIGNER' ? (err as Error).message.replace(/, which is not a --verify key.*$/, '') : 'it does not open with that key'),
  'give the private signing key of the host that stored it (bt-seal --sign, bt-put --index-key); without it, make a new full')
}
