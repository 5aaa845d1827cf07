// The commit of a volume larger than one CopyObject may copy (5 GiB on S3):
// a multipart upload of ranges copied on the server, completed last, so the
// final key appears whole or not at all. Completion is sent with
// If-None-Match: *, which radosgw 16 ignores: s3.ts checked the key was free
// just before, and a failure aborts the upload, leaving no parts behind.
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, type S3Client, UploadPartCopyCommand,
} from '@aws-sdk/client-s3'

export interface LargeCopy {
  bucket: string
  from: string
  to: string
  size: number
  partSize: number
  lock: { ObjectLockMode?: 'GOVERNANCE' | 'COMPLIANCE'; ObjectLockRetainUntilDate?: Date }
}

export async function copyLarge(c: S3Client, o: LargeCopy): Promise<void> {
  const up = await c.send(new CreateMultipartUploadCommand({ Bucket: o.bucket, Key: o.to, ...o.lock }))
  const UploadId = up.UploadId!
  try {
    const parts: { ETag: string; PartNumber: number }[] = []
    for (let start = 0, n = 1; start < o.size; start += o.partSize, n++) {
      const end = Math.min(o.size, start + o.partSize) - 1
      const r = await c.send(new UploadPartCopyCommand({
        Bucket: o.bucket, Key: o.to, UploadId, PartNumber: n, CopySource: copySource(o.bucket, o.from), CopySourceRange: `bytes=${start}-${end}`,
      }))
      parts.push({ ETag: r.CopyPartResult!.ETag!, PartNumber: n })
    }
    await c.send(new CompleteMultipartUploadCommand({ Bucket: o.bucket, Key: o.to, UploadId, IfNoneMatch: '*', MultipartUpload: { Parts: parts } }))
  } catch (err) {
    await c.send(new AbortMultipartUploadCommand({ Bucket: o.bucket, Key: o.to, UploadId })).catch(() => undefined)
    throw err
  }
}

/** x-amz-copy-source: "bucket/key", the key URL-encoded except its slashes. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`
}
