// Replays every test/vectors/seal_* file through bt-open's engine, whole and in
// odd-sized slices, with its key and in verify-only mode, and checks that the
// committed files are exactly what scripts/gen-seal-vectors.ts generates.
import t from 'tap'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { openArchive } from '../../../src/crypto/opener.js'
import { InputError } from '../../../src/errors.js'
import { type ParsedSealVector, parseSealVector, privateKey, publicKey, sealVectorFiles } from '../../../scripts/gen-seal-vectors.js'
import { ROOT, SLICES, chunked } from '../../helpers.js'

const DIR = `${ROOT}test/vectors`

/** Which `expect` each error code may appear under. */
const LAYER: Record<string, string[]> = {
  none: ['success'],
  BT_NOT_SEALED: ['header failure'],
  BT_SEAL_HEADER: ['header failure'],
  BT_BAD_SIGNATURE: ['signature failure'],
  BT_UNKNOWN_SIGNER: ['signature failure'],
  BT_CHUNK_AUTH: ['auth failure'],
  BT_SEAL_TRUNCATED: ['truncated'],
  BT_SEAL_TRAILING: ['trailing data'],
  BT_NOT_RECIPIENT: ['key failure'],
  BT_PASSPHRASE: ['key failure'],
}

/** The cases backtory-seal(5) promises vectors for. */
const REQUIRED = [
  'success', 'success_full_final_chunk', 'success_passphrase', 'not_sealed', 'unknown_version', 'header_changed',
  'trailer_changed', 'unknown_signer', 'chunk_changed', 'chunks_swapped', 'truncated_in_chunk', 'truncated_at_chunk_boundary',
  'truncated_in_trailer', 'final_chunk_removed', 'trailing_byte', 'wrong_key', 'wrong_passphrase',
]

type Outcome = { ok: true; payload: string } | { ok: false; code: string; input: boolean; message: string }

async function outcome(v: ParsedSealVector, n: number, verifyOnly: boolean): Promise<Outcome> {
  const pass = v.key.startsWith('passphrase:') ? Buffer.from(v.key.slice('passphrase:'.length)) : undefined
  const h = createHash('sha256')
  try {
    for await (const b of openArchive(chunked(v.archive, n), {
      keys: pass || verifyOnly ? [] : [privateKey(v.key)], verify: [publicKey(v.verify)], verifyOnly, ...(pass && !verifyOnly ? { passphrase: pass } : {}),
    })) h.update(b)
    return { ok: true, payload: h.digest('hex') }
  } catch (err) {
    const e = err as Error & { code?: unknown }
    return { ok: false, code: String(e.code), input: err instanceof InputError, message: e.message }
  }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')
const names = readdirSync(DIR).filter((f) => f.startsWith('seal_')).sort()

t.test('the committed vectors are exactly what gen-seal-vectors makes', async (t) => {
  const files = await sealVectorFiles()
  t.strictSame(names, [...files.keys()].sort(), 'same set of files')
  for (const [name, bytes] of files) {
    if (names.includes(name)) t.ok(readFileSync(`${DIR}/${name}`).equals(bytes), `${name} is byte-identical`)
  }
})

t.test('every required case has a vector', async (t) => {
  for (const c of REQUIRED) t.ok(names.includes(`seal_${c}`), c)
})

for (const name of names) {
  t.test(name, async (t) => {
    const v = parseSealVector(readFileSync(`${DIR}/${name}`))
    t.match(v.payload, /^[0-9a-f]{64}$/, 'payload is a SHA-256')
    t.ok(LAYER[v.code]?.includes(v.expect), `expect "${v.expect}" fits code ${v.code}`)
    t.notMatch(v.comment, /^\s*$/, 'has a comment')
    const whole = await outcome(v, 0, false)
    if (v.expect === 'success') {
      t.strictSame(whole, { ok: true, payload: v.payload }, 'opens to the listed payload')
    } else {
      t.equal(v.payload, sha256(v.archive), 'payload pins the raw bytes')
      t.match(whole, { ok: false, code: v.code, input: true }, `rejects with ${v.code}`)
    }
    const vo = await outcome(v, 0, true)
    if (v.verifyOnly === 'none') t.match(vo, { ok: true }, 'verify-only accepts it')
    else t.match(vo, { ok: false, code: v.verifyOnly, input: true }, `verify-only rejects with ${v.verifyOnly}`)
    for (const n of SLICES.slice(1)) {
      t.strictSame(await outcome(v, n, false), whole, `same outcome in ${n}-byte slices`)
      t.strictSame(await outcome(v, n, true), vo, `same verify-only outcome in ${n}-byte slices`)
    }
  })
}
