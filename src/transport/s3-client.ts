// The S3 client an s3:// transport talks through (@aws-sdk/client-s3, pinned:
// its later releases need Node 22). Settings that matter:
// - path-style requests (http://host/bucket/key) for any endpoint that is not
//   AWS: Ceph, MinIO and most appliances have no wildcard DNS for buckets;
// - checksums only where the API requires them: radosgw 16 and other older
//   servers reject the SDK's default trailing CRC32 on every upload; the
//   archive carries its own digest and signature, checked by bt-put before
//   the commit and by bt-get on every fetch;
// - TLS verified against the system's CAs, or only the --ca file's;
// - a socket that is silent for --timeout fails the request (a stalled
//   transfer), but a long transfer that moves is never cut;
// - the SDK retries a failed request (a part of a multipart upload, held in
//   memory, is sent again) --retries times before the failure reaches put.ts.
import { Agent as HttpAgent } from 'node:http'
import { Agent as HttpsAgent } from 'node:https'
import { S3Client } from '@aws-sdk/client-s3'
import { type S3Config } from './s3-config.js'

export interface ClientOptions {
  timeoutMs: number
  ca?: Buffer
  /** Attempts per request, the first included. */
  attempts: number
}

export function makeClient(cfg: S3Config, o: ClientOptions): S3Client {
  // The SDK builds its Node handler from these options.
  const requestHandler = {
    connectionTimeout: o.timeoutMs,
    socketTimeout: o.timeoutMs,
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 8 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 8, minVersion: 'TLSv1.2', ...(o.ca ? { ca: o.ca } : {}) }),
  }
  return new S3Client({
    region: cfg.region,
    credentials: {
      accessKeyId: cfg.keys.accessKeyId,
      secretAccessKey: cfg.keys.secretAccessKey,
      ...(cfg.keys.sessionToken ? { sessionToken: cfg.keys.sessionToken } : {}),
    },
    ...(cfg.endpoint ? { endpoint: cfg.endpoint.href.replace(/\/$/, ''), forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: o.attempts,
    requestHandler,
    // The SDK would log to the console: messages are backtory's, on stderr, redacted.
    logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  })
}
