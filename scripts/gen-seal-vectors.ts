// Generates the backtory-seal(5) test vectors, test/vectors/seal_<case>.
//
//   node dist/scripts/gen-seal-vectors.js test/vectors            write them (and drop stale seal_* files)
//   node dist/scripts/gen-seal-vectors.js --check test/vectors    exit 1 if the files on disk differ
//
// Deterministic: the fixed test keys of test/fixtures/keys (RSA-OAEP wrapping
// with seeds from a SHA-256 counter DRBG, Ed25519 signatures, which are
// deterministic), a fixed payload, scrypt salt from the same DRBG. The
// archives are built here from the codec pieces, not by sealArchive, so the
// vectors check bt-open against an independent construction.
//
// Vector file format (CCTV style, one failure per file):
//
//   expect: success | header failure | signature failure | auth failure | truncated | trailing data | key failure
//   code: <the BT_* code bt-open must fail with, or "none">
//   verify-only: <the BT_* code `bt-open --verify-only` must fail with, or "none">
//   key: <fixture key name to open with, or "passphrase:" and the passphrase>
//   verify: <fixture public key name to verify with>
//   payload: <lowercase hex SHA-256: of the opened payload for "success", else of the raw archive>
//   comment: <one line>
//   <empty line>
//   <the raw archive bytes, to the end of the file>
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type SealHeader, type Stanza, encodeEndLine, encodeHeader, encodeSigLine } from '../src/crypto/header.js'
import { scryptWrap } from '../src/crypto/kdf.js'
import { type PrivateKey, type PublicKey, parsePrivateKey, parsePublicKey, signMessage, wrapKey } from '../src/crypto/keys.js'
import { ChunkSealer } from '../src/crypto/seal.js'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const KEYS = `${ROOT}test/fixtures/keys/`

export type Expect = 'success' | 'header failure' | 'signature failure' | 'auth failure' | 'truncated' | 'trailing data' | 'key failure'

export interface SealVector {
  name: string
  expect: Expect
  code: string
  verifyOnly: string
  key: string
  verify: string
  payload: string
  comment: string
  archive: Buffer
}

export const PASSPHRASE = 'correct horse battery staple'

export function publicKey(name: string): PublicKey {
  return parsePublicKey(`${name}.pub`, readFileSync(`${KEYS}${name}.pub`))
}

export function privateKey(name: string): PrivateKey {
  return parsePrivateKey(`${name}.key`, readFileSync(`${KEYS}${name}.key`))
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

/** A SHA-256 counter DRBG: the only source of "random" bytes. */
export function drbg(seed: string): (n: number) => Buffer {
  let counter = 0
  return (n) => {
    const out: Buffer[] = []
    for (let got = 0; got < n; got += 32) out.push(createHash('sha256').update(`${seed}/${counter++}`).digest())
    return Buffer.concat(out).subarray(0, n)
  }
}

interface Build {
  payload: Buffer
  to?: string[]
  passphrase?: boolean
  signer?: string
  chunk?: number
  seed?: string
  edit?: (h: SealHeader) => void
}

interface Built { archive: Buffer; header: number; chunks: number[]; trailer: number }

/** A sealed archive, plus the offsets of its parts (header+signature length, chunk starts, trailer start). */
async function build(b: Build): Promise<Built> {
  const rng = drbg(b.seed ?? 'backtory-seal vectors')
  const dataKey = rng(32)
  const chunk = b.chunk ?? 256
  const stanzas: Stanza[] = b.passphrase
    ? [await scryptWrap(Buffer.from(PASSPHRASE), rng(16), 10, dataKey)]
    : (b.to ?? ['admin']).map((n) => {
      const k = publicKey(n)
      return { type: 'rsa-oaep-sha256', fingerprint: k.fingerprint, wrapped: wrapKey(k, dataKey, rng(32)) }
    })
  const signer = privateKey(b.signer ?? 'host')
  const h: SealHeader = {
    id: '00112233445566778899aabbccddeeff', set: 'www', kind: 'full', time: '2026-01-01T00:00:00.000Z', compress: 'none',
    chunk, stanzas, signer: { alg: 'ed25519', fingerprint: signer.fingerprint },
  }
  b.edit?.(h)
  const text = encodeHeader(h)
  const parts = [text, encodeSigLine(signMessage(signer, text))]
  const header = parts[0]!.length + parts[1]!.length
  const sealer = new ChunkSealer(dataKey, chunk)
  parts.push(...sealer.push(b.payload), sealer.final())
  const chunks: number[] = []
  let at = header
  for (const p of parts.slice(2)) {
    chunks.push(at)
    at += p.length
  }
  const body = Buffer.concat(parts)
  const end = encodeEndLine(createHash('sha256').update(body).digest(), body.length)
  return { archive: Buffer.concat([body, end, encodeSigLine(signMessage(signer, end))]), header, chunks, trailer: body.length }
}

/**
 * 1000 bytes: four chunks of 256 (three full, a final one of 232). It starts
 * like every backtory stream, with the name of the header frame, because the
 * openssl recipe checks that the first chunk decrypts to that (a wrong key or
 * passphrase gives noise); the rest is hex text.
 */
export const PAYLOAD = Buffer.concat([Buffer.from('BACKTORY.header\0'), Buffer.from(drbg('payload')(492).toString('hex'))])

export async function generateSealVectors(): Promise<SealVector[]> {
  const out: SealVector[] = []
  const ok = (name: string, archive: Buffer, payload: Buffer, comment: string, key = 'admin') =>
    out.push({ name, expect: 'success', code: 'none', verifyOnly: 'none', key, verify: 'host', payload: sha256(payload), comment, archive })
  const bad = (name: string, expect: Expect, code: string, verifyOnly: string, archive: Buffer, comment: string, key = 'admin', verify = 'host') =>
    out.push({ name, expect, code, verifyOnly, key, verify, payload: sha256(archive), comment, archive })

  const base = await build({ payload: PAYLOAD })
  const a = base.archive
  ok('success', a, PAYLOAD, 'four chunks of 256 bytes (the last one 232), one RSA recipient, an Ed25519 signer')
  ok('success_full_final_chunk', (await build({ payload: PAYLOAD.subarray(0, 768) })).archive, PAYLOAD.subarray(0, 768),
    'three full chunks; the final chunk is full too')
  const short = PAYLOAD.subarray(0, 20)
  ok('success_one_chunk', (await build({ payload: short })).archive, short, 'a single short final chunk')
  ok('success_empty', (await build({ payload: Buffer.alloc(0) })).archive, Buffer.alloc(0), 'no payload: one empty final chunk')
  ok('success_second_recipient', (await build({ payload: PAYLOAD, to: ['admin', 'escrow'] })).archive, PAYLOAD,
    'two recipients; opened with the second one\'s key', 'escrow')
  ok('success_passphrase', (await build({ payload: PAYLOAD, passphrase: true })).archive, PAYLOAD,
    'sealed with a passphrase: scrypt log2(N)=10, r=8, p=1', `passphrase:${PASSPHRASE}`)

  // Header failures: the header is checked before any signature.
  bad('not_sealed', 'header failure', 'BT_NOT_SEALED', 'BT_NOT_SEALED', Buffer.from('BACKTORY.header\0plain stream'), 'a plain stream, not a sealed archive')
  bad('empty_input', 'header failure', 'BT_NOT_SEALED', 'BT_NOT_SEALED', Buffer.alloc(0), 'no bytes at all')
  bad('unknown_version', 'header failure', 'BT_SEAL_HEADER', 'BT_SEAL_HEADER', Buffer.concat([Buffer.from('backtory-seal/v2'), a.subarray(16)]),
    'the version line says v2')
  const swapped = a.toString('latin1').replace(/^(set: www\n)(kind: full\n)/m, '$2$1')
  bad('header_field_order', 'header failure', 'BT_SEAL_HEADER', 'BT_SEAL_HEADER', Buffer.from(swapped, 'latin1'), 'the set and kind lines swapped')
  bad('header_unknown_field', 'header failure', 'BT_SEAL_HEADER', 'BT_SEAL_HEADER',
    Buffer.from(a.toString('latin1').replace('chunk: 256\n', 'chunk: 256\nhost: web1\n'), 'latin1'), 'an unknown field after chunk')
  bad('header_bad_chunk_size', 'header failure', 'BT_SEAL_HEADER', 'BT_SEAL_HEADER',
    Buffer.from(a.toString('latin1').replace('chunk: 256\n', 'chunk: 300\n'), 'latin1'), 'a chunk size that is not a power of two')

  // Signature failures.
  bad('header_changed', 'signature failure', 'BT_BAD_SIGNATURE', 'BT_BAD_SIGNATURE',
    Buffer.from(a.toString('latin1').replace('set: www\n', 'set: wwx\n'), 'latin1'), 'one letter of the set name changed; the header still parses')
  const badTrailer = Buffer.from(a)
  badTrailer[base.trailer + 10] = badTrailer[base.trailer + 10] === 0x30 ? 0x31 : 0x30
  bad('trailer_changed', 'signature failure', 'BT_BAD_SIGNATURE', 'BT_BAD_SIGNATURE', badTrailer, 'one hex digit of the trailer\'s digest changed')
  const badSig = Buffer.from(a)
  badSig[a.length - 10] = badSig[a.length - 10] === 0x41 ? 0x42 : 0x41
  bad('trailer_signature_changed', 'signature failure', 'BT_BAD_SIGNATURE', 'BT_BAD_SIGNATURE', badSig, 'one base64 digit of the trailer\'s signature changed')
  bad('unknown_signer', 'signature failure', 'BT_UNKNOWN_SIGNER', 'BT_UNKNOWN_SIGNER', (await build({ payload: PAYLOAD, signer: 'other' })).archive,
    'signed by a key that is not the --verify key')

  // Chunk authentication failures: bt-open names the chunk; verify-only sees the digest differ.
  const flip = (at: number) => {
    const b = Buffer.from(a)
    b[at]! ^= 0x01
    return b
  }
  bad('chunk_changed', 'auth failure', 'BT_CHUNK_AUTH', 'BT_CHUNK_AUTH', flip(base.chunks[1]! + 100), 'one bit flipped in chunk 1')
  bad('tag_changed', 'auth failure', 'BT_CHUNK_AUTH', 'BT_CHUNK_AUTH', flip(base.chunks[1]! - 1), 'one bit flipped in the tag of chunk 0')
  bad('final_chunk_changed', 'auth failure', 'BT_CHUNK_AUTH', 'BT_CHUNK_AUTH', flip(base.chunks[3]! + 5), 'one bit flipped in the final chunk')
  const c = (i: number) => a.subarray(base.chunks[i]!, base.chunks[i + 1] ?? base.trailer)
  const reorder = (order: number[]) => Buffer.concat([a.subarray(0, base.header), ...order.map(c), a.subarray(base.trailer)])
  bad('chunks_swapped', 'auth failure', 'BT_CHUNK_AUTH', 'BT_CHUNK_AUTH', reorder([1, 0, 2, 3]), 'chunks 0 and 1 swapped')
  bad('chunk_duplicated', 'auth failure', 'BT_CHUNK_AUTH', 'BT_SEAL_TRUNCATED', reorder([0, 1, 1, 2, 3]), 'chunk 1 twice (the trailer\'s length no longer fits)')

  // Truncation at several points.
  const cut = (name: string, at: number, comment: string, code = 'BT_SEAL_TRUNCATED', verifyOnly = code) =>
    bad(name, 'truncated', code, verifyOnly, a.subarray(0, at), comment)
  cut('truncated_in_header', 40, 'ends inside the header')
  cut('truncated_in_header_signature', base.header - 20, 'ends inside the header\'s signature line')
  cut('truncated_after_header', base.header, 'ends right after the header\'s signature line')
  cut('truncated_in_chunk', base.chunks[2]! + 100, 'ends inside chunk 2')
  cut('truncated_at_chunk_boundary', base.chunks[3]!, 'ends after chunk 2, a non-final chunk')
  cut('truncated_in_trailer', a.length - 30, 'ends inside the trailer\'s signature line')
  cut('truncated_no_trailer', base.trailer, 'the trailer is missing')
  bad('final_chunk_removed', 'truncated', 'BT_SEAL_TRUNCATED', 'BT_SEAL_TRUNCATED', reorder([0, 1, 2]), 'the final chunk removed, the trailer kept')

  // Trailing data.
  bad('trailing_byte', 'trailing data', 'BT_SEAL_TRAILING', 'BT_SEAL_TRAILING', Buffer.concat([a, Buffer.from('\n')]), 'one newline after the trailer')
  bad('trailing_archive', 'trailing data', 'BT_SEAL_TRAILING', 'BT_SEAL_TRAILING', Buffer.concat([a, a]), 'the archive twice, one after the other')

  // Key failures: the archive is intact (verify-only passes), but not for this key.
  bad('wrong_key', 'key failure', 'BT_NOT_RECIPIENT', 'none', a, 'sealed to admin only; opened with the escrow key', 'escrow')
  bad('wrong_passphrase', 'key failure', 'BT_PASSPHRASE', 'none', (await build({ payload: PAYLOAD, passphrase: true })).archive,
    'sealed with a passphrase; opened with another', 'passphrase:wrong horse battery staple')
  bad('passphrase_for_key', 'key failure', 'BT_NOT_RECIPIENT', 'none', a, 'sealed to a key; opened with a passphrase', `passphrase:${PASSPHRASE}`)

  return out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
}

export function formatSealVector(v: SealVector): Buffer {
  const head = `expect: ${v.expect}\ncode: ${v.code}\nverify-only: ${v.verifyOnly}\nkey: ${v.key}\nverify: ${v.verify}\n` +
    `payload: ${v.payload}\ncomment: ${v.comment}\n\n`
  return Buffer.concat([Buffer.from(head, 'utf8'), v.archive])
}

export type ParsedSealVector = Omit<SealVector, 'name'>

export function parseSealVector(file: Buffer): ParsedSealVector {
  const end = file.indexOf('\n\n')
  if (end === -1) throw new Error('vector without the empty line that ends its header')
  const f = new Map<string, string>()
  for (const line of file.toString('utf8', 0, end).split('\n')) {
    const m = /^([a-z-]+): (.*)$/.exec(line)
    if (!m) throw new Error(`bad vector header line ${JSON.stringify(line)}`)
    f.set(m[1]!, m[2]!)
  }
  const need = (k: string): string => {
    const v = f.get(k)
    if (v === undefined) throw new Error(`vector lacks "${k}:"`)
    return v
  }
  return {
    expect: need('expect') as Expect, code: need('code'), verifyOnly: need('verify-only'), key: need('key'), verify: need('verify'),
    payload: need('payload'), comment: need('comment'), archive: file.subarray(end + 2),
  }
}

export async function sealVectorFiles(): Promise<Map<string, Buffer>> {
  return new Map((await generateSealVectors()).map((v) => [`seal_${v.name}`, formatSealVector(v)]))
}

async function main(argv: string[]): Promise<number> {
  const check = argv[0] === '--check'
  const dir = argv[check ? 1 : 0]
  if (dir === undefined || argv.length > (check ? 2 : 1)) {
    process.stderr.write('usage: gen-seal-vectors [--check] DIR\n')
    return 2
  }
  const files = await sealVectorFiles()
  mkdirSync(dir, { recursive: true })
  const stale = readdirSync(dir).filter((f) => f.startsWith('seal_') && !files.has(f))
  const changed = [...files].filter(([name, bytes]) => !existsSync(join(dir, name)) || !readFileSync(join(dir, name)).equals(bytes))
  if (check) {
    for (const f of stale) process.stderr.write(`gen-seal-vectors: stale ${f}\n`)
    for (const [f] of changed) process.stderr.write(`gen-seal-vectors: differs ${f}\n`)
    return stale.length + changed.length === 0 ? 0 : 1
  }
  for (const f of stale) rmSync(join(dir, f))
  for (const [name, bytes] of changed) writeFileSync(join(dir, name), bytes)
  process.stderr.write(`gen-seal-vectors: ${files.size} vectors, ${changed.length} written, ${stale.length} removed\n`)
  return 0
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then((code) => (process.exitCode = code))
}
