// The openssl recipe of backtory-seal(5), scripts/bt-open.sh, run by dash with
// a PATH that holds no node: its output equals bt-open's, it opens every
// success vector, and it refuses every damaged one before printing a byte.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { parseSealVector } from '../../scripts/gen-seal-vectors.js'
import { ROOT, runBin, sh } from '../helpers.js'
import { makeStream } from '../stream.js'

const K = `${ROOT}test/fixtures/keys/`
const SCRIPT = `${ROOT}scripts/bt-open.sh`
const TOOLS = ['sh', 'dash', 'openssl', 'head', 'tail', 'sed', 'od', 'tr', 'wc', 'cut', 'grep', 'mktemp', 'rm', 'cat', 'chmod', 'zstd', 'gzip']

const have = (cmd: string) => sh(`command -v ${cmd}`).code === 0
const missing = ['dash', 'openssl', 'zstd', 'gzip'].filter((c) => !have(c))
const bin = mkdtempSync(`${tmpdir()}/bt-recipe-path-`)
t.teardown(() => rmSync(bin, { recursive: true, force: true }))
for (const tool of TOOLS) {
  const p = sh(`command -v ${tool}`).stdout.trim()
  if (p) symlinkSync(p, `${bin}/${tool}`)
}

function recipe(args: string[]): { code: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync('dash', [SCRIPT, ...args], { env: { PATH: bin, LC_ALL: 'C' }, maxBuffer: 1 << 28 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() }
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex')

t.test('the recipe runs without node', { skip: missing.length ? `missing ${missing.join(', ')}` : false }, async (t) => {
  t.equal(spawnSync('dash', ['-c', 'command -v node'], { env: { PATH: bin } }).status !== 0, true, 'no node on this PATH')
  const dir = t.testdir({ pw: 'secret\n' })
  const stream = makeStream([
    { meta: { path: 'random', type: 'file' }, data: createHash('sha512').update('x').digest().toString('hex').repeat(4000) },
    { meta: { path: 'noise', type: 'file' }, data: randomBytes(200_000) },
  ])
  writeFileSync(`${dir}/s.bt`, stream)

  t.test('its output is byte-identical to bt-open\'s', async (t) => {
    const cases: Array<[string, string[], string[], string[]]> = [
      ['zstd, Ed25519 signer', ['--compress', 'zstd', '--to', `${K}admin.pub`, '--sign', `${K}host.key`], ['-v', `${K}host.pub`, '-k', `${K}admin.key`], ['--key', `${K}admin.key`, '--verify', `${K}host.pub`]],
      ['gzip, second recipient', ['--compress', 'gzip', '--to', `${K}admin.pub`, '--to', `${K}escrow.pub`, '--sign', `${K}host.key`], ['-v', `${K}host.pub`, '-k', `${K}escrow.key`], ['--key', `${K}escrow.key`, '--verify', `${K}host.pub`]],
      ['none, RSA signer', ['--compress', 'none', '--to', `${K}admin.pub`, '--sign', `${K}rsahost.key`], ['-v', `${K}rsahost.pub`, '-k', `${K}admin.key`], ['--key', `${K}admin.key`, '--verify', `${K}rsahost.pub`]],
      ['zstd, passphrase', ['--passphrase-file', `${dir}/pw`, '--sign', `${K}host.key`], ['-v', `${K}host.pub`, '-p', `${dir}/pw`], ['--passphrase-file', `${dir}/pw`, '--verify', `${K}host.pub`]],
    ]
    for (const [what, sealArgs, recipeArgs, openArgs] of cases) {
      const s = await runBin('bt-seal', [...sealArgs, `${dir}/s.bt`])
      t.equal(s.code, 0, s.stderr)
      writeFileSync(`${dir}/a.bts`, s.stdout)
      const o = await runBin('bt-open', [...openArgs, `${dir}/a.bts`])
      t.equal(o.code, 0, o.stderr)
      const r = recipe([...recipeArgs, `${dir}/a.bts`])
      t.equal(r.code, 0, `${what}: ${r.stderr}`)
      t.ok(r.stdout.equals(o.stdout), `${what}: same bytes as bt-open`)
      t.ok(r.stdout.equals(stream), `${what}: the original stream`)
      const v = recipe(recipeArgs.slice(0, 2).concat(`${dir}/a.bts`))
      t.equal(v.code, 0, `${what}: verify-only`)
      t.equal(v.stdout.length, 0)
    }
  })

  t.test('it refuses a tampered archive before writing anything', async (t) => {
    const s = await runBin('bt-seal', ['--to', `${K}admin.pub`, '--sign', `${K}host.key`, `${dir}/s.bt`])
    const good = s.stdout
    const flipped = Buffer.from(good)
    flipped[Math.floor(good.length / 2)]! ^= 4
    for (const [what, bytes, re] of [
      ['a flipped bit', flipped, /SHA-256 does not match/],
      ['truncated', good.subarray(0, good.length - 5000), /trailer/],
      ['trailing data', Buffer.concat([good, Buffer.from('x')]), /trailer|appended/],
    ] as const) {
      writeFileSync(`${dir}/bad.bts`, bytes)
      const r = recipe(['-v', `${K}host.pub`, '-k', `${K}admin.key`, `${dir}/bad.bts`])
      t.not(r.code, 0, what)
      t.equal(r.stdout.length, 0, `${what}: no output`)
      t.match(r.stderr, re, what)
    }
    writeFileSync(`${dir}/good.bts`, good)
    const signer = recipe(['-v', `${K}other.pub`, '-k', `${K}admin.key`, `${dir}/good.bts`])
    t.not(signer.code, 0)
    t.match(signer.stderr, /is signed by ed25519 [0-9a-f]{64}, not by/)
    const key = recipe(['-v', `${K}host.pub`, '-k', `${K}escrow.key`, `${dir}/good.bts`])
    t.not(key.code, 0)
    t.match(key.stderr, /is not encrypted to key [0-9a-f]{64}/)
  })

  t.test('every seal vector: success vectors open, the others are refused', async (t) => {
    for (const name of readdirSync(`${ROOT}test/vectors`).filter((f) => f.startsWith('seal_'))) {
      const v = parseSealVector(readFileSync(`${ROOT}test/vectors/${name}`))
      writeFileSync(`${dir}/v.bts`, v.archive)
      const key = v.key.startsWith('passphrase:') ? (writeFileSync(`${dir}/vpw`, v.key.slice(11)), ['-p', `${dir}/vpw`]) : ['-k', `${K}${v.key}.key`]
      const r = recipe(['-v', `${K}${v.verify}.pub`, ...key, `${dir}/v.bts`])
      if (v.expect === 'success') {
        t.equal(r.code, 0, `${name}: ${r.stderr}`)
        t.equal(sha256(r.stdout), v.payload, `${name}: payload`)
      } else {
        t.not(r.code, 0, `${name} refused: ${r.stderr.trim().split('\n').pop()}`)
        if (v.verifyOnly !== 'none') t.equal(r.stdout.length, 0, `${name}: nothing written`)
      }
    }
  })
})
