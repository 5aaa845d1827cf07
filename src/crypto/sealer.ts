// bt-seal's engine: verify the input stream while compressing, encrypting and
// signing it (backtory-seal(5)). Output order: header, header signature,
// chunks, and, only after the input's trailer verified, the final chunk and
// the signed trailer. Memory is bounded by the chunk size and the channel.
import { createHash, randomBytes } from 'node:crypto'
import { InputError, SealHeaderError } from '../errors.js'
import { compressor } from './compress.js'
import { type Compression, type SealHeader, type Stanza, checkSet, encodeEndLine, encodeHeader, encodeSigLine } from './header.js'
import { DEFAULT_LOG_N, scryptWrap } from './kdf.js'
import { type PrivateKey, type PublicKey, signMessage, signerAlg, wrapKey } from './keys.js'
import { ChunkSealer, DEFAULT_CHUNK, KEY_LENGTH } from './seal.js'
import { StreamCheck } from './verify-tee.js'

export type Rng = (n: number) => Buffer

export interface SealOptions {
  recipients: PublicKey[]
  passphrase?: Buffer
  signer: PrivateKey
  compress: Compression
  set: string
  chunk?: number
  /** Randomness for the data key, OAEP seeds and scrypt salt; fixed only by the test vectors. */
  rng?: Rng
  /** scrypt work factor for --passphrase-file (log2 N). */
  logN?: number
  maxHeader?: number
}

async function stanzasFor(o: SealOptions, dataKey: Buffer, rng: Rng): Promise<Stanza[]> {
  if (o.passphrase) return [await scryptWrap(o.passphrase, rng(16), o.logN ?? DEFAULT_LOG_N, dataKey)]
  return o.recipients.map((r) => ({ type: 'rsa-oaep-sha256', fingerprint: r.fingerprint, wrapped: wrapKey(r, dataKey, rng(32)) }))
}

/** The sealed archive of the backtory stream `source`, as an async-generator transform. */
export function sealArchive(o: SealOptions): (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  checkSet(o.set)
  return async function* seal(source) {
    const rng = o.rng ?? randomBytes
    const dataKey = rng(KEY_LENGTH)
    const stanzas = await stanzasFor(o, dataKey, rng)
    const check = new StreamCheck(o.maxHeader)
    const sealer = new ChunkSealer(dataKey, o.chunk ?? DEFAULT_CHUNK)
    const hash = createHash('sha256')
    let length = 0
    let pending: Buffer[] | undefined = []
    const out = (b: Buffer): Buffer => {
      hash.update(b)
      length += b.length
      return b
    }
    const head = (): Buffer => {
      const info = check.info!
      // A quick-checked scan leaves unchanged files out: sealed and stored, it
      // would be listed as a backup that restores nothing but the changes.
      if (info.stream === 'quick') {
        throw new InputError('BT_STREAM_KIND', 'the input is a quick-checked scan (bt-scan --state), which is input for bt-delta, not a backup',
          'pipe it through bt-delta --state DIR (or --auto) before bt-seal; for a full, run bt-scan without --state')
      }
      const h: SealHeader = {
        id: info.id, set: o.set, kind: info.stream, time: info.time, ...(info.base !== undefined ? { base: info.base } : {}),
        compress: o.compress, chunk: sealer.chunk, stanzas, signer: { alg: signerAlg(o.signer.key), fingerprint: o.signer.fingerprint },
      }
      let text: Buffer
      try {
        text = encodeHeader(h)
      } catch (err) {
        if (err instanceof SealHeaderError) throw new SealHeaderError(`the input stream's header cannot be sealed: ${err.message.replace(/^malformed sealed header: /, '')}`)
        throw err
      }
      return Buffer.concat([text, encodeSigLine(signMessage(o.signer, text))])
    }
    for await (const z of compressor(o.compress)(check.tee(source))) {
      for (const c of sealer.push(z)) {
        if (pending && !check.info) {
          pending.push(c) // bounded: the tee lets only the header frame's bytes by before the header is known
          continue
        }
        if (pending) {
          yield out(head())
          for (const p of pending) yield out(p)
          pending = undefined
        }
        yield out(c)
      }
    }
    await check.done
    if (pending) {
      yield out(head())
      for (const p of pending) yield out(p)
    }
    yield out(sealer.final())
    const end = encodeEndLine(hash.digest(), length)
    yield Buffer.concat([end, encodeSigLine(signMessage(o.signer, end))])
  }
}
