// The README's first command: `backtory backup DIR` on the embedded default
// (keys, store and state made on the first run), then list, verify with the
// public key only, and a restore into a scratch directory compared with DIR;
// run twice: a full, then a differential.
import t from 'tap'
import { appendFileSync, readdirSync } from 'node:fs'
import { ROOT, sh } from '../helpers.js'

t.test('scripts/quickstart.sh runs the main job twice: full, then differential', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n', sub: { b: 'beta\n' } } })
  const env = { BT_DATA_DIR: `${dir}/data`, BT_CONFIG_DIR: `${dir}/etc` }
  const first = sh(`sh "${ROOT}scripts/quickstart.sh" "${dir}/src"`, env)
  t.equal(first.code, 0, first.stderr)
  t.match(first.stderr, /set src: full src_\S+_full_/)
  t.match(first.stderr, /warning: \S+admin\.key decrypts every backup: copy it off this host/)
  t.match(first.stdout, /^verified src_\S+_full_\S+ .*signature good$/m)
  t.match(first.stdout, /identical to/)
  appendFileSync(`${dir}/src/a`, 'more\n')
  await new Promise((r) => setTimeout(r, 1100)) // a new second: a new archive name
  const second = sh(`sh "${ROOT}scripts/quickstart.sh" "${dir}/src"`, env)
  t.equal(second.code, 0, second.stderr)
  t.match(second.stderr, /set src: diff src_\S+_diff_/)
  t.match(second.stdout, /^verified src_\S+_diff_/m)
  t.match(second.stdout, /identical to/, 'full + differential restore the changed tree')
  const backups = readdirSync(`${dir}/data/default/store`).filter((n) => n.endsWith('.sealed') && !n.includes('_index_'))
  t.equal(backups.length, 2, 'two backups in the store')
  t.same(readdirSync(`${dir}/data/default`).filter((n) => /\.(key|pub)$/.test(n)).sort(), ['admin.key', 'admin.pub', 'host.key', 'host.pub'])
})
