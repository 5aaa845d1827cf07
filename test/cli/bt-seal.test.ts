// bt-seal: usage, key errors, exact messages and exit codes, -o only on
// success, no binary to a terminal, and no final chunk for a bad input stream.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { BIN, ROOT, runBin, sh } from '../helpers.js'
import { makeStream } from '../stream.js'

const K = `${ROOT}test/fixtures/keys/`
const stream = makeStream([{ meta: { path: 'a', type: 'file' }, data: 'hello\n'.repeat(5000) }])
const seal = ['--to', `${K}admin.pub`, '--sign', `${K}host.key`]

for (const tool of ['bt-seal', 'bt-open', 'bt-keygen']) {
  t.test(`${tool} --help, --version and an unknown flag`, async (t) => {
    const h = await runBin(tool, ['--help'])
    t.equal(h.code, 0)
    t.match(h.stdout.toString(), new RegExp(`^${tool} - .*\\n\\nusage:\\n`))
    t.equal(h.stderr, '')
    const v = await runBin(tool, ['--version'])
    t.match(v.stdout.toString(), new RegExp(`^${tool} \\(backtory\\) \\d+\\.\\d+\\.\\d+\\n$`))
    const u = await runBin(tool, ['--no-such-flag'])
    t.equal(u.code, 2)
    t.equal(u.stdout.length, 0)
    t.equal(u.stderr, `${tool}: error: unknown option --no-such-flag\n${tool}: hint: see ${tool} --help\n`)
  })
}

t.test('bt-seal | bt-open restores the stream byte for byte', async (t) => {
  const s = await runBin('bt-seal', [...seal, '--set', 'www'], stream)
  t.equal(s.code, 0, s.stderr)
  t.equal(s.stderr, '')
  t.match(s.stdout.toString('latin1'), /^backtory-seal\/v1\nid: 00112233445566778899aabbccddeeff\nset: www\nkind: full\n/)
  const o = await runBin('bt-open', ['--key', `${K}admin.key`, '--verify', `${K}host.pub`], s.stdout)
  t.equal(o.code, 0, o.stderr)
  t.ok(o.stdout.equals(stream))
})

t.test('usage errors exit 2 with the exact message', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--to', `${K}admin.pub`], /^bt-seal: error: missing --sign KEY: every sealed archive is signed\nbt-seal: hint: make a host key with/],
    [['--sign', `${K}host.key`], /^bt-seal: error: missing --to PUB \(or --passphrase-file FILE\)\n/],
    [[...seal, '--passphrase-file', `${K}README`], /^bt-seal: error: --to and --passphrase-file exclude each other\n$/],
    [[...seal, '--compress', 'lz4'], /^bt-seal: error: --compress must be zstd, gzip or none, not "lz4"\n$/],
    [[...seal, '--set', 'a/b'], /^bt-seal: error: --set "a\/b": use 1 to 64 of/],
    [['--to', `${K}host.pub`, '--sign', `${K}host.key`], /^bt-seal: error: key ".*host\.pub": is an Ed25519 key, which can sign but not be a recipient\n/],
    [['--to', `${K}admin.key`, '--sign', `${K}host.key`], /^bt-seal: error: key ".*admin\.key": is a private key where a public key belongs\n/],
    [['--to', `${K}admin.pub`, '--sign', `${K}host.pub`], /^bt-seal: error: key ".*host\.pub": is not a PEM private key/],
    [[...seal, 'a', 'b'], /^bt-seal: error: too many arguments\n/],
  ]
  for (const [args, re] of cases) {
    const r = await runBin('bt-seal', args, stream)
    t.equal(r.code, 2, args.join(' '))
    t.equal(r.stdout.length, 0)
    t.match(r.stderr, re)
  }
  const missing = await runBin('bt-seal', ['--to', '/no/such.pub', '--sign', `${K}host.key`], stream)
  t.equal(missing.code, 1)
  t.match(missing.stderr, /^bt-seal: error: cannot read public key "\/no\/such\.pub": no such file or directory \(ENOENT\)\n/)
})

t.test('a truncated or corrupt input stream: exit 4, no final chunk, no -o file', async (t) => {
  const dir = t.testdir()
  const big = makeStream([{ meta: { path: 'r', type: 'file' }, data: randomBytes(300_000) }])
  const cut = big.subarray(0, big.length - 2000)
  const r = await runBin('bt-seal', [...seal, '-o', `${dir}/x.bts`], cut)
  t.equal(r.code, 4)
  t.match(r.stderr, /^bt-seal: error: stream is truncated: /)
  t.notOk(existsSync(`${dir}/x.bts`), 'no output file')
  t.same(readdirSync(dir), [], 'no temporary file either')
  const piped = await runBin('bt-seal', seal, cut)
  t.equal(piped.code, 4)
  t.notMatch(piped.stdout.toString('latin1'), /\nend: [0-9a-f]{64} /, 'no trailer on stdout')
  const o = await runBin('bt-open', ['--key', `${K}admin.key`, '--verify', `${K}host.pub`], piped.stdout)
  t.ok(piped.stdout.length > 200_000, 'the chunks before the failure were written')
  t.equal(o.code, 4, 'what it wrote does not open')
  t.match(o.stderr, /^bt-open: error: sealed archive is truncated: /)
  const plain = await runBin('bt-seal', seal, 'hello')
  t.equal(plain.code, 4)
  t.match(plain.stderr, /^bt-seal: error: input is not a backtory stream/)
})

t.test('-o FILE appears on success, mode 0600', async (t) => {
  const dir = t.testdir()
  const r = await runBin('bt-seal', [...seal, '-o', `${dir}/x.bts`], stream)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.length, 0)
  t.ok(readFileSync(`${dir}/x.bts`).subarray(0, 16).equals(Buffer.from('backtory-seal/v1')))
  t.same(readdirSync(dir), ['x.bts'])
})

t.test('bt-seal refuses to write to a terminal', async (t) => {
  const dir = t.testdir({ 's.bt': stream })
  const r = sh(`script -qec "${BIN}/bt-seal.js --to ${K}admin.pub --sign ${K}host.key ${dir}/s.bt" /dev/null`)
  t.equal(r.code, 2, r.stdout)
  t.match(r.stdout, /bt-seal: error: refusing to write a binary stream to a terminal/)
})

t.test('keys made by openssl genpkey, an encrypted signing key, and a passphrase', async (t) => {
  const dir = t.testdir({ pw: 'secret\n', kpw: 'keypass\n' })
  t.equal(sh(`cd ${dir} && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out r.key 2>/dev/null && openssl pkey -in r.key -pubout -out r.pub &&
    openssl genpkey -algorithm ED25519 -aes-256-cbc -pass file:kpw -out h.key && openssl pkey -in h.key -passin file:kpw -pubout -out h.pub`).code, 0)
  const s = await runBin('bt-seal', ['--to', `${dir}/r.pub`, '--sign', `${dir}/h.key`, '--key-passphrase-file', `${dir}/kpw`], stream)
  t.equal(s.code, 0, s.stderr)
  const o = await runBin('bt-open', ['--key', `${dir}/r.key`, '--verify', `${dir}/h.pub`], s.stdout)
  t.equal(o.code, 0, o.stderr)
  t.ok(o.stdout.equals(stream), 'openssl-made keys work')
  const noPass = await runBin('bt-seal', ['--to', `${dir}/r.pub`, '--sign', `${dir}/h.key`], stream)
  t.equal(noPass.code, 2)
  t.match(noPass.stderr, /^bt-seal: error: key ".*h\.key": is encrypted\nbt-seal: hint: give its passphrase with --key-passphrase-file FILE\n$/)
  const p = await runBin('bt-seal', ['--passphrase-file', `${dir}/pw`, '--sign', `${K}host.key`, '--compress', 'gzip'], stream)
  t.equal(p.code, 0, p.stderr)
  writeFileSync(`${dir}/p.bts`, p.stdout)
  const po = await runBin('bt-open', ['--passphrase-file', `${dir}/pw`, '--verify', `${K}host.pub`, `${dir}/p.bts`])
  t.equal(po.code, 0, po.stderr)
  t.ok(po.stdout.equals(stream))
})

t.test('the pipeline of the man page works through real pipes', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n', sub: { b: 'beta\n' } } })
  const r = sh(`${BIN}/bt-scan.js ${dir}/src | ${BIN}/bt-seal.js --to ${K}admin.pub --sign ${K}host.key > ${dir}/etc.bts &&
    ${BIN}/bt-open.js --key ${K}admin.key --verify ${K}host.pub < ${dir}/etc.bts | ${BIN}/bt-restore.js ${dir}/out && cat ${dir}/out/sub/b`)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout, 'beta\n')
})
