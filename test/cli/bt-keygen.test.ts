// bt-keygen: the files, their modes, the fingerprint, refusing to overwrite,
// an encrypted key, and that its keys seal and open.
import t from 'tap'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { runBin, sh } from '../helpers.js'
import { makeStream } from '../stream.js'

t.test('writes PREFIX.key (0600) and PREFIX.pub, prints the fingerprint', async (t) => {
  const dir = t.testdir()
  const r = await runBin('bt-keygen', ['--out', `${dir}/admin`])
  t.equal(r.code, 0, r.stderr)
  const fpr = sh(`openssl pkey -pubin -in ${dir}/admin.pub -outform DER | openssl dgst -sha256 -r`).stdout.slice(0, 64)
  t.equal(r.stdout.toString(), `${fpr}\n`)
  t.equal(r.stderr, `bt-keygen: wrote "${dir}/admin.key" (rsa private key, mode 0600) and "${dir}/admin.pub"\n`)
  t.equal(statSync(`${dir}/admin.key`).mode & 0o777, 0o600)
  t.match(readFileSync(`${dir}/admin.key`, 'utf8'), /^-----BEGIN PRIVATE KEY-----\n/)
  t.match(readFileSync(`${dir}/admin.pub`, 'utf8'), /^-----BEGIN PUBLIC KEY-----\n/)
  t.match(sh(`openssl pkey -pubin -in ${dir}/admin.pub -text -noout`).stdout, /Public-Key: \(3072 bit\)/)
})

t.test('refuses to overwrite, and leaves the old pair alone', async (t) => {
  const dir = t.testdir({ 'host.pub': 'old' })
  const r = await runBin('bt-keygen', ['--out', `${dir}/host`, '--type', 'ed25519'])
  t.equal(r.code, 2)
  t.equal(r.stdout.length, 0)
  t.match(r.stderr, /^bt-keygen: error: ".*host\.pub" already exists; refusing to overwrite it\n/)
  t.equal(readFileSync(`${dir}/host.pub`, 'utf8'), 'old')
})

t.test('usage errors', async (t) => {
  t.match((await runBin('bt-keygen', [])).stderr, /^bt-keygen: error: missing --out PREFIX\n/)
  const bad = await runBin('bt-keygen', ['--out', 'x', '--type', 'dsa'])
  t.equal(bad.code, 2)
  t.match(bad.stderr, /^bt-keygen: error: --type must be rsa or ed25519, not "dsa"\n$/)
  t.equal((await runBin('bt-keygen', ['--out', 'x', 'extra'])).code, 2)
})

t.test('an encrypted ed25519 key signs; the rsa key receives', async (t) => {
  const dir = t.testdir({ pw: 'hunter2\n' })
  t.equal((await runBin('bt-keygen', ['--out', `${dir}/host`, '--type', 'ed25519', '--passphrase-file', `${dir}/pw`])).code, 0)
  t.equal((await runBin('bt-keygen', ['--out', `${dir}/admin`])).code, 0)
  t.match(readFileSync(`${dir}/host.key`, 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/)
  t.equal(sh(`openssl pkey -in ${dir}/host.key -passin file:${dir}/pw -noout`).code, 0, 'openssl reads it')
  const stream = makeStream([{ meta: { path: 'a', type: 'file' }, data: 'x' }])
  writeFileSync(`${dir}/s.bt`, stream)
  const s = await runBin('bt-seal', ['--to', `${dir}/admin.pub`, '--sign', `${dir}/host.key`, '--key-passphrase-file', `${dir}/pw`, `${dir}/s.bt`])
  t.equal(s.code, 0, s.stderr)
  const o = await runBin('bt-open', ['--key', `${dir}/admin.key`, '--verify', `${dir}/host.pub`], s.stdout)
  t.ok(o.stdout.equals(stream))
})
