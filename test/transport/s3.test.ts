// s3:// against a real Ceph radosgw on 127.0.0.1 (test/servers/radosgw.ts):
// the conformance suite, then what only an object store has — credentials,
// a missing bucket, a quota, stale multipart uploads, the copy commit of a
// large volume, Object Lock — and connections that drop or stall mid-transfer
// through the fault proxy.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { Readable } from 'node:stream'
import {
  CreateBucketCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, ListObjectVersionsCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3'
import { type RemoteError } from '../../src/errors.js'
import { catalog } from '../../src/transport/names.js'
import { putArchive, removeStale } from '../../src/transport/put.js'
import { type S3Config } from '../../src/transport/s3-config.js'
import { S3Transport, type S3Tuning } from '../../src/transport/s3.js'
import { type Retention, type Transport, type TransportOptions } from '../../src/transport/transport.js'
import { parseTarget } from '../../src/transport/url.js'
import { Collect, conformance, quietRetry, sealedArchive, source } from './conformance.js'
import { startFaultProxy } from '../servers/fault-proxy.js'
import { radosgwMissing, startRadosgw, type Radosgw } from '../servers/radosgw.js'

// The pinned SDK warns on stderr that later releases need Node 22; the bins silence it too.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
const why = radosgwMissing()
if (why !== undefined) {
  t.comment(`skip: ${why}`)
  t.pass('skipped')
} else {
  await suite(await startRadosgw())
}

async function suite(srv: Radosgw): Promise<void> {
  const opened: Transport[] = []
  t.teardown(async () => {
    for (const tx of opened) await tx.close()
    admin.destroy()
    await srv.stop()
  })
  t.afterEach((t) => {
    if (!t.passing()) t.comment(srv.log())
  })
  const cfg = (over: Partial<S3Config['keys']> = {}, endpoint = srv.endpoint): S3Config => ({
    keys: { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey, source: 'test', ...over }, region: 'us-east-1', endpoint: new URL(endpoint),
  })
  const admin = new S3Client({
    region: 'us-east-1', endpoint: srv.endpoint, forcePathStyle: true, credentials: { accessKeyId: srv.accessKey, secretAccessKey: srv.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
  })
  let n = 0
  async function bucket(lock = false): Promise<string> {
    const b = `bt-test-${n++}`
    await admin.send(new CreateBucketCommand({ Bucket: b, ...(lock ? { ObjectLockEnabledForBucket: true } : {}) }))
    return b
  }
  function open(url: string, over: Partial<TransportOptions> = {}, c = cfg(), tune: S3Tuning = {}): Transport {
    const tx = new S3Transport(parseTarget(url), c, { timeoutMs: 5000, warn: () => undefined, notice: () => undefined, s3: c, ...over }, tune)
    opened.push(tx)
    return tx
  }
  /** The error `p` fails with; a `p` that succeeds is a test failure. */
  const failure = async (p: Promise<unknown>): Promise<RemoteError> => p.then(() => { throw new Error('expected a failure, it succeeded') }, (e: RemoteError) => e)
  const code = async (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: RemoteError) => e.code ?? String(e))

  await t.test('conformance, at the top of a bucket', (t) => conformance(t, async () => open(`s3://${await bucket()}/`)))
  await t.test('conformance, under a prefix', (t) => conformance(t, async () => open(`s3://${await bucket()}/a/b/`)))
  await t.test('conformance, in a bucket with Object Lock (versioned)', (t) => conformance(t, async () => open(`s3://${await bucket(true)}/p/`)))

  await t.test('credentials and buckets: clear errors, no secret in them', async (t) => {
    const b = await bucket()
    const wrong = open(`s3://${b}/`, {}, cfg({ secretAccessKey: 'not-the-secret-0123456789' }))
    const err = await failure(wrong.list())
    t.equal(err.code, 'BT_REMOTE_AUTH', 'a wrong secret key')
    t.equal(err.retryable, false, 'is not retried')
    t.notMatch(`${err.message} ${err.hints.join(' ')}`, /not-the-secret/, 'and the secret never shows')
    t.match(err.hints.join(' '), /AWS_SECRET_ACCESS_KEY/, 'the hint says where keys come from')
    t.equal(await code(open(`s3://${b}/`, {}, cfg({ accessKeyId: 'nobody' })).list()), 'BT_REMOTE_AUTH', 'an unknown access key')
    const missing = open('s3://no-such-bucket/x/')
    const e2 = await failure(missing.prepare())
    t.equal(e2.code, 'BT_REMOTE_NOT_FOUND', 'a missing bucket')
    t.match(e2.message, /s3:\/\/no-such-bucket\/x\/.*bucket does not exist/)
    t.equal(await code(missing.list()), 'BT_REMOTE_NOT_FOUND', 'listing it too')
    const refused = open(`s3://${b}/`, {}, cfg({}, `http://127.0.0.1:${await closedPort()}`))
    const e3 = await failure(refused.list())
    t.equal(e3.code, 'BT_REMOTE_CONNECT', 'nothing listens at the endpoint')
    t.equal(e3.retryable, true)
  })

  await t.test('a full quota is a clear error and leaves nothing', async (t) => {
    const b = await bucket()
    srv.admin(['quota', 'set', '--quota-scope=bucket', `--bucket=${b}`, '--max-size=2097152'])
    srv.admin(['quota', 'enable', '--quota-scope=bucket', `--bucket=${b}`])
    const tx = open(`s3://${b}/q/`)
    const err = await failure(putArchive(source(sealedArchive()), tx, {
      volumeSize: 1 << 30, window: 16 << 20, retry: quietRetry(), verify: [], staleMs: 0, now: Date.now,
    }))
    t.equal(err.code, 'BT_REMOTE_FULL', 'over quota')
    t.equal(err.retryable, false)
    t.same(await tx.list(), [], 'no object, no upload is left')
    const big = await failure(tx.save('.bt-tmp.feedface0000.0001', Readable.from(chunks(randomBytes(20 << 20), 1 << 20)), 0))
    t.equal(big.code, 'BT_REMOTE_FULL', 'a multipart upload over quota too')
    t.same(await tx.list(), [], 'and its parts are aborted')
  })

  await t.test('stale multipart uploads of a killed run are aborted by the next one', async (t) => {
    const b = await bucket()
    const key = 'p/.bt-tmp.deadbeef0000.0001'
    const up = await admin.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key }))
    await admin.send(new UploadPartCommand({ Bucket: b, Key: key, UploadId: up.UploadId, PartNumber: 1, Body: randomBytes(5 << 20) }))
    await admin.send(new PutObjectCommand({ Bucket: b, Key: 'p/sub/other', Body: 'not ours' }))
    const tx = open(`s3://${b}/p/`)
    const listed = await tx.list()
    t.same(listed.map((o) => o.name), ['.bt-tmp.deadbeef0000.0001'], 'the unfinished upload shows as a temporary (keys below the prefix do not)')
    t.ok(listed[0]!.mtime instanceof Date, 'with the time it started')
    t.same(await removeStale(tx, 3600_000, Date.now()), [], 'a recent one is left alone (a run may be under way)')
    t.same(await removeStale(tx, 3600_000, Date.now() + 2 * 3600_000), ['.bt-tmp.deadbeef0000.0001'], 'a stale one is removed')
    const left = await admin.send(new ListMultipartUploadsCommand({ Bucket: b }))
    t.same(left.Uploads ?? [], [], 'its parts are gone from the server')
  })

  await t.test('the commit of a volume above the copy limit is a multipart copy', async (t) => {
    const b = await bucket()
    const tx = open(`s3://${b}/`, {}, cfg(), { copyLimit: 5 << 20 })
    const data = randomBytes((12 << 20) + 12345)
    await tx.save('.bt-tmp.x.0001', Readable.from(chunks(data, 1 << 20)), 0)
    await tx.rename('.bt-tmp.x.0001', 'final')
    const got = new Collect()
    await tx.load('final', got, 0)
    t.ok(got.data.equals(data), 'the copy is byte-identical')
    t.same((await tx.list()).map((o) => o.name), ['final'], 'the temporary is gone')
    await tx.save('.bt-tmp.y.0001', Readable.from(chunks(data, 1 << 20)), 0)
    t.equal(await code(tx.rename('.bt-tmp.y.0001', 'final')), 'BT_REMOTE_EXISTS', 'and it never replaces')
    t.same((await admin.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? [], [], 'no upload is left open')
  })

  await t.test('Object Lock: --retain locks every final object, remove says until when', async (t) => {
    const b = await bucket(true)
    const until = new Date(Date.now() + 86_400_000)
    const retention: Retention = { mode: 'GOVERNANCE', until }
    const tx = open(`s3://${b}/locked/`, { retention })
    const r = await putArchive(source(sealedArchive()), tx, {
      volumeSize: 1 << 20, window: 16 << 20, retry: quietRetry(), verify: [], staleMs: 0, now: Date.now,
    })
    const c = catalog(await tx.list())
    t.same(c.temporaries, [], 'no temporary is left (they were never locked)')
    for (const v of r.volumes) {
      const got = await tx.retention!(v)
      t.equal(got?.mode, 'GOVERNANCE', `${v} is locked`)
      t.ok(Math.abs((got?.until.getTime() ?? 0) - until.getTime()) < 1000, 'until the date given')
    }
    const err = await failure(tx.remove(r.volumes[0]!))
    t.equal(err.code, 'BT_LOCKED', 'removing a locked volume fails')
    t.match(err.message, new RegExp(`locked until ${until.toISOString().slice(0, 16)}`), 'and says until when')
    t.ok(await tx.stat(r.volumes[0]!), 'the volume is still there')
    const versions = await admin.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: 'locked/' }))
    t.same(versions.DeleteMarkers ?? [], [], 'not even hidden behind a delete marker')

    const compliance = open(`s3://${b}/c/`, { retention: { mode: 'COMPLIANCE', until } })
    await compliance.prepare()
    await compliance.save('.bt-tmp.c.0001', Readable.from([Buffer.from('x')]), 0)
    await compliance.rename('.bt-tmp.c.0001', 'v')
    t.equal((await compliance.retention!('v'))?.mode, 'COMPLIANCE', 'compliance mode too')
    t.equal(await code(compliance.remove('v')), 'BT_LOCKED')

    // A run that failed midway through its commit leaves locked volumes of an incomplete backup: they must not block later runs.
    await tx.save('.bt-tmp.half.0001', Readable.from([Buffer.from('half')]), 0)
    await tx.rename('.bt-tmp.half.0001', 'old_20200101T000000Z_full_abc.0001-of-0002.sealed')
    await tx.save('.bt-tmp.dead.0001', Readable.from([Buffer.from('x')]), 0)
    t.same(await removeStale(tx, 3600_000, Date.now() + 2 * 3600_000), ['.bt-tmp.dead.0001'], 'stale cleanup skips what is locked and goes on')
    t.ok(await tx.stat('old_20200101T000000Z_full_abc.0001-of-0002.sealed'), 'which stays until its lock ends')

    const plain = open(`s3://${await bucket()}/`, { retention })
    const e2 = await failure(plain.prepare())
    t.equal(e2.code, 'BT_REMOTE_NO_LOCK', '--retain on a bucket without Object Lock is refused before any upload')
    t.match(e2.hints.join(' '), /object-lock-enabled-for-bucket/)
    const unlocked = open(`s3://${b}/u/`)
    await unlocked.save('.bt-tmp.u.0001', Readable.from([Buffer.from('x')]), 0)
    await unlocked.save('.bt-tmp.u.0001', Readable.from([Buffer.from('xy')]), 0)
    await unlocked.remove('.bt-tmp.u.0001')
    const left = await admin.send(new ListObjectVersionsCommand({ Bucket: b, Prefix: 'u/' }))
    t.same([...(left.Versions ?? []), ...(left.DeleteMarkers ?? [])], [], 'an unlocked object is removed with all its versions')
  })

  await t.test('faults between client and server (fault proxy)', async (t) => {
    const b = await bucket()
    const proxy = await startFaultProxy(srv.port, '127.0.0.1', { ftp: false })
    t.teardown(() => proxy.stop())
    const via = `http://127.0.0.1:${proxy.port}`
    const tx = open(`s3://${b}/f/`, { timeoutMs: 1500 }, cfg({}, via))
    const data = randomBytes(20 << 20)
    const uploads = async () => (await admin.send(new ListMultipartUploadsCommand({ Bucket: b }))).Uploads ?? []

    proxy.fault({ conn: 'control', dir: 'up', after: 11 << 20, action: 'cut', times: 'once' })
    await tx.save('.bt-tmp.a.0001', Readable.from(chunks(data, 1 << 20)), 0)
    t.equal(proxy.struck, 1, 'an upload was cut mid-part')
    const got = new Collect()
    await tx.load('.bt-tmp.a.0001', got, 0)
    t.ok(got.data.equals(data), 'the failed part was sent again: the object is byte-identical')

    proxy.fault({ conn: 'control', dir: 'up', after: 3 << 20, action: 'cut', times: 'always' })
    const cut = await failure(tx.save('.bt-tmp.b.0001', Readable.from(chunks(data, 1 << 20)), 0))
    // A reset while the SDK writes a part can surface as the reset or as the silence after it.
    t.match(cut.code, /^BT_REMOTE_(DROPPED|TIMEOUT)$/, 'an upload that keeps being cut fails')
    t.equal(cut.retryable, true, 'retryable (put.ts restarts the volume when it still holds it)')
    proxy.fault(undefined)
    t.equal(await tx.stat('.bt-tmp.b.0001'), undefined, 'and leaves no object')
    t.same(await uploads(), [], 'and no parts')

    proxy.fault({ conn: 'control', dir: 'up', after: 2 << 20, action: 'stall', times: 'always' })
    const started = Date.now()
    const stalled = await failure(tx.save('.bt-tmp.c.0001', Readable.from(chunks(data, 1 << 20)), 0))
    t.equal(stalled.code, 'BT_REMOTE_TIMEOUT', 'a stalled upload times out')
    t.ok(Date.now() - started < 20_000, `and does not hang (${Date.now() - started} ms)`)
    proxy.fault(undefined)
    t.equal(await tx.stat('.bt-tmp.c.0001'), undefined, 'and leaves no object')

    proxy.fault({ conn: 'control', dir: 'down', after: 5 << 20, action: 'cut', times: 'once' })
    const part = new Collect()
    const dropped = await failure(tx.load('.bt-tmp.a.0001', part, 0))
    t.equal(dropped.code, 'BT_REMOTE_DROPPED', 'a cut download fails')
    t.equal(dropped.retryable, true)
    await tx.load('.bt-tmp.a.0001', part, part.data.length)
    t.ok(part.data.equals(data), `and resumes from byte ${part.data.length - (data.length - part.data.length)}… to the same bytes`)

    proxy.fault({ conn: 'control', dir: 'down', after: 3 << 20, action: 'stall', times: 'always' })
    const e3 = await failure(tx.load('.bt-tmp.a.0001', new Collect(), 0))
    t.equal(e3.code, 'BT_REMOTE_TIMEOUT', 'a stalled download times out')
    proxy.fault(undefined)

    // The engines over the faulty link: bt-put commits, bt-get resumes.
    proxy.fault({ conn: 'control', dir: 'up', after: 1 << 20, action: 'cut', times: 'once' })
    const r = await putArchive(source(sealedArchive()), tx, {
      volumeSize: 1 << 30, window: 16 << 20, retry: quietRetry(), verify: [], staleMs: 0, now: Date.now,
    })
    proxy.fault({ conn: 'control', dir: 'down', after: 1 << 20, action: 'cut', times: 'once' })
    const { getArchive } = await import('../../src/transport/get.js')
    const { withRetry } = await import('../../src/transport/retry.js')
    const into = new Collect()
    await getArchive(withRetry(tx, quietRetry()), r.name, into, { retry: quietRetry(), verify: [] })
    t.ok(into.data.equals(sealedArchive()), 'bt-put and bt-get through cuts give the archive back')
  })
}

function chunks(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < buf.length; i += n) out.push(buf.subarray(i, i + n))
  return out
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}
