// PEM keys as backtory uses them (backtory-seal(5)): RSA keys are recipients
// (RSA-OAEP-SHA256 wraps the data key) and signers (RSA-PSS-SHA256); Ed25519
// keys are signers only. A key's fingerprint is the SHA-256 of its DER
// SubjectPublicKeyInfo, in lowercase hex, which `openssl pkey -pubout -outform
// DER | openssl dgst -sha256` prints as well.
import {
  type KeyObject, constants, createHash, createPrivateKey, createPublicKey, privateDecrypt, publicEncrypt, sign, verify,
} from 'node:crypto'
import { KeyError } from '../errors.js'
import { type SignerAlg } from './header.js'

export const MIN_RSA_BITS = 2048
const PSS_SALT = 32

export interface PublicKey { path: string; key: KeyObject; fingerprint: string }
export interface PrivateKey { path: string; key: KeyObject; fingerprint: string }

export function fingerprint(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key
  return createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex')
}

function checkType(path: string, key: KeyObject): void {
  const t = key.asymmetricKeyType
  if (t === 'ed25519') return
  if (t !== 'rsa') {
    throw new KeyError(path, `is a ${t} key; backtory uses RSA (recipients and signers) and Ed25519 (signers)`,
      'make one with bt-keygen, or openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072')
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
  if (bits < MIN_RSA_BITS) throw new KeyError(path, `is an RSA key of ${bits} bits, fewer than ${MIN_RSA_BITS}`, 'make a new one with bt-keygen (RSA 3072)')
}

/** A public key (SPKI or PKCS#1 PEM). A private key is refused: a sealing host holds public keys only. */
export function parsePublicKey(path: string, pem: Buffer | string): PublicKey {
  const text = pem.toString()
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    throw new KeyError(path, 'is a private key where a public key belongs', `extract the public key: openssl pkey -in ${path} -pubout`)
  }
  let key: KeyObject
  try {
    key = createPublicKey(text)
  } catch (err) {
    throw new KeyError(path, `is not a PEM public key (${(err as Error).message})`, 'give a file that starts with -----BEGIN PUBLIC KEY-----')
  }
  checkType(path, key)
  return { path, key, fingerprint: fingerprint(key) }
}

/** A private key (PKCS#8 or traditional PEM), decrypted with `passphrase` when it is encrypted. */
export function parsePrivateKey(path: string, pem: Buffer | string, passphrase?: Buffer): PrivateKey {
  let key: KeyObject
  try {
    key = createPrivateKey({ key: pem.toString(), ...(passphrase ? { passphrase } : {}) })
  } catch (err) {
    const encrypted = /-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem.toString())
    if (encrypted && !passphrase) throw new KeyError(path, 'is encrypted', 'give its passphrase with --key-passphrase-file FILE')
    if (encrypted) throw new KeyError(path, 'does not decrypt with that passphrase', 'check --key-passphrase-file')
    throw new KeyError(path, `is not a PEM private key (${(err as Error).message})`, 'give a file that starts with -----BEGIN PRIVATE KEY-----')
  }
  checkType(path, key)
  return { path, key, fingerprint: fingerprint(key) }
}

export function canReceive(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'rsa'
}

export function signerAlg(key: KeyObject): SignerAlg {
  return key.asymmetricKeyType === 'ed25519' ? 'ed25519' : 'rsa-pss-sha256'
}

function mgf1(seed: Buffer, len: number): Buffer {
  const out: Buffer[] = []
  for (let i = 0; out.length * 32 < len; i++) {
    const c = Buffer.alloc(4)
    c.writeUInt32BE(i)
    out.push(createHash('sha256').update(seed).update(c).digest())
  }
  return Buffer.concat(out).subarray(0, len)
}

/**
 * EME-OAEP encoding (RFC 8017, 7.1.1) with SHA-256, MGF1-SHA-256 and an empty
 * label. Done here rather than by OpenSSL only so that the 32-byte seed comes
 * from the sealer's RNG, which the test vectors fix; OpenSSL's own OAEP decoder
 * (bt-open, and `openssl pkeyutl -decrypt` in the recipe) checks every wrap.
 */
export function oaepEncode(msg: Buffer, k: number, seed: Buffer): Buffer {
  const hLen = 32
  if (seed.length !== hLen || msg.length > k - 2 * hLen - 2) throw new RangeError('OAEP: message too long or bad seed')
  const db = Buffer.alloc(k - hLen - 1)
  createHash('sha256').digest().copy(db, 0)
  db[db.length - msg.length - 1] = 1
  msg.copy(db, db.length - msg.length)
  const dbMask = mgf1(seed, db.length)
  for (let i = 0; i < db.length; i++) db[i]! ^= dbMask[i]!
  const seedMask = mgf1(db, hLen)
  const masked = Buffer.from(seed)
  for (let i = 0; i < hLen; i++) masked[i]! ^= seedMask[i]!
  return Buffer.concat([Buffer.alloc(1), masked, db])
}

/** Wraps the data key to an RSA recipient: RSA-OAEP, SHA-256 for the label hash and for MGF1. */
export function wrapKey(to: PublicKey, dataKey: Buffer, seed: Buffer): Buffer {
  const k = Math.ceil((to.key.asymmetricKeyDetails?.modulusLength ?? 0) / 8)
  return publicEncrypt({ key: to.key, padding: constants.RSA_NO_PADDING }, oaepEncode(dataKey, k, seed))
}

/** The data key, or undefined when this key does not unwrap it. */
export function unwrapKey(key: PrivateKey, wrapped: Buffer): Buffer | undefined {
  try {
    const k = privateDecrypt({ key: key.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped)
    return k.length === 32 ? k : undefined
  } catch {
    return undefined // an OAEP decoding error: the key was not wrapped to this private key
  }
}

export function signMessage(key: PrivateKey, msg: Buffer): Buffer {
  if (key.key.asymmetricKeyType === 'ed25519') return sign(null, msg, key.key)
  return sign('sha256', msg, { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT })
}

export function verifyMessage(key: PublicKey, alg: SignerAlg, msg: Buffer, sig: Buffer): boolean {
  if (signerAlg(key.key) !== alg) return false
  if (alg === 'ed25519') return verify(null, msg, key.key, sig)
  return verify('sha256', msg, { key: key.key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: PSS_SALT }, sig)
}

/** The length of this key's signatures: 64 for Ed25519, the modulus length for RSA. */
export function signatureLength(key: KeyObject): number {
  return key.asymmetricKeyType === 'ed25519' ? 64 : Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8)
}
