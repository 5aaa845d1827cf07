// What bt-put, bt-get and bt-ls URL share: the options that say how to reach
// and trust the backup space, and turning them into an open transport.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { IoError, UsageError } from '../errors.js'
import { resolveCredentials } from '../transport/credentials.js'
import { resolveS3 } from '../transport/s3-config.js'
import { openTransport } from '../transport/open.js'
import { type RetryPolicy } from '../transport/retry.js'
import { type Retention, type Transport } from '../transport/transport.js'
import { type Target, parseTarget } from '../transport/url.js'
import { type OptionSpec, type Values } from './args.js'
import { type Io } from './io.js'

export const remoteOptions: OptionSpec[] = [
  { long: 'ca', arg: 'FILE', doc: 'ftps, s3 over https: trust the CA certificates (PEM) in FILE instead of the system ones' },
  { long: 'credentials-file', arg: 'FILE', doc: 's3: read the keys from FILE, in ~/.aws/credentials format (section: $AWS_PROFILE or default)' },
  { long: 'endpoint', arg: 'URL', doc: 's3: the S3-compatible server, e.g. https://s3.example.net (default: $BT_S3_ENDPOINT, else AWS)' },
  { long: 'fingerprint', arg: 'FP', doc: 'pin the server: ftps certificate "sha256:HEX", sftp host key "SHA256:BASE64"' },
  { long: 'identity', short: 'i', arg: 'FILE', repeat: true, doc: 'sftp: private key file (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa)' },
  { long: 'known-hosts', arg: 'FILE', doc: 'sftp: check the host key against FILE (default: ~/.ssh/known_hosts)' },
  { long: 'password-file', arg: 'FILE', doc: 'read the password from FILE (else BT_PASSWORD, else ~/.netrc)' },
  { long: 'region', arg: 'REGION', doc: 's3: the region to sign for (default: $AWS_REGION, ~/.aws/config, else us-east-1)' },
  { long: 'retries', arg: 'N', doc: 'retry a dropped connection N times, backing off (default: 5)' },
  { long: 'retry-delay', arg: 'SECONDS', doc: 'first pause before a retry, doubling up to 60 s (default: 2)' },
  { long: 'timeout', arg: 'SECONDS', doc: 'give up on a connection, command or stalled transfer after SECONDS (default: 60)' },
]

export function number(opts: Values, name: string, dflt: number, min: number, integer = false): number {
  const v = opts[name] as string | undefined
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new UsageError(`--${name} ${JSON.stringify(v)} is not ${integer ? 'an integer' : 'a number'} of at least ${min}`)
  }
  return n
}

/** "1G", "512M", "100k", "4096": bytes (binary units). */
export function size(opts: Values, name: string, dflt: number, min: number): number {
  const v = opts[name] as string | undefined
  if (v === undefined) return dflt
  const m = /^([0-9]+(?:\.[0-9]+)?)([kmgt]?)(i?b)?$/i.exec(v.trim())
  const n = m ? Math.floor(Number(m[1]) * 1024 ** ' kmgt'.indexOf((m[2] || ' ').toLowerCase())) : NaN
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} ${JSON.stringify(v)} is not a size of at least ${min} bytes`, 'write it like 1G, 512M or 65536')
  return n
}

function readFile(what: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new IoError(`cannot read ${what} ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
  }
}

export function retryPolicy(opts: Values, io: Io, signal: AbortSignal): RetryPolicy {
  return {
    retries: number(opts, 'retries', 5, 0, true),
    delayMs: number(opts, 'retry-delay', 2, 0) * 1000,
    maxDelayMs: 60_000,
    notice: io.notice,
    signal,
  }
}

export async function connect(url: string, opts: Values, io: Io, signal: AbortSignal, retention?: Retention): Promise<{ target: Target; tx: Transport; retry: RetryPolicy }> {
  const target = parseTarget(url)
  const home = io.env.HOME
  let password: string | undefined
  if (target.scheme !== 's3') {
    for (const o of ['endpoint', 'region', 'credentials-file']) {
      if (opts[o] !== undefined) throw new UsageError(`--${o} applies to s3:// URLs only`)
    }
  } else if (opts.fingerprint !== undefined || opts['password-file'] !== undefined) {
    throw new UsageError(`--${opts.fingerprint !== undefined ? 'fingerprint' : 'password-file'} does not apply to s3:// URLs`,
      'S3 keys come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, ~/.aws/credentials or --credentials-file; trust a private CA with --ca')
  }
  // The pinned SDK runs on Node 20 but tells so on stderr in every run: users cannot act on it.
  if (target.scheme === 's3') process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
  const s3 = target.scheme !== 's3' ? undefined : resolveS3({
    env: io.env, bucket: target.host,
    ...(opts['credentials-file'] !== undefined ? { credentialsFile: opts['credentials-file'] as string } : {}),
    ...(opts.region !== undefined ? { region: opts.region as string } : {}),
    ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint as string } : {}),
  })
  if (target.scheme !== 'file' && target.scheme !== 's3') {
    const c = resolveCredentials({ host: target.host, user: target.user, passwordFile: opts['password-file'] as string | undefined, env: io.env })
    target.user = c.user || (target.scheme === 'sftp' ? io.env.USER ?? io.env.LOGNAME ?? '' : '')
    if (target.user === '') {
      throw new UsageError(`no user name for ${target.display}`, 'write it in the URL (ftps://USER@host/dir) or in ~/.netrc (machine HOST login USER)')
    }
    if (!/@/.test(target.display.replace(/^[a-z]+:\/\//, '').split('/')[0]!)) {
      target.display = target.display.replace('://', `://${encodeURIComponent(target.user)}@`)
    }
    password = c.password
  }
  const identities = target.scheme !== 'sftp' ? [] : (opts.identity as string[]).length
    ? (opts.identity as string[]).map((p) => readFile('identity', p))
    : home === undefined ? [] : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(home, '.ssh', f)).filter((p) => existsSync(p)).map((p) => readFile('identity', p))
  const retry = retryPolicy(opts, io, signal)
  let warned = false
  const tx = await openTransport(target, {
    timeoutMs: number(opts, 'timeout', 60, 1) * 1000,
    ...(password !== undefined ? { password } : {}),
    ...(opts.ca !== undefined ? { ca: readFile('CA file', opts.ca as string) } : {}),
    ...(opts.fingerprint !== undefined ? { fingerprint: opts.fingerprint as string } : {}),
    identities,
    knownHosts: (opts['known-hosts'] as string | undefined) ?? (home !== undefined ? join(home, '.ssh', 'known_hosts') : '/dev/null'),
    ...(io.env.SSH_AUTH_SOCK ? { agent: io.env.SSH_AUTH_SOCK } : {}),
    ...(io.env.BT_SSH_PASSPHRASE ? { passphrase: io.env.BT_SSH_PASSPHRASE } : {}),
    ...(s3 ? { s3 } : {}),
    ...(retention ? { retention } : {}),
    // Advice, said once; not a counted warning, which would turn a good upload into exit 3.
    warn: (m) => {
      if (!warned) io.notice(`warning: ${m}`)
      warned = true
    },
    notice: io.notice,
  }, retry)
  return { target, tx, retry }
}
