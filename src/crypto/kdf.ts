// Passphrase sealing: scrypt (RFC 7914) derives a key that wraps the data key
// with AES-256-GCM. `openssl kdf -kdfopt n:N -kdfopt r:8 -kdfopt p:1 SCRYPT`
// derives the same key, so the openssl recipe can open these archives too.
import { createCipheriv, createDecipheriv, scrypt } from 'node:crypto'
import { type ScryptStanza } from './header.js'

/** log2(N) for new archives: 2^18 x 8 x 128 bytes = 256 MiB and about a second, as age uses. */
export const DEFAULT_LOG_N = 18
const ZERO_NONCE = Buffer.alloc(12)

export function deriveKey(passphrase: Buffer, salt: Buffer, logN: number): Promise<Buffer> {
  const N = 2 ** logN
  return new Promise((resolve, reject) => {
    scrypt(passphrase, salt, 32, { N, r: 8, p: 1, maxmem: 128 * N * 8 * 2 + (1 << 20) }, (err, key) => (err ? reject(err) : resolve(key)))
  })
}

/** The salt is fresh for every archive, so the derived key is used once and a zero nonce is safe. */
export async function scryptWrap(passphrase: Buffer, salt: Buffer, logN: number, dataKey: Buffer): Promise<ScryptStanza> {
  const kek = await deriveKey(passphrase, salt, logN)
  const c = createCipheriv('aes-256-gcm', kek, ZERO_NONCE)
  const wrapped = Buffer.concat([c.update(dataKey), c.final(), c.getAuthTag()])
  return { type: 'scrypt', salt, logN, r: 8, p: 1, wrapped }
}

/** The data key, or undefined when the passphrase is wrong. */
export async function scryptUnwrap(passphrase: Buffer, s: ScryptStanza): Promise<Buffer | undefined> {
  const kek = await deriveKey(passphrase, s.salt, s.logN)
  const d = createDecipheriv('aes-256-gcm', kek, ZERO_NONCE)
  d.setAuthTag(s.wrapped.subarray(32))
  try {
    return Buffer.concat([d.update(s.wrapped.subarray(0, 32)), d.final()])
  } catch {
    return undefined // the tag did not verify: a wrong passphrase
  }
}
