// The key of index objects (backtory-seal(5), INDEX OBJECTS). The state
// directory's index of a full is stored beside that full so that a lost state
// directory can be rebuilt on the host without the admin's private key, which
// never lives there. The only secret the host holds is its signing key, so the
// index is sealed with a passphrase derived from it:
//   passphrase = HMAC-SHA256(key = the private key as PKCS#8 DER, "backtory index v1")
// and signed by that key. No new key file exists to be lost with the state,
// and whoever can read the index could read the host's files already.
import { createHmac } from 'node:crypto'
import { createPublicKey } from 'node:crypto'
import { MIN_LOG_N } from './header.js'
import { type PrivateKey, type PublicKey, fingerprint } from './keys.js'

export const INDEX_LABEL = 'backtory index v1'

/**
 * scrypt's work factor for index objects: the least the format allows. The
 * passphrase is 256 bits from a private key, not a word a person chose, so a
 * slow KDF adds nothing, and the sealer stays far inside its memory bound.
 */
export const INDEX_LOG_N = MIN_LOG_N

/** The passphrase of `key`'s index objects, as 64 hex digits (what the openssl recipe prints). */
export function indexPassphrase(key: PrivateKey): Buffer {
  const der = key.key.export({ type: 'pkcs8', format: 'der' })
  return Buffer.from(createHmac('sha256', der).update(INDEX_LABEL).digest('hex'))
}

/** The public half of the host key: the signer every index object must have. */
export function publicOf(key: PrivateKey): PublicKey {
  const pub = createPublicKey(key.key)
  return { path: key.path, key: pub, fingerprint: fingerprint(pub) }
}
