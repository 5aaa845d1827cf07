// s3:// against a real Ceph radosgw on 127.0.0.1 (test/servers/radosgw.ts):
// the conformance suite, then what only an object store has — credentials,
// a missing bucket, a quota, stale multipart uploads, the copy commit of a
// large volume, Object Lock — and connections that drop or stall mid-transfer
// through the fault proxy.
import t from 'tap'
import { randomBytes } from 'node:crypto'
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
  const code = async (p: Promise<unknown>): Promise<string> => p.then(() => 'resolved', (e: RemoteError) => e.code ?? String(e))

  await t.test('conformance, at the top of a bucket', (t) => conformance(t, async () => open(`s3://${await bucket()}/`)))
  await t.test('conformance, under a prefix', (t) => conformance(t, async () => open(`s3://${await bucket()}/a/b/`)))
  await t.test('conformance, in a bucket with Object Lock (versioned)', (t) => conformance(t, async () => open(`s3://${await bucket(true)}/p/`)))
}
