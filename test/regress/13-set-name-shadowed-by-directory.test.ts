// `backtory backup root`, run where ./root exists (cron in /, or root's
// home), backed up the directory ./root with the embedded default instead of
// the set "root", said "stored", and left the set without a backup every
// night. A bare name with a config is the set; a directory is taken only when
// no set of that name is configured, or when it is written as a path.
import t from 'tap'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { runBin } from '../helpers.js'
import { listing, sandbox, writeSet } from '../wrapper/setup.js'

t.setTimeout(300_000)

t.test('a set whose name is also a directory here is backed up as the set', async (t) => {
  const s = sandbox(t.testdir({}))
  const src = `${s.T}/system`
  mkdirSync(src)
  writeFileSync(`${src}/hosts`, '127.0.0.1 localhost\n')
  const url = `file://${s.T}/store/`
  writeSet(s, 'root', [`source = ${src}`, `store = ${url}`])
  const cwd = `${s.T}/cwd`
  mkdirSync(`${cwd}/root`, { recursive: true })
  writeFileSync(`${cwd}/root/.profile`, 'not the set\n')

  const r = await runBin('backtory', ['backup', 'root'], undefined, { ...s.env }, { cwd })
  t.equal(r.code, 0, r.stderr.toString())
  t.match(r.stderr.toString(), /set root: full root_/, 'the set was backed up')
  t.equal(listing(url).length, 1, 'into the set\'s store')
  t.notOk(readdirSync(s.data).includes('default'), 'the embedded default was not used')

  // Written as a path, the directory is what is meant.
  const d = await runBin('backtory', ['backup', './root'], undefined, { ...s.env }, { cwd })
  t.equal(d.code, 0, d.stderr.toString())
  t.ok(readdirSync(s.data).includes('default'), './root: the embedded default backs up the directory')
})
