// backtory.conf recover-script: a stored backup leaves recover.sh for this
// machine at the configured path and carries the layout it was taken from;
// a recover.sh that cannot be written costs a warning (exit 3), not the backup.
import t from 'tap'
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { runBin, sh } from '../helpers.js'
import { backtory, listing, sandbox, writeSet } from './setup.js'

t.setTimeout(600_000)

t.test('each stored backup writes recover.sh and carries the layout', async (t) => {
  const s = sandbox(t.testdir({}))
  const src = `${s.T}/src`
  mkdirSync(src)
  writeFileSync(`${src}/a`, 'alpha\n')
  const script = `${s.T}/off-site/recover.sh`
  mkdirSync(`${s.T}/off-site`)
  const url = `file://${s.T}/store/`
  writeSet(s, 'www', [`source = ${src}`, `store = ${url}`, `recover-script = ${script}`])

  const dry = await backtory(s, ['backup', '--dry-run', 'www'])
  t.equal(dry.code, 0, dry.stderr.toString())
  t.match(dry.stdout.toString(), /--capture 'backtory-layout\.json=\S*node \S*bt-mkrecover\.js --json --store \S+ --set www --verify \S+ \|\| true'/, 'the layout is a capture of the backup')
  t.match(dry.stdout.toString(), /# once the backup is stored:\nbt-mkrecover --store .* --set www --verify .*host\.pub -o .*off-site\/recover\.sh/)

  const b = await backtory(s, ['backup', 'www'])
  t.equal(b.code, 0, b.stderr.toString())
  t.equal(statSync(script).mode & 0o777, 0o755, 'recover.sh is written, executable')
  const layout = JSON.parse(sh(`sh '${script}' --layout`).stdout) as { version: number; backup: { store: string; set: string; signerPublicKey: string } }
  t.equal(layout.version, 1)
  t.equal(layout.backup.store, url, 'it restores from the set\'s store')
  t.equal(layout.backup.set, 'www')
  t.equal(layout.backup.signerPublicKey, readFileSync(s.keys.hostPub, 'utf8'), 'and verifies with the host\'s key, embedded')
  t.equal(sh(`sh '${script}' --plan`).code, 0, 'its plan runs')

  const name = listing(url)[0]!.name
  const carried = await runBin('backtory', ['restore', 'www', '--id', name.split('_').pop()!, '--key', s.keys.admin, '--to', '-', 'backtory-layout.json'], undefined, s.env)
  t.equal(carried.code, 0, carried.stderr.toString())
  const inside = JSON.parse(carried.stdout.toString()) as { version: number; backup: { set: string } }
  t.equal(inside.version, 1, 'the backup carries the layout')
  t.equal(inside.backup.set, 'www')
})

t.test('a recover.sh that cannot be written: the backup is stored, exit 3, and says why', async (t) => {
  const s = sandbox(t.testdir({}))
  const src = `${s.T}/src`
  mkdirSync(src)
  writeFileSync(`${src}/a`, 'alpha\n')
  const url = `file://${s.T}/store/`
  writeSet(s, 'www', [`source = ${src}`, `store = ${url}`, `recover-script = ${s.T}/no/such/dir/recover.sh`])
  const b = await backtory(s, ['backup', 'www'])
  t.equal(b.code, 3, b.stderr.toString())
  t.match(b.stderr.toString(), /bt-mkrecover: error: cannot write ".*no\/such\/dir\/recover\.sh"/)
  t.equal(listing(url).length, 1, 'the backup is stored all the same')
})
