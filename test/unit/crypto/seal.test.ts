// Round trips through sealArchive and openArchive: every compression, several
// recipients, a passphrase, an RSA signer, fed whole and in odd-sized slices;
// and bt-seal's rule that a bad input stream never gets a final chunk.
import t from 'tap'
import { openArchive } from '../../../src/crypto/opener.js'
import { decompressor } from '../../../src/crypto/compress.js'
import { type SealOptions, sealArchive } from '../../../src/crypto/sealer.js'
import { ByteQueue, ChunkSealer, chunkNonce, openChunk, sealChunk } from '../../../src/crypto/seal.js'
import { drbg, privateKey, publicKey } from '../../../scripts/gen-seal-vectors.js'
import { SLICES, chunked } from '../../helpers.js'
import { makeStream } from '../../stream.js'

const big = drbg('big')(150_000)
const STREAM = makeStream([
  { meta: { path: '.', type: 'directory' } },
  { meta: { path: 'random', type: 'file' }, data: big },
  { meta: { path: 'text', type: 'file' }, data: Buffer.from('backtory '.repeat(20000)) },
  { meta: { path: 'empty', type: 'file' }, data: '' },
])

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const b of gen) parts.push(b)
  return Buffer.concat(parts)
}

const SMALL = makeStream([{ meta: { path: 'f', type: 'file' }, data: big.subarray(0, 9000) }])

const base = (): SealOptions => ({ recipients: [publicKey('admin')], signer: privateKey('host'), compress: 'none', set: 'test', chunk: 4096 })
const seal = (input: Buffer, o: Partial<SealOptions> = {}, n = 0) => collect(sealArchive({ ...base(), ...o })(chunked(input, n)))

async function open(archive: Buffer, n = 0, o: Partial<Parameters<typeof openArchive>[1]> = {}): Promise<Buffer> {
  const h = archive.subarray(0, 400).toString('latin1')
  const compress = (/compress: (\w+)/.exec(h)?.[1] ?? 'none') as 'zstd' | 'gzip' | 'none'
  return collect(decompressor(compress)(openArchive(chunked(archive, n), { keys: [privateKey('admin')], verify: [publicKey('host')], ...o })))
}

t.test('chunk primitives', async (t) => {
  t.equal(chunkNonce(0x0102030405, true).toString('hex'), '000000000000010203040501')
  t.equal(chunkNonce(1, true).toString('hex'), '000000000000000000000101')
  t.equal(chunkNonce(2 ** 40 + 7, false).toString('hex'), '000000000001000000000700')
  const key = Buffer.alloc(32, 9)
  const c = sealChunk(key, 3, false, Buffer.from('abc'))
  t.same(openChunk(key, 3, false, c), Buffer.from('abc'))
  t.equal(openChunk(key, 3, true, c), undefined, 'final flag is authenticated')
  t.equal(openChunk(key, 4, false, c), undefined, 'counter is authenticated')
  t.equal(openChunk(key, 3, false, c.subarray(0, 10)), undefined, 'short input')
  const s = new ChunkSealer(key, 64)
  t.same(s.push(Buffer.alloc(64)), [], 'a full chunk waits until more data shows it is not the last')
  t.equal(s.push(Buffer.alloc(1)).length, 1)
  t.equal(s.final().length, 1 + 16)
  const q = new ByteQueue()
  q.push(Buffer.from('abc'))
  q.push(Buffer.from('defg'))
  t.equal(q.peek(5).toString(), 'abcde')
  t.equal(q.take(2).toString(), 'ab')
  t.equal(q.take(4).toString(), 'cdef')
  t.equal(q.length, 1)
  t.throws(() => q.take(2), RangeError)
})

t.test('round trip in every compression, whole and in slices', async (t) => {
  for (const compress of ['none', 'gzip', 'zstd'] as const) {
    const archive = await seal(STREAM, { compress })
    t.ok(archive.subarray(0, 17).equals(Buffer.from('backtory-seal/v1\n')), 'starts with the magic line')
    if (compress !== 'none') t.ok(archive.length < STREAM.length, `${compress} compresses`)
    const small = await seal(SMALL, { compress })
    for (const n of SLICES) {
      // One-byte slices of 300 KB take long for no more coverage: the small stream has several chunks too.
      const [input, sealed] = n < 100 ? [SMALL, small] : [STREAM, archive]
      t.ok((await open(sealed, n)).equals(input), `${compress}: opens in ${n}-byte slices`)
      t.ok((await open(await seal(input, { compress }, n), 0)).equals(input), `${compress}: seals in ${n}-byte slices`)
    }
  }
})

t.test('the header carries the stream\'s id, kind and time, and the set', async (t) => {
  const archive = await seal(STREAM)
  const text = archive.toString('latin1', 0, archive.indexOf('\n\n') + 2)
  t.match(text, /^backtory-seal\/v1\nid: 00112233445566778899aabbccddeeff\nset: test\nkind: full\ntime: 2026-01-01T00:00:00.000Z\ncompress: none\nchunk: 4096\nrecipient: rsa-oaep-sha256 [0-9a-f]{64} [A-Za-z0-9+/=]+\nsigner: ed25519 [0-9a-f]{64}\n\n$/)
})

t.test('every recipient opens it; another key does not', async (t) => {
  const archive = await seal(STREAM, { recipients: [publicKey('admin'), publicKey('escrow')] })
  t.ok((await open(archive, 0, { keys: [privateKey('escrow')] })).equals(STREAM))
  t.ok((await open(archive, 0, { keys: [privateKey('admin')] })).equals(STREAM))
  const one = await seal(STREAM)
  await t.rejects(open(one, 0, { keys: [privateKey('escrow')] }), { code: 'BT_NOT_RECIPIENT' })
})

t.test('a passphrase, and an RSA signer', async (t) => {
  const archive = await seal(STREAM, { recipients: [], passphrase: Buffer.from('pw'), logN: 10 })
  t.ok((await open(archive, 7, { keys: [], passphrase: Buffer.from('pw') })).equals(STREAM))
  await t.rejects(open(archive, 0, { keys: [], passphrase: Buffer.from('px') }), { code: 'BT_PASSPHRASE' })
  await t.rejects(open(archive, 0), { code: 'BT_NOT_RECIPIENT' })
  const rsa = await seal(STREAM, { signer: privateKey('rsahost') })
  t.ok((await open(rsa, 100, { verify: [publicKey('rsahost')] })).equals(STREAM))
  await t.rejects(open(rsa, 0), { code: 'BT_UNKNOWN_SIGNER' })
  t.ok((await open(rsa, 0, { verify: [], noVerify: true })).equals(STREAM), '--no-verify opens it')
})

t.test('a bad input stream gets no final chunk and no trailer', async (t) => {
  for (const [what, input, code] of [
    ['truncated', STREAM.subarray(0, STREAM.length - 1500), 'BT_TRUNCATED'],
    ['corrupt', Buffer.concat([STREAM.subarray(0, 2000), Buffer.from('X'), STREAM.subarray(2001)]), undefined],
    ['not a stream', Buffer.from('hello world'), 'BT_NOT_STREAM'],
    ['a sealed archive', Buffer.from('backtory-seal/v1\n'.repeat(100)), 'BT_NOT_STREAM'],
    ['trailing data', Buffer.concat([STREAM, Buffer.from('x')]), 'BT_TRAILING'],
  ] as const) {
    const parts: Buffer[] = []
    let err: unknown
    try {
      for await (const b of sealArchive(base())(chunked(input, 1000))) parts.push(b)
    } catch (e) {
      err = e
    }
    t.ok(err, `${what}: sealing fails`)
    if (code) t.match(err, { code }, `${what}: with ${code}`)
    const out = Buffer.concat(parts)
    t.notMatch(out.toString('latin1'), /\nend: [0-9a-f]{64} /, `${what}: no trailer was written`)
    await t.rejects(open(out), { code: out.length ? 'BT_SEAL_TRUNCATED' : 'BT_NOT_SEALED' }, `${what}: what was written does not open`)
  }
})

t.test('the source is paused while the consumer is slow (backpressure)', async (t) => {
  let pulled = 0
  const input = STREAM
  async function* source() {
    for (let i = 0; i < input.length; i += 1000) {
      pulled += 1000
      yield input.subarray(i, i + 1000)
    }
  }
  const gen = sealArchive(base())(source())
  await gen.next()
  await new Promise((r) => setTimeout(r, 50))
  t.ok(pulled < input.length, `pulled ${pulled} of ${input.length} bytes while the consumer waits`)
  await gen.return(undefined)
})
