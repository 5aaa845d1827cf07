// Keys: fingerprints agree with openssl, OAEP wraps open with OpenSSL's own
// decoder, and keys that cannot serve are refused with BT_KEY.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { constants, generateKeyPairSync, privateDecrypt } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { generateKeyPair } from '../../../src/crypto/keygen.js'
import { canReceive, oaepEncode, parsePrivateKey, parsePublicKey, signMessage, signatureLength, unwrapKey, verifyMessage, wrapKey } from '../../../src/crypto/keys.js'
import { KEYS, drbg, privateKey, publicKey } from '../../../scripts/gen-seal-vectors.js'

t.test('fingerprints are the SHA-256 of the DER public key, as openssl prints it', async (t) => {
  for (const name of ['admin', 'host', 'rsahost']) {
    const der = execFileSync('openssl', ['pkey', '-pubin', '-in', `${KEYS}${name}.pub`, '-outform', 'DER'])
    const want = execFileSync('openssl', ['dgst', '-sha256', '-r'], { input: der }).toString().slice(0, 64)
    t.equal(publicKey(name).fingerprint, want, name)
    t.equal(privateKey(name).fingerprint, want, `${name} (from the private key)`)
  }
})

t.test('OAEP wrapping opens with OpenSSL\'s decoder, and only with the right key', async (t) => {
  const rng = drbg('oaep')
  for (let i = 0; i < 20; i++) {
    const dk = rng(32)
    const w = wrapKey(publicKey('admin'), dk, rng(32))
    t.same(privateDecrypt({ key: privateKey('admin').key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, w), dk)
    t.same(unwrapKey(privateKey('admin'), w), dk)
    t.equal(unwrapKey(privateKey('escrow'), w), undefined)
  }
  t.throws(() => oaepEncode(Buffer.alloc(200), 256, Buffer.alloc(32)), RangeError)
})

t.test('signatures: Ed25519 and RSA-PSS, bound to the algorithm', async (t) => {
  for (const [name, alg, len] of [['host', 'ed25519', 64], ['rsahost', 'rsa-pss-sha256', 256]] as const) {
    const sig = signMessage(privateKey(name), Buffer.from('msg'))
    t.equal(sig.length, len)
    t.equal(signatureLength(privateKey(name).key), len)
    t.ok(verifyMessage(publicKey(name), alg, Buffer.from('msg'), sig))
    t.notOk(verifyMessage(publicKey(name), alg, Buffer.from('msh'), sig))
    t.notOk(verifyMessage(publicKey(name), alg === 'ed25519' ? 'rsa-pss-sha256' : 'ed25519', Buffer.from('msg'), sig))
  }
  t.ok(canReceive(publicKey('admin').key))
  t.notOk(canReceive(publicKey('host').key))
})

t.test('keys that cannot serve are refused with BT_KEY', async (t) => {
  t.throws(() => parsePublicKey('x.key', readFileSync(`${KEYS}admin.key`)), { code: 'BT_KEY', message: /is a private key/ })
  t.throws(() => parsePublicKey('x.pub', 'hello'), { code: 'BT_KEY', message: /not a PEM public key/ })
  t.throws(() => parsePrivateKey('x.key', 'hello'), { code: 'BT_KEY', message: /not a PEM private key/ })
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 })
  t.throws(() => parsePublicKey('s.pub', small.publicKey.export({ type: 'spki', format: 'pem' })), { code: 'BT_KEY', message: /1024 bits/ })
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  t.throws(() => parsePublicKey('ec.pub', ec.publicKey.export({ type: 'spki', format: 'pem' })), { code: 'BT_KEY', message: /is a ec key/ })
  const enc = generateKeyPair('ed25519', Buffer.from('pw'))
  t.match(enc.privatePem, /BEGIN ENCRYPTED PRIVATE KEY/)
  t.throws(() => parsePrivateKey('e.key', enc.privatePem), { code: 'BT_KEY', message: /is encrypted/ })
  t.throws(() => parsePrivateKey('e.key', enc.privatePem, Buffer.from('px')), { code: 'BT_KEY' })
  t.equal(parsePrivateKey('e.key', enc.privatePem, Buffer.from('pw')).fingerprint, enc.fingerprint)
})
