// bt-open: every refusal named exactly with exit 4, --info, --verify-only
// without a private key, -o only on success, no binary to a terminal.
import t from 'tap'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { parseSealVector } from '../../scripts/gen-seal-vectors.js'
import { BIN, ROOT, runBin, sh } from '../helpers.js'

const K = `${ROOT}test/fixtures/keys/`
const vector = (name: string) => parseSealVector(readFileSync(`${ROOT}test/vectors/seal_${name}`)).archive
const good = vector('success')
const open = ['--key', `${K}admin.key`, '--verify', `${K}host.pub`]
const ADMIN = '9ae3b23eb0bb639d8260bc8e4143bd7035eee5f278a5faab2913cf825891fc6b'

t.test('--info prints the header without any key', async (t) => {
  const r = await runBin('bt-open', ['--info'], good)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.toString(), [
    'format: backtory-seal/v1', 'id: 00112233445566778899aabbccddeeff', 'set: www', 'kind: full', 'time: 2026-01-01T00:00:00.000Z',
    'compress: none', 'chunk: 256', `recipient: rsa-oaep-sha256 ${ADMIN}`,
    `signer: ed25519 ${hostFpr()} (not verified)`, '',
  ].join('\n'))
  const v = await runBin('bt-open', ['--info', '--verify', `${K}host.pub`], good)
  t.match(v.stdout.toString(), /\(header signature verified with ".*host\.pub"\)\n$/)
  const bad = await runBin('bt-open', ['--info', '--verify', `${K}other.pub`], good)
  t.equal(bad.code, 4)
  t.match(bad.stderr, /^bt-open: error: archive is signed by ed25519 key [0-9a-f]{64}, which is not a --verify key \(given: [0-9a-f]{64}\)\n/)
})

function hostFpr(): string {
  return sh(`openssl pkey -pubin -in ${K}host.pub -outform DER | openssl dgst -sha256 -r`).stdout.slice(0, 64)
}

t.test('--verify-only checks without a private key', async (t) => {
  const r = await runBin('bt-open', ['--verify-only', '--verify', `${K}host.pub`], good)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.toString(), `verified: archive 00112233445566778899aabbccddeeff (set www, full, 2026-01-01T00:00:00.000Z), ${good.length} bytes, signed by ${hostFpr()}\n`)
  const bad = await runBin('bt-open', ['--verify-only', '--verify', `${K}host.pub`], vector('chunk_changed'))
  t.equal(bad.code, 4)
  t.equal(bad.stdout.length, 0)
  t.match(bad.stderr, /^bt-open: error: the archive's SHA-256 does not match its trailer/)
})

t.test('every refusal exits 4 and names the problem', async (t) => {
  const cases: Array<[string, RegExp, string[]?]> = [
    ['wrong_key', new RegExp(`^bt-open: error: archive is not encrypted to key [0-9a-f]{64}\\nbt-open: hint: it is encrypted to ${ADMIN}; use the private key of one of these\\n$`), ['--key', `${K}escrow.key`, '--verify', `${K}host.pub`]],
    ['unknown_signer', /^bt-open: error: archive is signed by ed25519 key [0-9a-f]{64}, which is not a --verify key/],
    ['header_changed', /^bt-open: error: bad signature on the header \(signer [0-9a-f]{64}\)\n/],
    ['trailer_changed', /^bt-open: error: bad signature on the trailer \(signer [0-9a-f]{64}\)\n/],
    ['chunk_changed', /^bt-open: error: chunk 1 failed authentication: it was changed \(bytes \d+ to \d+\)\n/],
    ['chunks_swapped', /^bt-open: error: chunk 0 is chunk 1 of this archive: chunks were reordered, swapped or duplicated/],
    ['truncated_at_chunk_boundary', /^bt-open: error: sealed archive is truncated: it ends after chunk 2, and chunk 2 is not the final chunk: no trailer follows\n/],
    ['truncated_in_trailer', /^bt-open: error: sealed archive is truncated: /],
    ['trailing_byte', /^bt-open: error: data after the end of the sealed archive: 1 bytes after the trailer, which ends at byte \d+\n/],
    ['not_sealed', /^bt-open: error: input is not a sealed backtory archive \(no backtory-seal\/v1 line at its start\)\n/],
  ]
  for (const [name, re, args] of cases) {
    const r = await runBin('bt-open', args ?? open, vector(name))
    t.equal(r.code, 4, name)
    t.match(r.stderr, re, name)
  }
})

t.test('nothing unauthenticated is written: a changed final chunk leaves only the chunks before it', async (t) => {
  const r = await runBin('bt-open', open, vector('final_chunk_changed'))
  t.equal(r.code, 4)
  t.equal(r.stdout.length, 768, 'the three authenticated chunks, not the final one')
  const trailer = await runBin('bt-open', open, vector('trailer_changed'))
  t.equal(trailer.code, 4)
  t.equal(trailer.stdout.length, 768, 'the final chunk waits for the trailer\'s signature')
})

t.test('usage errors exit 2', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--key', `${K}admin.key`], /^bt-open: error: missing --verify PUB: archives are accepted only from known signers\n/],
    [['--verify', `${K}host.pub`], /^bt-open: error: missing --key KEY \(or --passphrase-file FILE\)\n/],
    [['--verify-only', '--verify', `${K}host.pub`, '--key', `${K}admin.key`], /^bt-open: error: --verify-only takes no --key/],
    [['--verify-only', '--no-verify'], /^bt-open: error: --verify-only needs --verify PUB, not --no-verify\n/],
    [['--info', '--verify-only'], /^bt-open: error: --info and --verify-only exclude each other\n/],
    [[...open, '--no-verify'], /^bt-open: error: --verify and --no-verify exclude each other\n/],
    [['--no-verify', ...open], /^bt-open: error: --verify and --no-verify exclude each other\n/],
  ]
  for (const [args, re] of cases) {
    const r = await runBin('bt-open', args, good)
    t.equal(r.code, 2, args.join(' '))
    t.match(r.stderr, re)
  }
})

t.test('--no-verify opens with a notice', async (t) => {
  const r = await runBin('bt-open', ['--key', `${K}admin.key`, '--no-verify'], vector('unknown_signer'))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /^bt-open: --no-verify: the signer \(ed25519 [0-9a-f]{64}\) is not checked; the output is not authenticated\n$/)
  t.equal(r.stdout.length, 1000)
})

t.test('-o FILE appears only on success', async (t) => {
  const dir = t.testdir()
  writeFileSync(`${dir}/bad.bts`, vector('chunk_changed'))
  const bad = await runBin('bt-open', [...open, '-o', `${dir}/out`, `${dir}/bad.bts`])
  t.equal(bad.code, 4)
  t.notOk(existsSync(`${dir}/out`))
  t.same(readdirSync(dir), ['bad.bts'])
  const ok = await runBin('bt-open', [...open, '-o', `${dir}/out`], good)
  t.equal(ok.code, 0)
  t.equal(readFileSync(`${dir}/out`).length, 1000)
})

t.test('bt-open refuses to write to a terminal', async (t) => {
  const dir = t.testdir({ 'a.bts': good })
  const r = sh(`script -qec "${BIN}/bt-open.js --key ${K}admin.key --verify ${K}host.pub ${dir}/a.bts" /dev/null`)
  t.equal(r.code, 2, r.stdout)
  t.match(r.stdout, /bt-open: error: refusing to write a binary stream to a terminal/)
})
