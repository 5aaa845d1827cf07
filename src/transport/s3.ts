// s3://BUCKET/PREFIX/: Amazon S3 and S3-compatible stores (Ceph radosgw,
// MinIO, …). The prefix is the "directory"; an object's name is its key
// without the prefix.
//
// An object store has no rename, no append and no partial object, so bt-put's
// promises hold this way:
// - save() uploads a temporary (.bt-tmp.RUN.VVVV) in one PutObject, or as a
//   multipart upload for a large volume. A multipart upload becomes an object
//   only when completed: a cut or killed upload leaves no object, only parts
//   that list() reports as a temporary (mtime: when it was started), so the
//   next run's removeStale() aborts them once stale. A failed part is sent
//   again by the SDK from memory (a part is 8 MiB); if the SDK gives up the
//   volume restarts, as on any transport that cannot resume (canResume false).
// - rename() is the commit, run only after put.ts verified the whole input:
//   a server-side copy (CopyObject, atomic: the new key shows whole or not at
//   all; above 5 GiB a multipart copy, completed last) to the final name,
//   then the temporary is removed. It never replaces: it fails if the final
//   name exists (checked first, and sent as If-None-Match: * for servers that
//   honour it). The retention of --retain is sent with the copy (AWS applies
//   it there); where a server ignores it (radosgw 16) it is set right after,
//   and a final object that cannot be locked is removed again.
// - remove() deletes every version of a key (Object Lock buckets are
//   versioned: a plain DELETE would only hide it behind a delete marker) and
//   refuses a locked object with BT_LOCKED, saying until when.
import { type Readable, type Writable } from 'node:stream'
import {
  AbortMultipartUploadCommand, CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, GetObjectLockConfigurationCommand,
  HeadBucketCommand, HeadObjectCommand, PutObjectRetentionCommand, ListMultipartUploadsCommand, ListObjectVersionsCommand, ListObjectsV2Command,
  type HeadObjectCommandOutput, type S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { RemoteError } from '../errors.js'
import { checkName } from './common.js'
import { TEMP_PREFIX } from './names.js'
import { makeClient } from './s3-client.js'
import { type S3Config } from './s3-config.js'
import { copyLarge, copySource } from './s3-copy.js'
import { LockedError, isNotFound, s3Code, s3Error, s3Status } from './s3-errors.js'
import { pumpBody } from './s3-pump.js'
import { type Target } from './url.js'
import { type RemoteObject, type Retention, type Transport, type TransportOptions } from './transport.js'

/** Bytes per part of a multipart upload: memory is about twice this per upload (two parts in flight). */
export const PART_SIZE = 8 << 20
/** The largest single CopyObject S3 allows; larger objects are copied in parts. */
export const COPY_LIMIT = 5 * 2 ** 30

export interface S3Tuning {
  /** Test hook: copy objects above this in parts (S3's limit otherwise). */
  copyLimit?: number
}

export class S3Transport implements Transport {
  readonly display: string
  readonly canResume = false
  private client: S3Client | undefined
  private readonly bucket: string
  private readonly prefix: string

  constructor(t: Target, private readonly cfg: S3Config, private readonly o: TransportOptions, private readonly tune: S3Tuning = {}) {
    this.bucket = t.host
    this.prefix = t.path
    this.display = t.display
  }

  private get c(): S3Client {
    this.client ??= makeClient(this.cfg, { timeoutMs: this.o.timeoutMs, ...(this.o.ca ? { ca: this.o.ca } : {}), attempts: 3 })
    return this.client
  }

  private key(name: string): string {
    return this.prefix + checkName(name)
  }

  private fail(what: string, err: unknown): Error {
    return s3Error(what, err, `${this.cfg.endpoint?.origin ?? `AWS (${this.cfg.region})`}`)
  }

  async prepare(): Promise<void> {
    try {
      await this.c.send(new HeadBucketCommand({ Bucket: this.bucket }))
    } catch (err) {
      // HEAD has no body: a 404 on the bucket is its absence.
      if (s3Status(err) === 404) throw this.fail(`opening ${this.display}`, Object.assign(new Error('no bucket'), { name: 'NoSuchBucket' }))
      throw this.fail(`opening ${this.display}`, err)
    }
    if (this.o.retention) await this.checkLockable()
  }

  /** --retain needs a bucket made with Object Lock: say so before uploading anything. */
  private async checkLockable(): Promise<void> {
    let enabled = false
    try {
      const r = await this.c.send(new GetObjectLockConfigurationCommand({ Bucket: this.bucket }))
      enabled = r.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled'
    } catch (err) {
      if (!['ObjectLockConfigurationNotFoundError', 'ObjectLockConfigurationNotFound', 'InvalidRequest'].includes(s3Code(err)) && s3Status(err) !== 404) {
        throw this.fail(`reading the Object Lock setting of ${this.display}`, err)
      }
    }
    if (!enabled) {
      throw new RemoteError('BT_REMOTE_NO_LOCK', `bucket ${this.bucket} does not have S3 Object Lock enabled, so --retain cannot lock backups there`,
        { hints: ['Object Lock can only be enabled when a bucket is created: make a new bucket with it (aws s3api create-bucket --object-lock-enabled-for-bucket)', 'or store without --retain'] })
    }
  }

  async list(): Promise<RemoteObject[]> {
    const out: RemoteObject[] = []
    try {
      let token: string | undefined
      do {
        const r = await this.c.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, Delimiter: '/', ContinuationToken: token }))
        for (const o of r.Contents ?? []) {
          const name = o.Key!.slice(this.prefix.length)
          if (name === '') continue
          out.push({ name, size: o.Size ?? 0, ...(o.LastModified ? { mtime: o.LastModified } : {}) })
        }
        token = r.IsTruncated ? r.NextContinuationToken : undefined
      } while (token)
      // Multipart uploads that never completed: a crashed run's volumes, reported as temporaries so they age out.
      const held = new Set(out.map((o) => o.name))
      let keyMarker: string | undefined
      let idMarker: string | undefined
      do {
        const r = await this.c.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix + TEMP_PREFIX, KeyMarker: keyMarker, UploadIdMarker: idMarker }))
        for (const u of r.Uploads ?? []) {
          const name = u.Key!.slice(this.prefix.length)
          if (name.includes('/') || held.has(name)) continue
          held.add(name)
          out.push({ name, size: 0, ...(u.Initiated ? { mtime: u.Initiated } : {}) })
        }
        keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined
        idMarker = r.IsTruncated ? r.NextUploadIdMarker : undefined
      } while (keyMarker)
    } catch (err) {
      throw this.fail(`listing ${this.display}`, err)
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  private async head(name: string): Promise<HeadObjectCommandOutput | undefined> {
    const Key = this.key(name)
    try {
      return await this.c.send(new HeadObjectCommand({ Bucket: this.bucket, Key }))
    } catch (err) {
      if (isNotFound(err) && !(s3Code(err) === 'NoSuchBucket')) return undefined
      throw this.fail(`checking ${JSON.stringify(name)} in ${this.display}`, err)
    }
  }

  async stat(name: string): Promise<RemoteObject | undefined> {
    const h = await this.head(name)
    return h && { name, size: h.ContentLength ?? 0, ...(h.LastModified ? { mtime: h.LastModified } : {}) }
  }

  async retention(name: string): Promise<Retention | undefined> {
    const h = await this.head(name)
    if (!h?.ObjectLockRetainUntilDate || !h.ObjectLockMode) return undefined
    return { mode: h.ObjectLockMode as Retention['mode'], until: h.ObjectLockRetainUntilDate }
  }

  async save(name: string, data: Readable, offset: number): Promise<void> {
    const Key = this.key(name)
    if (offset !== 0) {
      data.destroy()
      throw new RemoteError('BT_REMOTE_PROTOCOL', `cannot continue ${JSON.stringify(name)} at byte ${offset}: S3 objects cannot be appended to`)
    }
    const up = new Upload({ client: this.c, params: { Bucket: this.bucket, Key, Body: data }, partSize: PART_SIZE, queueSize: 2, leavePartsOnError: false })
    try {
      await up.done()
    } catch (err) {
      data.destroy()
      throw this.fail(`uploading ${JSON.stringify(name)} to ${this.display}`, err)
    }
  }

  async load(name: string, into: Writable, offset: number): Promise<void> {
    const Key = this.key(name)
    let body: Readable
    try {
      const r = await this.c.send(new GetObjectCommand({ Bucket: this.bucket, Key, ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}) }))
      body = r.Body as Readable
    } catch (err) {
      // A range that starts at the end: nothing is left to load.
      if (offset > 0 && (s3Code(err) === 'InvalidRange' || s3Status(err) === 416) && (await this.stat(name))?.size === offset) return
      throw this.fail(`downloading ${JSON.stringify(name)} from ${this.display}`, err)
    }
    try {
      await pumpBody(body, into)
    } catch (err) {
      throw this.fail(`downloading ${JSON.stringify(name)} from ${this.display}`, err)
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const where = `${JSON.stringify(to)} in ${this.display}`
    if (await this.head(to)) throw new RemoteError('BT_REMOTE_EXISTS', `cannot store ${where}: it already exists`)
    const src = await this.head(from)
    if (!src) throw new RemoteError('BT_REMOTE_NOT_FOUND', `cannot rename ${JSON.stringify(from)} in ${this.display}: it does not exist`)
    const lock = this.o.retention ? { ObjectLockMode: this.o.retention.mode, ObjectLockRetainUntilDate: this.o.retention.until } : {}
    const size = src.ContentLength ?? 0
    try {
      if (size > (this.tune.copyLimit ?? COPY_LIMIT)) {
        await copyLarge(this.c, { bucket: this.bucket, from: this.key(from), to: this.key(to), size, partSize: Math.min(this.tune.copyLimit ?? COPY_LIMIT, 2 ** 30), lock })
      } else {
        await this.c.send(new CopyObjectCommand({
          Bucket: this.bucket, Key: this.key(to), CopySource: copySource(this.bucket, this.key(from)), IfNoneMatch: '*', ...lock,
        }))
      }
    } catch (err) {
      throw this.fail(`storing ${where}`, err)
    }
    if (this.o.retention) await this.ensureLocked(to, this.o.retention)
    await this.remove(from)
  }

  /**
   * AWS applies the copy's lock headers; radosgw 16 ignores them on a copy.
   * Then the lock is set at once with PutObjectRetention, and if even that
   * fails the unlocked copy is removed: no final object stays unlocked.
   */
  private async ensureLocked(name: string, want: Retention): Promise<void> {
    const got = await this.retention(name)
    if (got && got.mode === want.mode && got.until.getTime() >= Math.floor(want.until.getTime() / 1000) * 1000) return
    try {
      await this.c.send(new PutObjectRetentionCommand({ Bucket: this.bucket, Key: this.key(name), Retention: { Mode: want.mode, RetainUntilDate: want.until } }))
    } catch (err) {
      const e = this.fail(`locking ${JSON.stringify(name)} in ${this.display}`, err)
      await this.remove(name).catch(() => undefined)
      throw e
    }
  }

  async remove(name: string): Promise<void> {
    const Key = this.key(name)
    const where = `${JSON.stringify(name)} in ${this.display}`
    const h = await this.head(name)
    if (h) {
      const until = h.ObjectLockRetainUntilDate
      if (until && until.getTime() > Date.now()) throw new LockedError(JSON.stringify(name), this.display, until, h.ObjectLockMode)
      if (h.ObjectLockLegalHoldStatus === 'ON') throw new LockedError(JSON.stringify(name), this.display, undefined, undefined)
      try {
        if (h.VersionId && h.VersionId !== 'null') await this.removeVersions(Key)
        else await this.c.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }))
      } catch (err) {
        if (s3Code(err) === 'AccessDenied' && (h.ObjectLockMode || h.ObjectLockLegalHoldStatus)) throw new LockedError(JSON.stringify(name), this.display, until, h.ObjectLockMode)
        throw this.fail(`removing ${where}`, err)
      }
    }
    if (name.startsWith(TEMP_PREFIX)) await this.abortUploads(Key, where)
  }

  /** Every version and delete marker of `key`, so that nothing of it is kept (and billed). */
  private async removeVersions(Key: string): Promise<void> {
    let keyMarker: string | undefined
    let versionMarker: string | undefined
    do {
      const r = await this.c.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: Key, KeyMarker: keyMarker, VersionIdMarker: versionMarker }))
      for (const v of [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])]) {
        if (v.Key !== Key) continue
        await this.c.send(new DeleteObjectCommand({ Bucket: this.bucket, Key, VersionId: v.VersionId }))
      }
      keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined
      versionMarker = r.IsTruncated ? r.NextVersionIdMarker : undefined
    } while (keyMarker)
  }

  private async abortUploads(Key: string, where: string): Promise<void> {
    try {
      const r = await this.c.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: Key }))
      for (const u of r.Uploads ?? []) {
        if (u.Key === Key) await this.c.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: u.UploadId }))
      }
    } catch (err) {
      if (!isNotFound(err)) throw this.fail(`aborting the upload of ${where}`, err)
    }
  }

  async close(): Promise<void> {
    const c = this.client
    this.client = undefined
    c?.destroy()
  }
}

export async function openS3(t: Target, o: TransportOptions, tune: S3Tuning = {}): Promise<Transport> {
  if (!o.s3) throw new Error('s3:// needs its configuration (s3-config.ts)')
  return new S3Transport(t, o.s3, o, tune)
}
