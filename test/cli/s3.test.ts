// The bins over s3:// against a real radosgw (test/servers/radosgw.ts):
// bt-put | bt-ls | bt-get with keys from the environment, from
// ~/.aws/credentials and from --credentials-file; --retain; and the
// clear, secret-free errors an admin meets first.
import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { BIN, ROOT, sh } from '../helpers.js'
import { radosgwMissing, startRadosgw } from '../servers/radosgw.js'

// The pinned SDK warns on stderr that later releases need Node 22; the bins silence it too.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const why = radosgwMissing()
if (why !== undefined) {
  t.comment(`skip: ${why}`)
  t.pass('skipped')
} else {
  const srv = await startRadosgw()
  const admin = new S3Client({
    region: 'us-east-1', endpoint: srv.endpoint, forcePathStyle: true, credentials: { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
  })
  t.teardown(async () => {
    admin.destroy()
    await srv.stop()
  })
  t.afterEach((t) => {
    if (!t.passing()) t.comment(srv.log())
  })
  await admin.send(new CreateBucketCommand({ Bucket: 'plain' }))
  await admin.send(new CreateBucketCommand({ Bucket: 'worm', ObjectLockEnabledForBucket: true }))
  const K = `${ROOT}test/fixtures/keys`
  const dir = mkdtempSync(join(tmpdir(), 'bt-s3-cli-'))
  t.teardown(() => sh(`rm -rf "${dir}"`))
  const made = sh(`set -e; mkdir "${dir}/src"; head -c 300000 /dev/urandom > "${dir}/src/f"; echo hi > "${dir}/src/g"
    node ${BIN}/bt-scan.js "${dir}/src" | node ${BIN}/bt-seal.js --set www --to ${K}/admin.pub --sign ${K}/host.key > "${dir}/a.bts"`)
  if (made.code !== 0) throw new Error(made.stderr)
  const env = { AWS_ACCESS_KEY_ID: srv.accessKey, AWS_SECRET_ACCESS_KEY: srv.secretKey, BT_S3_ENDPOINT: srv.endpoint, HOME: dir, AWS_PROFILE: '' }

  await t.test('bt-put, bt-ls, bt-get with keys from the environment', async (t) => {
    const put = sh(`node ${BIN}/bt-put.js --volume-size 128K --verify ${K}/host.pub s3://plain/www/ < "${dir}/a.bts"`, env)
    t.equal(put.code, 0, put.stderr)
    t.notMatch(put.stderr, /NodeVersionSupportWarning|warning/i, 'no SDK noise on stderr')
    const name = put.stdout.trim()
    t.match(name, /^www_\d{8}T\d{6}Z_full_/, 'prints the stored name')
    const ls = sh(`node ${BIN}/bt-ls.js --json s3://plain/www/`, env)
    t.equal(ls.code, 0, ls.stderr)
    const row = JSON.parse(ls.stdout) as Record<string, unknown>
    t.equal(row.name, name)
    t.equal(row.complete, true)
    t.equal(row.retain_until, null, 'not locked')
    const get = sh(`node ${BIN}/bt-get.js --verify ${K}/host.pub -o "${dir}/back.bts" s3://plain/www/latest`, env)
    t.equal(get.code, 0, get.stderr)
    t.ok(readFileSync(`${dir}/back.bts`).equals(readFileSync(`${dir}/a.bts`)), 'bt-get gives the archive back byte-identical')
    const again = sh(`node ${BIN}/bt-put.js s3://plain/www/ < "${dir}/a.bts"`, env)
    t.equal(again.code, 1, 'the same backup again is refused')
    t.match(again.stderr, /bt-put: error: backup .* is already stored in s3:\/\/plain\/www\//)
  })

  await t.test('keys from ~/.aws/credentials (AWS_PROFILE) and from --credentials-file', async (t) => {
    writeFileSync(`${dir}/creds`, `[default]\naws_access_key_id = wrong\naws_secret_access_key = wrong\n[ci]\naws_access_key_id = ${srv.accessKey}\naws_secret_access_key = ${srv.secretKey}\n`)
    sh(`mkdir -p "${dir}/.aws" && cp "${dir}/creds" "${dir}/.aws/credentials"`)
    const home = { BT_S3_ENDPOINT: srv.endpoint, HOME: dir, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' }
    t.equal(sh(`node ${BIN}/bt-ls.js s3://plain/www/`, { ...home, AWS_PROFILE: 'ci' }).code, 0, 'the [ci] section of ~/.aws/credentials')
    const bad = sh(`node ${BIN}/bt-ls.js s3://plain/www/`, { ...home, AWS_PROFILE: '' })
    t.equal(bad.code, 1, 'the [default] section, with wrong keys')
    t.match(bad.stderr, /bt-ls: error: listing s3:\/\/plain\/www\/ failed: the server refused the credentials/)
    t.match(bad.stderr, /bt-ls: hint: check the access key/)
    t.notMatch(bad.stderr, new RegExp(srv.secretKey.replace(/[-_]/g, '.')), 'no secret in any message')
    const file = sh(`node ${BIN}/bt-ls.js --credentials-file "${dir}/creds" --endpoint ${srv.endpoint} s3://plain/www/`, { HOME: '/nonexistent', AWS_PROFILE: 'ci', BT_S3_ENDPOINT: '' })
    t.equal(file.code, 0, file.stderr)
    const none = sh(`node ${BIN}/bt-ls.js s3://plain/www/`, { HOME: '/nonexistent', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', BT_S3_ENDPOINT: srv.endpoint })
    t.equal(none.code, 2, 'no keys anywhere is a usage error')
    t.match(none.stderr, /no S3 credentials for s3:\/\/plain\//)
  })

  await t.test('--retain locks the backup; bt-ls shows until when', async (t) => {
    const put = sh(`node ${BIN}/bt-put.js --retain 2 --volume-size 128K s3://worm/www/ < "${dir}/a.bts"`, env)
    t.equal(put.code, 0, put.stderr)
    t.match(put.stderr, /locked until \d{4}-\d\d-\d\dT.*\(governance\)/)
    const ls = sh(`node ${BIN}/bt-ls.js s3://worm/www/`, env)
    t.match(ls.stdout, /\tcomplete\tlocked-until=\d{4}-\d\d-\d\dT[^\t]*\(governance\)\twww_/, 'the lock shows in the listing')
    const plain = sh(`node ${BIN}/bt-put.js --retain 2 s3://plain/other/ < "${dir}/a.bts"`, env)
    t.equal(plain.code, 1, 'a bucket without Object Lock')
    t.match(plain.stderr, /does not have S3 Object Lock enabled/)
    t.equal(sh(`node ${BIN}/bt-ls.js s3://plain/other/`, env).stdout, '', 'and nothing was stored')
  })

  await t.test('bt-rm: a locked backup stays and says until when; an unlocked one goes', async (t) => {
    const name = JSON.parse(sh(`node ${BIN}/bt-ls.js --json s3://worm/www/`, env).stdout.split('\n')[0]!).name as string
    const rm = sh(`node ${BIN}/bt-rm.js s3://worm/www/ ${name}`, env)
    t.equal(rm.code, 3, 'partial: the store refused what retention holds')
    t.match(rm.stderr, /locked until \d{4}-\d\d-\d\dT/, 'the reason, with the date')
    const still = JSON.parse(sh(`node ${BIN}/bt-ls.js --json s3://worm/www/`, env).stdout.split('\n')[0]!) as Record<string, unknown>
    t.equal(still.name, name)
    t.equal(still.complete, true, 'still listed complete: no volume went')
    const plain = JSON.parse(sh(`node ${BIN}/bt-ls.js --json s3://plain/www/`, env).stdout.split('\n')[0]!).name as string
    const gone = sh(`node ${BIN}/bt-rm.js s3://plain/www/${plain}`, env)
    t.equal(gone.code, 0, gone.stderr)
    t.equal(gone.stdout.trim(), plain, 'prints the removed name')
    t.equal(sh(`node ${BIN}/bt-ls.js --json s3://plain/www/`, env).stdout, '', 'nothing left')
  })

  await t.test('usage errors', async (t) => {
    const cases: [string, RegExp][] = [
      [`node ${BIN}/bt-put.js --retain 3 "${dir}/store" < "${dir}/a.bts"`, /has no object lock/],
      [`node ${BIN}/bt-put.js --retain 3 --retain-until 2099-01-01 s3://worm/x/ < "${dir}/a.bts"`, /not both/],
      [`node ${BIN}/bt-put.js --retain-until 2001-01-01 s3://worm/x/ < "${dir}/a.bts"`, /not in the future/],
      [`node ${BIN}/bt-put.js --retain-mode legal --retain 1 s3://worm/x/ < "${dir}/a.bts"`, /neither "governance" nor "compliance"/],
      [`node ${BIN}/bt-ls.js --endpoint http://x "${dir}"`, /--endpoint applies to s3:\/\/ URLs only/],
      [`node ${BIN}/bt-ls.js s3://user@plain/x/`, /has a user or a port/],
      [`node ${BIN}/bt-ls.js s3://Bad_Bucket/x/`, /is not an S3 bucket name/],
      [`node ${BIN}/bt-ls.js --endpoint ftp://h s3://plain/x/`, /is not an http\(s\):\/\/HOST\[:PORT\] URL/],
    ]
    for (const [cmd, re] of cases) {
      const r = sh(cmd, env)
      t.equal(r.code, 2, cmd)
      t.match(r.stderr, re)
    }
  })

  await t.test('a missing bucket', async (t) => {
    const r = sh(`node ${BIN}/bt-put.js s3://nobucket/www/ < "${dir}/a.bts"`, env)
    t.equal(r.code, 1)
    t.match(r.stderr, /bt-put: error: opening s3:\/\/nobucket\/www\/ failed: the bucket does not exist at http:\/\/127\.0\.0\.1:\d+/)
    t.match(r.stderr, /hint: create the bucket first/)
  })
}
