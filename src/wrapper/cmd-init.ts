// backtory init SET: a set's config, its keys and state directory, and a
// store checked reachable and writable, as backtory-init(1) describes. The
// config is written last, after every check passed, and through the same
// strict parser every run uses, so init never leaves a config that fails.
import { existsSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { BtError, EXIT, IoError, UsageError } from '../errors.js'
import { type CliSpec, type Parsed } from '../cli/args.js'
import { type Io } from '../cli/io.js'
import { mkdirs } from '../sys/mkdirs.js'
import { configPath, parseConfig } from './config.js'
import { runPipeline } from './pipeline.js'
import { probeStore } from './store-probe.js'
import { configDir } from './where.js'

export const spec: CliSpec = {
  name: 'backtory init',
  summary: 'make a set: its config, keys and state, and check the store',
  usage: ['SET --source SRC --store URL (--recipient PUB... | --admin-key PREFIX) [OPTIONS]'],
  options: [
    { long: 'admin-key', arg: 'PREFIX', doc: 'make an admin key pair PREFIX.key and PREFIX.pub and encrypt to it (move PREFIX.key off the host)' },
    { long: 'ca', arg: 'FILE', doc: 'ftps: trust the CA certificates (PEM) in FILE (store-ca)' },
    { long: 'exclude', arg: 'PATTERN', repeat: true, doc: 'leave out paths matching PATTERN (gitignore syntax)' },
    { long: 'fingerprint', arg: 'FP', doc: 'pin the server: ftps "sha256:HEX", sftp "SHA256:BASE64" (store-fingerprint)' },
    { long: 'full-every', arg: 'DURATION', doc: 'make a full when the current one is this old (default: 7d)' },
    { long: 'identity', short: 'i', arg: 'FILE', doc: 'sftp: private key file (store-identity)' },
    { long: 'known-hosts', arg: 'FILE', doc: 'sftp: known_hosts file to check the host key against (store-known-hosts)' },
    { long: 'password-file', arg: 'FILE', doc: 'the store password, on the first line of FILE (store-password-file)' },
    { long: 'recipient', arg: 'PUB', repeat: true, doc: 'encrypt to this public key (the admin\'s)' },
    { long: 'sign-key', arg: 'FILE', doc: 'the host\'s signing key, made when missing (default: CONFIG/host.key)' },
    { long: 'source', arg: 'SRC', doc: 'what to back up: DIR, zfs:DATASET, btrfs:SUBVOL or lvm:VG/LV' },
    { long: 'store', arg: 'URL', doc: 'where backups go: file:///DIR, ftps://USER@HOST/DIR, sftp://USER@HOST/DIR, ftp://...' },
  ],
  notes: ['Writes CONFIG/SET.conf (never over an existing one); see backtory.conf(5) for every key.'],
}

const abs = (p: string) => resolve(p)

async function keygen(prefix: string, type: 'ed25519' | 'rsa', io: Io, signal: AbortSignal): Promise<void> {
  const r = await runPipeline([{ tool: 'bt-keygen', args: ['--type', type, '--out', prefix] }], { env: io.env, stderr: io.stderr, signal, stdout: io.stderr })
  if (r.code !== EXIT.OK) throw new BtError('BT_KEYGEN', EXIT.FAILURE, `cannot make the key pair ${prefix}: bt-keygen exited ${r.code}`, ['its message is above'])
}

function configText(set: string, o: Parsed['opts'], recipients: string[], signKey: string): string {
  const line = (k: string, v: unknown) => (v === undefined ? [] : [`${k} = ${v as string}`])
  return [
    `# backtory.conf(5) of set ${set}, made by backtory init`,
    `source = ${/^(zfs|btrfs|lvm|dir):/.test(o.source as string) ? o.source as string : abs(o.source as string)}`,
    ...(o.exclude as string[]).map((e) => `exclude = ${e}`),
    `store = ${o.store as string}`,
    ...line('store-password-file', o['password-file'] && abs(o['password-file'] as string)),
    ...line('store-fingerprint', o.fingerprint), ...line('store-ca', o.ca && abs(o.ca as string)),
    ...line('store-identity', o.identity && abs(o.identity as string)), ...line('store-known-hosts', o['known-hosts'] && abs(o['known-hosts'] as string)),
    ...recipients.map((r) => `recipient = ${r}`),
    `sign-key = ${signKey}`,
    `full-every = ${(o['full-every'] as string | undefined) ?? '7d'}`,
    '',
  ].join('\n')
}

export async function main(p: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  const o = p.opts
  if (p.args.length !== 1) throw new UsageError(p.args.length === 0 ? 'no set name given' : 'backtory init takes one SET', 'e.g. backtory init www --source /srv/www --store ftps://u@host/www/ --admin-key /root/admin')
  for (const k of ['source', 'store']) if (o[k] === undefined) throw new UsageError(`--${k} is missing`, 'see backtory init --help')
  if ((o.recipient as string[]).length === 0 && o['admin-key'] === undefined) {
    throw new UsageError('no key to encrypt to', 'give the admin\'s public key with --recipient PUB, or make a pair with --admin-key PREFIX')
  }
  const where = { env: io.env, uid: io.uid }
  const set = p.args[0]!
  const file = configPath(set, where)
  if (existsSync(file)) throw new BtError('BT_EXISTS', EXIT.FAILURE, `the set's config ${file} exists already`, ['edit it (backtory.conf(5)), or choose another set name'])
  const admin = o['admin-key'] === undefined ? undefined : abs(o['admin-key'] as string)
  const recipients = [...(o.recipient as string[]).map(abs), ...(admin ? [`${admin}.pub`] : [])]
  for (const r of (o.recipient as string[]).map(abs)) if (!existsSync(r)) throw new UsageError(`--recipient ${r} does not exist`, 'give the path of the admin\'s public key (PEM)')
  const signKey = abs((o['sign-key'] as string | undefined) ?? `${configDir(where)}/host.key`)
  // Parsed before anything is made: a bad source or URL stops init with nothing changed.
  const text = configText(set, o, recipients, signKey)
  const cfg = parseConfig(text, file, where)
  const made: string[] = []
  const count = await probeStore(cfg.store, cfg.name, io, signal)
  made.push(`checked the store ${cfg.store.url}: reachable, writable, ${count} backup${count === 1 ? '' : 's'} of set ${cfg.name} there`)
  try {
    mkdirs(configDir(where), 0o755)
    mkdirs(cfg.state, 0o700)
  } catch (err) {
    throw new IoError(`cannot make the directories of set ${cfg.name}`, err as NodeJS.ErrnoException)
  }
  if (!existsSync(signKey)) {
    await keygen(signKey.replace(/\.key$/, ''), 'ed25519', io, signal)
    made.push(`made the host's signing key ${signKey} (${cfg.verifyKey} verifies its backups: keep a copy off the host)`)
  }
  if (admin && !existsSync(`${admin}.pub`)) {
    await keygen(admin, 'rsa', io, signal)
    made.push(`made the admin key pair ${admin}.key and ${admin}.pub; backups are encrypted to ${admin}.pub`,
      `WARNING: move ${admin}.key off this host now (it decrypts every backup; restores need it; this host must not hold it)`)
  }
  writeFileSync(file, text, { mode: 0o640, flag: 'wx' })
  made.push(`wrote ${file}`, `made the state directory ${cfg.state}`)
  io.stdout.write(`${made.map((m) => `backtory init: ${m}`).join('\n')}\n` +
    `next: backtory backup --dry-run ${set}; then backtory backup ${set}; then backtory cron ${set} for the nightly job\n`)
  return EXIT.OK
}
