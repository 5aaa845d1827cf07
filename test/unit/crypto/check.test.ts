// The keyless check bt-put and bt-get run (src/crypto/check.ts) against every
// seal vector: it must accept exactly what bt-open --verify-only accepts, and
// refuse the rest with the same code, fed whole and in slices. One latitude:
// a length that is not what the trailer vouches for may come out as truncated
// or as trailing data (it does not search the body for an earlier trailer).
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { SealCheck } from '../../../src/crypto/check.js'
import { parseSealVector, publicKey } from '../../../scripts/gen-seal-vectors.js'
import { ROOT, SLICES } from '../../helpers.js'

const DIR = `${ROOT}test/vectors`
const names = readdirSync(DIR).filter((f) => f.startsWith('seal_')).sort()

function verdict(archive: Buffer, n: number, verify: string | undefined): string {
  const c = new SealCheck(verify ? [publicKey(verify)] : [])
  try {
    for (let i = 0; i < archive.length; i += n || archive.length) c.push(archive.subarray(i, i + (n || archive.length)))
    c.end()
    return 'none'
  } catch (err) {
    return String((err as { code?: string }).code)
  }
}

t.test('SealCheck agrees with bt-open --verify-only on every seal vector', async (t) => {
  t.ok(names.length > 30)
  for (const name of names) {
    const v = parseSealVector(readFileSync(`${DIR}/${name}`))
    const want = v.verifyOnly
    const length = ['BT_SEAL_TRUNCATED', 'BT_SEAL_TRAILING']
    const agrees = (got: string) => got === want || (length.includes(want) && length.includes(got))
    for (const n of SLICES) {
      const got = verdict(v.archive, n, v.verify)
      t.ok(agrees(got), `${name} in slices of ${n}: ${got}, bt-open --verify-only: ${want}`)
    }
    // Without a key the signatures go unchecked: a forged header or trailer may pass, or fail on the digest.
    const keyless = verdict(v.archive, 7, undefined)
    t.ok(agrees(keyless) || (['BT_BAD_SIGNATURE', 'BT_UNKNOWN_SIGNER'].includes(want) && ['none', 'BT_CHUNK_AUTH'].includes(keyless)),
      `${name} without a key: ${keyless}`)
  }
})
