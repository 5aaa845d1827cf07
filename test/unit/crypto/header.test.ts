// The sealed header codec: canonical encoding both ways, strict decoding.
import t from 'tap'
import { type SealHeader, decodeEndLine, decodeHeader, decodeSigLine, encodeEndLine, encodeHeader, encodeSigLine } from '../../../src/crypto/header.js'

const H: SealHeader = {
  id: 'abc', set: 'www', kind: 'diff', time: '2026-01-01T00:00:00.000Z', base: 'def', compress: 'zstd', chunk: 65536,
  stanzas: [{ type: 'rsa-oaep-sha256', fingerprint: 'a'.repeat(64), wrapped: Buffer.from('wrapped') }],
  signer: { alg: 'ed25519', fingerprint: 'b'.repeat(64) },
}

t.test('encode and decode agree', async (t) => {
  const b = encodeHeader(H)
  t.equal(b.toString(), `backtory-seal/v1\nid: abc\nset: www\nkind: diff\ntime: 2026-01-01T00:00:00.000Z\nbase: def\ncompress: zstd\nchunk: 65536\nrecipient: rsa-oaep-sha256 ${'a'.repeat(64)} d3JhcHBlZA==\nsigner: ed25519 ${'b'.repeat(64)}\n\n`)
  t.same(decodeHeader(b), H)
  const s = { ...H, stanzas: [{ type: 'scrypt' as const, salt: Buffer.alloc(16, 1), logN: 18, r: 8, p: 1, wrapped: Buffer.alloc(48, 2) }] }
  t.same(decodeHeader(encodeHeader(s)), s)
})

t.test('decoding is strict', async (t) => {
  const good = encodeHeader(H).toString('latin1')
  const bad = (what: string, text: string) => t.throws(() => decodeHeader(Buffer.from(text, 'latin1')), { code: 'BT_SEAL_HEADER' }, what)
  bad('version', good.replace('/v1', '/v9'))
  bad('no blank line', good.slice(0, -1))
  bad('field order', good.replace('id: abc\nset: www\n', 'set: www\nid: abc\n'))
  bad('unknown field', good.replace('chunk: 65536\n', 'chunk: 65536\nx: y\n'))
  bad('chunk size', good.replace('65536', '65537'))
  bad('chunk leading zero', good.replace('65536', '065536'))
  bad('non-canonical base64', good.replace('d3JhcHBlZA==', 'd3JhcHBlZA'))
  bad('uppercase fingerprint', good.replace('a'.repeat(64), 'A'.repeat(64)))
  bad('compression', good.replace('zstd', 'lz4'))
  bad('no recipient', good.replace(/recipient: .*\n/, ''))
  bad('control byte', good.replace('abc', 'a\tc'))
  bad('space in a token', good.replace('kind: diff', 'kind: di ff'))
  bad('set', good.replace('set: www', 'set: -www'))
  const scrypt = encodeHeader({ ...H, stanzas: [{ type: 'scrypt', salt: Buffer.alloc(16), logN: 18, r: 8, p: 1, wrapped: Buffer.alloc(48) }] }).toString('latin1')
  bad('scrypt work factor', scrypt.replace(' 18 8 1 ', ' 30 8 1 '))
  bad('scrypt r', scrypt.replace(' 18 8 1 ', ' 18 4 1 '))
  bad('scrypt beside a recipient', scrypt.replace('signer:', `recipient: rsa-oaep-sha256 ${'a'.repeat(64)} d3JhcHBlZA==\nsigner:`))
  t.throws(() => encodeHeader({ ...H, set: 'a b' }), { code: 'BT_SEAL_HEADER' })
})

t.test('signature and end lines', async (t) => {
  t.same(decodeSigLine(encodeSigLine(Buffer.from('sig')), 'x'), Buffer.from('sig'))
  t.throws(() => decodeSigLine(Buffer.from('sig: c2ln\n\n'), 'x'), { code: 'BT_SEAL_HEADER' })
  const e = encodeEndLine(Buffer.alloc(32, 0xab), 1234)
  t.equal(e.length, 91)
  t.same(decodeEndLine(e), { digest: 'ab'.repeat(32), length: 1234 })
  t.equal(decodeEndLine(Buffer.from(e.toString().replace('end:', 'End:'))), undefined)
})
