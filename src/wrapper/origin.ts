// Where list, restore and verify find a set's backups: its config (SET), or,
// on a machine that has none (a fresh one after a disaster), the store URL
// and its options on the command line. The config's store options and
// --store's are the same ones bt-get and bt-ls take.
import { BtError, EXIT, UsageError } from '../errors.js'
import { type OptionSpec, type Values } from '../cli/args.js'
import { listStore, type ListContext, type StoredBackup } from './catalog.js'
import { loadSet } from './config.js'
import { type SetConfig } from './set.js'
import { type Where } from './where.js'

/** The options that name a store without a config; every subcommand that reads a store has them. */
export const STORE_OPTIONS: OptionSpec[] = [
  { long: 'ca', arg: 'FILE', doc: 'with --store, ftps: trust the CA certificates in FILE' },
  { long: 'fingerprint', arg: 'FP', doc: 'with --store: pin the server (ftps certificate or sftp host key)' },
  { long: 'identity', arg: 'FILE', doc: 'with --store, sftp: log in with the private key in FILE' },
  { long: 'known-hosts', arg: 'FILE', doc: 'with --store, sftp: check the host key against FILE' },
  { long: 'password-file', arg: 'FILE', doc: 'with --store: read the store password from FILE' },
  { long: 'set', arg: 'NAME', doc: 'with --store: the set to use, when the store holds several' },
  { long: 'store', arg: 'URL', doc: 'read the backups at URL, without a config (a fresh machine)' },
]

export interface Origin {
  /** The set's name, as in the stored names. */
  set: string
  store: SetConfig['store']
  /** The host's public key, to check signatures with. */
  verifyKey?: string
  /** The config it came from, when one. */
  config?: SetConfig
}

const str = (v: Values[string]) => (typeof v === 'string' ? v : undefined)

/**
 * The origin the options name, and the operands left for the subcommand:
 * with --store, none of them is a SET. The set of a bare store is settled by
 * resolveSet once its listing is known.
 */
export function originOf(opts: Values, args: string[], where: Where, usage: string): { origin: Origin; rest: string[]; pending: boolean } {
  const url = str(opts.store)
  const verify = str(opts.verify)
  if (url === undefined) {
    const bare = ['ca', 'fingerprint', 'identity', 'known-hosts', 'password-file', 'set'].find((k) => opts[k] !== undefined)
    if (bare) throw new UsageError(`--${bare} goes with --store`, 'a set\'s config names its store and the store\'s options')
    if (args.length === 0) throw new UsageError('missing SET', `usage: ${usage}`, 'on a machine without the set\'s config, name the store with --store URL')
    const config = loadSet(args[0]!, where)
    const origin = { set: config.name, store: config.store, verifyKey: verify ?? config.verifyKey, config }
    return { origin, rest: args.slice(1), pending: false }
  }
  if (!/^(file|ftp|ftps|sftp|s3):\/\//.test(url) && !url.startsWith('/')) {
    throw new UsageError(`--store ${url}: not a URL the transports know`, 'use file://, ftp://, ftps://, sftp://, s3:// or an absolute path')
  }
  const store: SetConfig['store'] = {
    url, passwordFile: str(opts['password-file']), fingerprint: str(opts.fingerprint), ca: str(opts.ca),
    identity: str(opts.identity), knownHosts: str(opts['known-hosts']),
  }
  const set = str(opts.set)
  return { origin: { set: set ?? '', store, verifyKey: verify }, rest: args, pending: set === undefined }
}

/** A bare store's set: the one it holds, or --set; several without --set is a usage error naming them. */
export function resolveSet(origin: Origin, rows: StoredBackup[]): void {
  if (origin.set !== '') return
  const sets = [...new Set(rows.map((r) => r.set))].sort()
  if (sets.length === 1) {
    origin.set = sets[0]!
    return
  }
  if (sets.length === 0) {
    throw new BtError('BT_NO_BACKUP', EXIT.FAILURE, `no backups are stored at ${origin.store.url}`, ['check the URL: bt-ls URL lists what is there'])
  }
  throw new UsageError(`the store ${origin.store.url} holds the sets ${sets.join(', ')}`, 'name one with --set NAME')
}

/** The rows of the origin's set (every row of a bare store, before its set is known), with incomplete ones. */
export async function listOrigin(origin: Origin, ctx: ListContext): Promise<StoredBackup[]> {
  const rows = await listStore(origin.store, undefined, ctx, true)
  resolveSet(origin, rows)
  return rows.filter((r) => r.set === origin.set)
}

/** `URL/NAME`, as bt-get takes it. */
export function objectUrl(url: string, name: string): string {
  return `${url.replace(/\/+$/, '')}/${name}`
}
