// The README's first command: keys, a sealed full, then a sealed differential,
// each verified and restored into a scratch directory.
import t from 'tap'
import { appendFileSync, readdirSync } from 'node:fs'
import { ROOT, sh } from '../helpers.js'

t.test('scripts/quickstart.sh runs the main job twice: full, then differential', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n', sub: { b: 'beta\n' } } })
  const env = { BT_STORE: `${dir}/store` }
  const first = sh(`sh "${ROOT}scripts/quickstart.sh" "${dir}/src"`, env)
  t.equal(first.code, 0, first.stderr)
  t.match(first.stdout, /^kind: full$/m)
  t.match(first.stdout, /identical to/)
  appendFileSync(`${dir}/src/a`, 'more\n')
  await new Promise((r) => setTimeout(r, 1100)) // a new second: a new archive name
  const second = sh(`sh "${ROOT}scripts/quickstart.sh" "${dir}/src"`, env)
  t.equal(second.code, 0, second.stderr)
  t.match(second.stdout, /^kind: diff$/m)
  t.match(second.stdout, /identical to/)
  t.equal(readdirSync(`${dir}/store/backups`).filter((n) => n.endsWith('.sealed')).length, 2, 'two backups in the store')
  t.match(second.stdout, /_diff_/, 'bt-ls lists the differential')
  t.same(readdirSync(`${dir}/store/keys`).sort(), ['admin.key', 'admin.pub', 'host.key', 'host.pub'])
})
