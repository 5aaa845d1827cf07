// Issue 11: nightly `backtory backup` to the real FTPS server, each night restored by hand and compared (backup-days.ts).
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { startVsftpd, vsftpdMissing } from '../servers/vsftpd.js'
import { sandbox } from './setup.js'
import { week } from './backup-days.js'

const missing = vsftpdMissing()
// Eight days of backups and sixteen restores over TLS: more than the default file timeout on a loaded machine.
t.setTimeout(1800_000)

t.test('a week of backups on ftps://, each day restored exactly', { skip: missing ?? false }, async (t) => {
  const srv = await startVsftpd({ tls: true })
  t.teardown(() => srv.stop())
  const s = sandbox(t.testdir({}))
  const pw = `${s.T}/ftp.pw`
  writeFileSync(pw, `${srv.password}\n`, { mode: 0o600 })
  const url = `ftps://${srv.user}@127.0.0.1:${srv.port}${srv.dir('week').dir}/`
  await week(t, s, {
    url, conf: [`store-password-file = ${pw}`, `store-fingerprint = ${srv.fingerprint}`],
    args: `--password-file ${pw} --fingerprint ${srv.fingerprint}`,
    // Over TLS a shorter week (full, three differentials, full): the file:// week runs all seven days.
    fullAfter: 3,
  })
})
