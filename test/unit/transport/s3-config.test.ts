// s3:// configuration without a server: URLs, where keys, region and endpoint
// come from (first match wins), and bt-put's retention options.
import t from 'tap'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseIni, resolveS3 } from '../../../src/transport/s3-config.js'
import { parseTarget } from '../../../src/transport/url.js'
import { retention } from '../../../src/cli/retention.js'

t.test('s3:// URLs: bucket and prefix', async (t) => {
  t.match(parseTarget('s3://backups/srv/www'), { scheme: 's3', host: 'backups', path: 'srv/www/', display: 's3://backups/srv/www/' })
  t.match(parseTarget('s3://backups'), { host: 'backups', path: '', display: 's3://backups/' })
  t.match(parseTarget('s3://backups//a//b/'), { path: 'a/b/' }, 'empty components collapse')
  for (const bad of ['s3://u@b-1/x', 's3://b-1:9000/x', 's3://Bad/x', 's3://ab/x', 's3://b_1/x']) {
    t.throws(() => parseTarget(bad), { code: 'BT_USAGE' }, bad)
  }
})

t.test('INI files as the aws CLI writes them', async (t) => {
  const ini = parseIni('# c\n[default]\naws_access_key_id = A\n; c\n[profile x]\nregion=eu-west-1\n  AWS_Secret_Access_Key =  s=1 \n')
  t.equal(ini.get('default')?.get('aws_access_key_id'), 'A')
  t.equal(ini.get('profile x')?.get('region'), 'eu-west-1')
  t.equal(ini.get('profile x')?.get('aws_secret_access_key'), 's=1', 'keys are case-insensitive, values keep "="')
})

t.test('keys, region and endpoint: first match wins', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'bt-s3cfg-'))
  mkdirSync(join(home, '.aws'))
  writeFileSync(join(home, '.aws', 'credentials'), '[default]\naws_access_key_id = FILE\naws_secret_access_key = FS\n[ci]\naws_access_key_id = CI\naws_secret_access_key = CS\naws_session_token = T\n')
  writeFileSync(join(home, '.aws', 'config'), '[default]\nregion = eu-central-1\n[profile ci]\nregion = ap-south-1\n')
  const base = { bucket: 'b-1' }
  let c = resolveS3({ ...base, env: { HOME: home } })
  t.match(c, { keys: { accessKeyId: 'FILE', secretAccessKey: 'FS' }, region: 'eu-central-1' })
  t.equal(c.endpoint, undefined, 'AWS when no endpoint')
  c = resolveS3({ ...base, env: { HOME: home, AWS_PROFILE: 'ci' } })
  t.match(c, { keys: { accessKeyId: 'CI', sessionToken: 'T' }, region: 'ap-south-1' }, 'AWS_PROFILE picks the sections')
  c = resolveS3({ ...base, env: { HOME: home, AWS_ACCESS_KEY_ID: 'E', AWS_SECRET_ACCESS_KEY: 'ES', AWS_REGION: 'us-west-2', BT_S3_ENDPOINT: 'http://127.0.0.1:7480' } })
  t.match(c, { keys: { accessKeyId: 'E', source: 'AWS_ACCESS_KEY_ID' }, region: 'us-west-2' }, 'the environment before ~/.aws')
  t.equal(c.endpoint?.href, 'http://127.0.0.1:7480/')
  c = resolveS3({ ...base, env: { HOME: home, AWS_ACCESS_KEY_ID: 'E', AWS_SECRET_ACCESS_KEY: 'ES', AWS_PROFILE: 'ci' }, credentialsFile: join(home, '.aws', 'credentials'), region: 'r1', endpoint: 'https://s3.example.net' })
  t.match(c, { keys: { accessKeyId: 'CI' }, region: 'r1' }, '--credentials-file and --region before everything')
  t.throws(() => resolveS3({ ...base, env: { HOME: '/nonexistent' } }), { code: 'BT_USAGE', message: /no S3 credentials for s3:\/\/b-1\// })
  t.throws(() => resolveS3({ ...base, env: { HOME: home, AWS_PROFILE: 'nope' }, credentialsFile: join(home, '.aws', 'credentials') }), { code: 'BT_USAGE', message: /\[nope\]/ })
  t.throws(() => resolveS3({ ...base, env: { HOME: home }, credentialsFile: join(home, 'missing') }), { code: 'BT_IO_ENOENT' })
  for (const bad of ['ftp://h', 'http://k:s@h', 'nonsense', 'http://h/?x=1']) {
    const err = t.throws(() => resolveS3({ ...base, env: { HOME: home }, endpoint: bad }), { code: 'BT_USAGE' }, bad) as Error
    t.notMatch(err?.message ?? '', /k:s/, 'a secret in the endpoint is not echoed')
  }
})

t.test('--retain, --retain-until, --retain-mode', async (t) => {
  const now = Date.UTC(2026, 0, 1)
  t.same(retention({}, 's3', now), undefined)
  t.same(retention({ retain: '2' }, 's3', now), { mode: 'GOVERNANCE', until: new Date(now + 2 * 86_400_000) })
  t.same(retention({ 'retain-until': '2027-03-04', 'retain-mode': 'Compliance' }, 's3', now), { mode: 'COMPLIANCE', until: new Date('2027-03-04T00:00:00Z') })
  t.same(retention({ 'retain-until': '2027-03-04T05:06:07Z' }, 's3', now)?.until, new Date('2027-03-04T05:06:07Z'))
  for (const [o, scheme] of [[{ retain: '0' }, 's3'], [{ retain: 'x' }, 's3'], [{ 'retain-until': '2025-12-31' }, 's3'], [{ 'retain-until': '2027-13-45' }, 's3'],
    [{ 'retain-until': 'tomorrow' }, 's3'], [{ retain: '1', 'retain-until': '2027-01-01' }, 's3'], [{ 'retain-mode': 'governance' }, 's3'],
    [{ retain: '1', 'retain-mode': 'legal' }, 's3'], [{ retain: '1' }, 'sftp']] as const) {
    t.throws(() => retention(o, scheme, now), { code: 'BT_USAGE' }, JSON.stringify(o))
  }
})
