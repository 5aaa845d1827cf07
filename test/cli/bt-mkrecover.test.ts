// bt-mkrecover as a command: --help, refusals (exit 2 and 4, nothing written),
// --layout from a JSON file and from a recover.sh, --json, --store and
// --verify carried into the layout, -o written whole with mode 0755.
import t from 'tap'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { parsePublicKey } from '../../src/crypto/keys.js'
import { ROOT, runBin } from '../helpers.js'
import { zfsMirror } from '../recover/layouts.js'

const K = `${ROOT}test/fixtures/keys`

t.test('--help names every option; an unknown one is a usage error', async (t) => {
  const h = await runBin('bt-mkrecover', ['--help'])
  t.equal(h.code, 0)
  for (const o of ['--root', '--disk', '--store', '--set', '--verify', '--layout', '--raw-replay', '--raw-record', '--json', '--output']) t.match(h.stdout.toString(), o)
  const u = await runBin('bt-mkrecover', ['--bogus'])
  t.equal(u.code, 2)
  t.match(u.stderr, /bt-mkrecover: error: unknown option --bogus/)
})

t.test('--layout renders the saved layout; --json prints it with --store and --verify carried in', async (t) => {
  const dir = t.testdir()
  writeFileSync(`${dir}/l.json`, JSON.stringify(zfsMirror()))
  const r = await runBin('bt-mkrecover', ['--layout', `${dir}/l.json`, '--store', 'file:///srv/store', '--set', 'nas', '--verify', `${K}/host.pub`, '--json'])
  t.equal(r.code, 0, r.stderr)
  const l = JSON.parse(r.stdout.toString())
  t.equal(l.backup.store, 'file:///srv/store')
  t.equal(l.backup.set, 'nas')
  const pub = parsePublicKey('host.pub', readFileSync(`${K}/host.pub`))
  t.equal(l.backup.signer, pub.fingerprint, 'the signer\'s fingerprint')
  t.equal(parsePublicKey('embedded', l.backup.signerPublicKey).fingerprint, pub.fingerprint, 'the embedded key is the host\'s')
  t.same({ ...l, backup: zfsMirror().backup }, zfsMirror(), 'the rest is the layout given')
})

t.test('-o writes recover.sh whole, mode 0755; --layout reads its embedded layout back', async (t) => {
  const dir = t.testdir()
  writeFileSync(`${dir}/l.json`, JSON.stringify(zfsMirror()))
  const r = await runBin('bt-mkrecover', ['--layout', `${dir}/l.json`, '-o', `${dir}/recover.sh`])
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.length, 0)
  t.equal(statSync(`${dir}/recover.sh`).mode & 0o777, 0o755)
  t.match(readFileSync(`${dir}/recover.sh`, 'utf8'), /^#!\/bin\/sh\n# recover\.sh for nas1/)
  t.same(readdirSync(dir).sort(), ['l.json', 'recover.sh'], 'no temporary is left')
  const back = await runBin('bt-mkrecover', ['--layout', `${dir}/recover.sh`, '--json'])
  t.equal(back.code, 0, back.stderr)
  t.same(JSON.parse(back.stdout.toString()), zfsMirror())
})

t.test('bad input is refused with its name, and nothing is written', async (t) => {
  const dir = t.testdir()
  writeFileSync(`${dir}/junk.json`, '{"version": 1, "disks": [')
  writeFileSync(`${dir}/v2.json`, JSON.stringify({ ...zfsMirror(), version: 2 }))
  writeFileSync(`${dir}/cut.json`, JSON.stringify({ ...zfsMirror(), mounts: undefined }))
  const cases: Array<[string[], number, RegExp]> = [
    [['--layout', `${dir}/junk.json`], 4, /error: ".*junk\.json" is not a layout: /],
    [['--layout', `${dir}/v2.json`], 4, /is not a layout of version 1 \(version 2\)/],
    [['--layout', `${dir}/cut.json`], 4, /has no list "mounts"/],
    [['--layout', `${dir}/missing.json`], 1, /cannot read ".*missing\.json"/],
    [['--layout', `${dir}/v2.json`, '--root', '/'], 2, /--layout renders a saved layout/],
    [['--layout', `${dir}/v2.json`, '--store', 'ftp://u:secret@host/x'], 2, /--store must not carry a password/],
    [['--layout', `${dir}/v2.json`, 'extra'], 2, /unexpected argument "extra"/],
    [['--layout', `${dir}/v2.json`, '--verify', `${K}/admin.key`], 2, /private key where a public key belongs/],
  ]
  for (const [args, code, re] of cases) {
    const r = await runBin('bt-mkrecover', [...args, '-o', `${dir}/out.sh`])
    t.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`)
    t.match(r.stderr, re)
    t.notOk(existsSync(`${dir}/out.sh`), 'no output file')
  }
  t.notMatch((await runBin('bt-mkrecover', ['--layout', `${dir}/v2.json`, '--store', 'ftp://u:secret@host/x'])).stderr, /secret/, 'the password is not echoed')
})
