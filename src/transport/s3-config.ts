// Where an s3:// target's keys, region and endpoint come from, the way the
// aws CLI and every S3 tool read them, first match wins:
//   keys:     --credentials-file FILE (its [AWS_PROFILE or default] section),
//             then AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
//             then ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE) [AWS_PROFILE or default];
//   region:   --region, AWS_REGION, AWS_DEFAULT_REGION, ~/.aws/config, else us-east-1;
//   endpoint: --endpoint, BT_S3_ENDPOINT, else AWS itself.
// Never the command line: keys there show in ps and in shell history.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { IoError, UsageError, isErrno } from '../errors.js'

export interface S3Keys {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  /** Where the keys came from, for messages (never the keys themselves). */
  source: string
}

export interface S3Config {
  keys: S3Keys
  region: string
  /** An S3-compatible server (Ceph, MinIO, …); undefined for AWS. */
  endpoint?: URL
}

/** Sections of an INI file as the aws CLI writes it: `[name]`, then `key = value` lines; `#`/`;` comments. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>()
  let cur: Map<string, string> | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const sec = /^\[\s*([^\]]+?)\s*\]$/.exec(line)
    if (sec) {
      out.set(sec[1]!, (cur = out.get(sec[1]!) ?? new Map()))
      continue
    }
    const kv = /^([A-Za-z0-9_.-]+)\s*=\s*(.*)$/.exec(line)
    if (kv && cur) cur.set(kv[1]!.toLowerCase(), kv[2]!)
  }
  return out
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined
    throw new IoError(`cannot read ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
  }
}

function keysFromFile(path: string, profile: string, required: boolean): S3Keys | undefined {
  const text = required ? readRequired(path) : readOptional(path)
  if (text === undefined) return undefined
  const sec = parseIni(text).get(profile)
  const id = sec?.get('aws_access_key_id')
  const secret = sec?.get('aws_secret_access_key')
  if (!id || !secret) {
    if (!required && sec === undefined) return undefined
    throw new UsageError(`${JSON.stringify(path)} has no aws_access_key_id and aws_secret_access_key in its [${profile}] section`,
      'write them as the aws CLI does: [default] / aws_access_key_id = … / aws_secret_access_key = …', 'or choose another section with AWS_PROFILE')
  }
  const token = sec?.get('aws_session_token')
  return { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}), source: `${path} [${profile}]` }
}

function readRequired(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new IoError(`cannot read the credentials file ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
  }
}

export function resolveS3(o: { env: NodeJS.ProcessEnv; credentialsFile?: string; region?: string; endpoint?: string; bucket: string }): S3Config {
  const env = o.env
  const profile = env.AWS_PROFILE || 'default'
  const home = env.HOME
  let keys: S3Keys | undefined
  if (o.credentialsFile !== undefined) keys = keysFromFile(o.credentialsFile, profile, true)
  else if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    keys = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}), source: 'AWS_ACCESS_KEY_ID' }
  } else {
    const shared = env.AWS_SHARED_CREDENTIALS_FILE || (home ? join(home, '.aws', 'credentials') : undefined)
    if (shared) keys = keysFromFile(shared, profile, false)
  }
  if (!keys) {
    throw new UsageError(`no S3 credentials for s3://${o.bucket}/`,
      'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or write them to ~/.aws/credentials (AWS_PROFILE picks a section),',
      'or name a file in that format with --credentials-file')
  }
  let region = o.region || env.AWS_REGION || env.AWS_DEFAULT_REGION
  if (!region) {
    const cfgPath = env.AWS_CONFIG_FILE || (home ? join(home, '.aws', 'config') : undefined)
    const cfg = cfgPath === undefined ? undefined : readOptional(cfgPath)
    if (cfg !== undefined) {
      const ini = parseIni(cfg)
      region = (ini.get(profile === 'default' ? 'default' : `profile ${profile}`) ?? ini.get(profile))?.get('region')
    }
  }
  const ep = o.endpoint ?? (env.BT_S3_ENDPOINT || undefined)
  let endpoint: URL | undefined
  if (ep !== undefined) {
    try {
      endpoint = new URL(ep)
    } catch {
      endpoint = undefined
    }
    if (!endpoint || !/^https?:$/.test(endpoint.protocol) || endpoint.username !== '' || endpoint.password !== '' || endpoint.search !== '') {
      throw new UsageError(`the S3 endpoint ${JSON.stringify(ep.replace(/\/\/[^@/]*@/, '//***@'))} is not an http(s)://HOST[:PORT] URL`,
        'write it like https://s3.example.net or http://127.0.0.1:7480 (keys go in the environment or ~/.aws/credentials, never in the URL)')
    }
  }
  return { keys, region: region || 'us-east-1', ...(endpoint ? { endpoint } : {}) }
}
