// bt-rm on real stores: file://, and the real FTPS (vsftpd) and SFTP (sshd)
// servers of test/servers. Backups are real: a full of several volumes and a
// differential against it, made by bt-scan | bt-delta | bt-seal and stored by
// bt-put. A removal killed (SIGKILL) between two volumes must leave the backup
// listed INCOMPLETE, never complete, and running bt-rm again must finish it.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { BIN, ROOT, runBin, sh, xorshift } from '../helpers.js'
import { startVsftpd, vsftpdMissing } from '../servers/vsftpd.js'
import { sshdMissing, startSshd } from '../servers/sshd.js'

const K = `${ROOT}test/fixtures/keys`

function noise(n: number, seed: number): Buffer {
  const rnd = xorshift(seed)
  const b = Buffer.alloc(n)
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(Math.floor(rnd() * 0x100000000), i)
  return b
}

interface Archives { full: Buffer; diff: Buffer }

/** A sealed full (about 600 KiB) and a sealed differential against it, made once per test file. */
let made: Archives | undefined
function archives(t: Test): Archives {
  if (made) return made
  const dir = t.testdir({ src: { a: 'alpha\n' } })
  writeFileSync(`${dir}/src/big`, noise(600_000, 3))
  const S = `${dir}/state`
  const seal = `bt-seal.js --compress none --set www --to ${K}/admin.pub --sign ${K}/host.key`
  const r = sh(`set -e; bt-scan.js "${dir}/src" | bt-delta.js --full --state "${S}" | ${seal} > "${dir}/full.bts"
    bt-delta.js --state "${S}" --confirm
    echo beta > "${dir}/src/a"
    bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js --state "${S}" | ${seal} > "${dir}/diff.bts"`)
  if (r.code !== 0) throw new Error(`cannot make the archives: ${r.stderr}`)
  made = { full: readFileSync(`${dir}/full.bts`), diff: readFileSync(`${dir}/diff.bts`) }
  return made
}

interface Store {
  url: string
  /** Options that reach the store (credentials, trust). */
  flags: string[]
  env: NodeJS.ProcessEnv
  /** The directory on the local disk. */
  local: string
}

interface Row { name: string; kind: string; complete: boolean; base_missing: boolean; stored: number; volumes: number; first_volume: boolean }

async function listing(t: Test, s: Store): Promise<Row[]> {
  const r = await runBin('bt-ls', [...s.flags, '--json', '--all', s.url], undefined, s.env)
  t.equal(r.code, 0, r.stderr)
  return r.stdout.toString().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row)
}

/** Stores the full in 64 KiB volumes, then the differential; returns their names. */
async function store(t: Test, s: Store): Promise<{ full: string; diff: string }> {
  const a = archives(t)
  const full = await runBin('bt-put', [...s.flags, '--volume-size', '64k', s.url], a.full, s.env)
  t.equal(full.code, 0, full.stderr)
  const diff = await runBin('bt-put', [...s.flags, s.url], a.diff, s.env)
  t.equal(diff.code, 0, diff.stderr)
  return { full: full.stdout.toString().trim(), diff: diff.stdout.toString().trim() }
}

/** Runs bt-rm with BT_TEST_PAUSE_RM=n and kills it (SIGKILL) where it paused. */
function killAt(args: string[], n: number, env: NodeJS.ProcessEnv): Promise<{ paused: boolean; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${BIN}/bt-rm.js`, ...args], { env: { ...process.env, ...env, BT_TEST_PAUSE_RM: String(n) } })
    let err = ''
    let out = ''
    let paused = false
    child.stdout.on('data', (b: Buffer) => { out += b.toString() })
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString()
      if (!paused && /paused before removing object/.test(err)) {
        paused = true
        child.kill('SIGKILL')
      }
    })
    child.on('error', reject)
    child.on('close', () => resolve({ paused, stderr: err, stdout: out }))
  })
}

/** What every store is held to. */
async function removal(t: Test, s: Store): Promise<void> {
  const { full, diff } = await store(t, s)
  const rows = await listing(t, s)
  const fullVolumes = rows.find((r) => r.name === full)!.volumes
  t.ok(fullVolumes >= 5, `the full has ${fullVolumes} volumes`)

  const refused = await runBin('bt-rm', [...s.flags, s.url, full], undefined, s.env)
  t.equal(refused.code, 1, 'a full with a complete differential is refused')
  t.match(refused.stderr, new RegExp(`bt-rm: error: refusing to remove full ${full}: 1 complete differential is based on it and would become unrestorable: ${diff}`))
  t.match(refused.stderr, /bt-rm: hint: name those differentials too .* or give --force/)
  t.equal(refused.stdout.length, 0)
  t.same(await listing(t, s), rows, 'nothing removed')

  const unknown = await runBin('bt-rm', [...s.flags, s.url, diff, 'www_20200101T000000Z_full_00'], undefined, s.env)
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /no backup named "www_20200101T000000Z_full_00" is stored in .*; nothing was removed/)
  t.same(await listing(t, s), rows, 'an unknown name removes nothing, not even the known one')

  const dry = await runBin('bt-rm', [...s.flags, '-n', s.url, full, diff], undefined, s.env)
  t.equal(dry.code, 0, dry.stderr)
  t.equal(dry.stdout.toString(), `${diff}\n${full}\n`, 'the differential first, then its full')
  t.match(dry.stderr, new RegExp(`would remove 2 backups \\(${fullVolumes + 1} objects\\) .*nothing was removed`))
  t.same(await listing(t, s), rows, '--dry-run removes nothing')

  // Killed after the differential and the full's volume 0001, before its volume 0002.
  const cut = await killAt([...s.flags, s.url, full, diff], 3, s.env)
  t.ok(cut.paused, cut.stderr)
  t.equal(cut.stdout, `${diff}\n`, 'the differential was reported as removed once it was gone')
  const half = await listing(t, s)
  t.same(half.map((r) => [r.name, r.complete, r.first_volume, r.stored]), [[full, false, false, fullVolumes - 1]],
    'the full is listed INCOMPLETE without its volume 0001; the differential is gone')
  const plain = await runBin('bt-ls', [...s.flags, s.url], undefined, s.env)
  t.notMatch(plain.stdout.toString(), /complete/, 'bt-ls lists nothing complete')
  t.ok(half.every((r) => !(r.complete && r.base_missing)), 'no differential listed complete without its base')

  const again = await runBin('bt-rm', [...s.flags, s.url, full, diff], undefined, s.env)
  t.equal(again.code, 1, 'the same line again: the differential is no longer there')
  t.match(again.stderr, /--ignore-missing/)
  const finish = await runBin('bt-rm', [...s.flags, '--ignore-missing', s.url, full, diff], undefined, s.env)
  t.equal(finish.code, 0, finish.stderr)
  t.equal(finish.stdout.toString(), `${full}\n`)
  t.match(finish.stderr, new RegExp(`${diff} is not stored in .*: skipped`))
  t.same(await listing(t, s), [], 'finished: nothing left')
  t.same(readdirSync(s.local), [], 'not a file left on the server')
}

t.test('file://', async (t) => {
  const dir = t.testdir({})
  const s: Store = { url: `file://${dir}/store`, flags: [], env: {}, local: `${dir}/store` }
  await t.test('refusals, --dry-run, a removal killed between volumes and finished', (t) => removal(t, s))

  await t.test('--force orphans the differential, and says so; URL/NAME; -q', async (t) => {
    const { full, diff } = await store(t, s)
    const r = await runBin('bt-rm', ['--force', `${s.url}/${full}`], undefined, s.env)
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout.toString(), `${full}\n`)
    t.match(r.stderr, new RegExp(`bt-rm: warning: 1 complete differential will be left without its full and cannot be restored \\(--force\\): ${diff}`))
    const rows = await listing(t, s)
    t.same(rows.map((x) => [x.name, x.base_missing]), [[diff, true]], 'bt-ls marks it BASE-MISSING')
    const q = await runBin('bt-rm', ['-q', `${s.url}/${diff}`], undefined, s.env)
    t.equal(q.code, 0, q.stderr)
    t.equal(q.stdout.length + q.stderr.length, 0, '-q: nothing printed')
    t.same(await listing(t, s), [])
  })

  await t.test('usage: no name, a volume name, names in two directories, --help, an unknown option', async (t) => {
    const none = await runBin('bt-rm', [s.url])
    t.equal(none.code, 2)
    t.match(none.stderr, /missing NAME/)
    const vol = await runBin('bt-rm', [`${s.url}/www_20261201T000000Z_full_ab.0001-of-0002.sealed`])
    t.equal(vol.code, 2)
    t.match(vol.stderr, /name the backup, not a volume/)
    const two = await runBin('bt-rm', [`${s.url}/www_20261201T000000Z_full_ab`, `${s.url}/x/www_20261201T000000Z_full_cd`])
    t.equal(two.code, 2)
    t.match(two.stderr, /more than one directory/)
    const help = await runBin('bt-rm', ['--help'])
    t.equal(help.code, 0)
    t.match(help.stdout.toString(), /--ignore-missing/)
    t.equal((await runBin('bt-rm', ['--frobnicate', s.url, 'x'])).code, 2)
  })
})

t.test('ftps:// on a real vsftpd', { skip: vsftpdMissing() }, async (t) => {
  const srv = await startVsftpd({ tls: true })
  t.teardown(() => srv.stop())
  const dir = t.testdir({})
  writeFileSync(`${dir}/ca.pem`, srv.caPem!)
  const d = srv.dir('rm')
  await removal(t, { url: `ftps://${srv.user}@127.0.0.1:${srv.port}${d.dir}`, flags: ['--ca', `${dir}/ca.pem`], env: { BT_PASSWORD: srv.password }, local: d.localDir })
})

t.test('sftp:// on a real sshd', { skip: sshdMissing() }, async (t) => {
  const srv = await startSshd()
  t.teardown(() => srv.stop())
  const dir = t.testdir({})
  writeFileSync(`${dir}/id`, srv.identity, { mode: 0o600 })
  const d = srv.dir('rm')
  await removal(t, { url: `sftp://${srv.user}@127.0.0.1:${srv.port}${d.dir}`, flags: ['-i', `${dir}/id`, '--known-hosts', srv.knownHostsFile], env: {}, local: d.localDir })
})
