// Key pairs as bt-keygen writes them: PKCS#8 PEM private keys (optionally
// encrypted: PBES2 with AES-256-CBC, as `openssl pkcs8 -topk8 -v2 aes-256-cbc`
// writes) and SPKI PEM public keys.
import { generateKeyPairSync } from 'node:crypto'
import { fingerprint } from './keys.js'

export type KeyType = 'rsa' | 'ed25519'
export const RSA_BITS = 3072

export interface KeyPair { privatePem: string; publicPem: string; fingerprint: string }

export function generateKeyPair(type: KeyType, passphrase?: Buffer): KeyPair {
  const { privateKey, publicKey } = type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: RSA_BITS })
    : generateKeyPairSync('ed25519')
  const privatePem = privateKey.export(passphrase
    ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }
    : { type: 'pkcs8', format: 'pem' }) as string
  return { privatePem, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, fingerprint: fingerprint(publicKey) }
}
