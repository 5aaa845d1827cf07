// backtory restore --at against the real FTPS server (vsftpd on 127.0.0.1):
// days stored by the real pipeline through bt-put ftps://, each restored by
// the wrapper from a machine with no config, the store options passed on.
import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { runBin } from '../helpers.js'
import { compareTrees } from '../tree.js'
import { startVsftpd, vsftpdMissing } from '../servers/vsftpd.js'
import { K, makeWeek } from './week.js'

const missing = vsftpdMissing()

t.test('restore --at each day from an FTPS store, with only the URL, its options and the keys', { skip: missing }, async (t) => {
  const srv = await startVsftpd({ tls: true })
  t.teardown(() => srv.stop())
  const dir = t.testdir({})
  writeFileSync(`${dir}/pw`, `${srv.password}\n`)
  writeFileSync(`${dir}/ca.pem`, srv.caPem!)
  const d = srv.dir('wrest')
  const url = `ftps://${srv.user}@127.0.0.1:${srv.port}${d.dir}/`
  const storeOpts = ['--password-file', `${dir}/pw`, '--ca', `${dir}/ca.pem`]
  const days = await makeWeek(dir, url, storeOpts.map((a) => `"${a}"`).join(' '), 3)
  t.same(days.map((x) => x.kind), ['full', 'diff', 'diff'])
  const env = { BT_CONFIG_DIR: `${dir}/no-cfg`, BT_DATA_DIR: `${dir}/no-data` }
  mkdirSync(env.BT_CONFIG_DIR)
  for (const [i, day] of days.entries()) {
    const to = `${dir}/r-${i}`
    const r = await runBin('backtory', ['restore', '--store', url, ...storeOpts, '--key', `${K}/admin.key`, '--verify', `${K}/host.pub`,
      '--at', day.time.toISOString(), '--to', to], undefined, env)
    t.equal(r.code, 0, r.stderr)
    t.same(compareTrees(day.tree, to), [], `day ${i} from ftps`)
  }
  const v = await runBin('backtory', ['verify', '--store', url, ...storeOpts, '--verify', `${K}/host.pub`, '--all'], undefined, env)
  t.equal(v.code, 0, v.stderr)
  t.equal(v.stdout.toString().trim().split('\n').length, 3, 'every backup verified over ftps')
})
