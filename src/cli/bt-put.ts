import { hostname } from 'node:os'
import { BtError, EXIT, UsageError } from '../errors.js'
import { publicOf } from '../crypto/index-key.js'
import { type PrivateKey } from '../crypto/keys.js'
import { confirmStored } from '../state/confirm.js'
import { sealIndex } from '../state/index-seal.js'
import { type State } from '../state/store.js'
import { type PutOptions, type PutResult, putArchive } from '../transport/put.js'
import { type Transport } from '../transport/transport.js'
import { PRODUCER } from '../version.js'
import { type CliSpec, type Parsed } from './args.js'
import { openBulkInput } from './bulk-input.js'
import { type Io, quietIo } from './io.js'
import { loadPrivate, loadPublic } from './keyfile.js'
import { progress, human } from './progress.js'
import { connect, number, remoteOptions, size } from './remote.js'
import { writeLine } from './write.js'
import { retention, retentionOptions } from './retention.js'
import { parseTarget } from '../transport/url.js'
import { requireStateDir } from '../state/dir.js'

export const spec: CliSpec = {
  name: 'bt-put',
  summary: 'store a sealed archive from standard input as one immutable backup',
  usage: ['[OPTIONS] URL'],
  options: [
    { long: 'index-key', arg: 'KEY', doc: 'with --state: store the full\'s index beside it, sealed and signed with the host key KEY' },
    { long: 'keep-stale', doc: 'do not remove temporaries and incomplete backups left by crashed runs' },
    { long: 'key-passphrase-file', arg: 'FILE', doc: 'read the passphrase of an encrypted --index-key from FILE' },
    { long: 'progress', doc: 'show progress on standard error even when it is not a terminal' },
    { long: 'quiet', short: 'q', doc: 'print nothing on success: no notices, and no name on standard output' },
    { long: 'stale-after', arg: 'HOURS', doc: 'leftovers untouched this long are stale (default: 24)' },
    { long: 'state', short: 's', arg: 'DIR', doc: 'once a full is stored whole, confirm it in bt-delta\'s state DIR (default: $BT_STATE)' },
    { long: 'verify', arg: 'PUBKEY', repeat: true, doc: 'also check the signatures with the signer\'s public key' },
    { long: 'volume-size', arg: 'SIZE', doc: 'split the archive into volumes of SIZE bytes (default: 1G)' },
    { long: 'window', arg: 'SIZE', doc: 'bytes kept in memory to resume a cut upload (default: 16M)' },
    ...remoteOptions,
    ...retentionOptions,
  ].sort((a, b) => a.long.localeCompare(b.long)),
  notes: [
    'URL is a directory: file:///DIR (or a plain path), ftp://USER@HOST/DIR, ftps://USER@HOST/DIR, sftp://USER@HOST/DIR',
    'or s3://BUCKET/PREFIX/ (keys from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials).',
    'The archive becomes visible under its final name only after its sealed trailer verified; on any',
    'failure nothing final is left. Prints the stored backup\'s name on standard output (not with -q).',
    'A differential is refused (exit 4) unless its base full is stored whole in the same place.',
  ],
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  if (args.length !== 1) throw new UsageError(args.length === 0 ? 'missing URL' : 'too many arguments', `usage: bt-put ${spec.usage[0]}`)
  const volumeSize = size(opts, 'volume-size', 1 << 30, 1 << 16)
  const window = size(opts, 'window', 16 << 20, 1 << 16)
  const staleMs = number(opts, 'stale-after', 24, 0) * 3600_000
  const verify = (opts.verify as string[]).map(loadPublic)
  const stateDir = (opts.state as string | undefined) ?? io.env.BT_STATE
  const indexKeyFile = opts['index-key'] as string | undefined
  if (indexKeyFile !== undefined && !stateDir) throw new UsageError('--index-key stores the index that the state directory holds', 'give --state DIR (or set BT_STATE) as well')
  if (opts['key-passphrase-file'] !== undefined && indexKeyFile === undefined) throw new UsageError('--key-passphrase-file is the passphrase of --index-key', 'give --index-key KEY as well')
  const indexKey = indexKeyFile === undefined ? undefined : loadPrivate(indexKeyFile, opts['key-passphrase-file'] as string | undefined)
  if ((io.stdin as { isTTY?: boolean }).isTTY) throw new UsageError('refusing to read a sealed archive from a terminal', 'pipe bt-seal\'s output into bt-put')
  const retain = retention(opts, parseTarget(args[0]!).scheme, Date.now())
  // -q: the transports' notices (retries, plain FTP) go too; warnings and errors stay.
  if (opts.quiet) io = quietIo(io)
  const say = (m: string) => io.notice(m)
  const { tx, retry } = await connect(args[0]!, opts, io, signal, retain)
  const bar = progress(io, opts.progress ? true : undefined)
  try {
    const put: PutOptions = {
      volumeSize, window, verify, staleMs: opts['keep-stale'] ? 0 : staleMs, now: Date.now, signal,
      retry,
      progress: (bytes, vol) => bar.update(bytes, `volume ${vol}`),
      removedStale: (n) => say(`removed stale ${n}`),
      // Before any byte is stored: a mistyped --state would leave the full unconfirmed, and every night would make another.
      beforeStore: stateDir ? () => requireStateDir(stateDir) : undefined,
    }
    const r = await putArchive(openBulkInput(io, undefined, signal), tx, put)
    bar.done()
    say(`stored ${r.name} in ${tx.display}: ${human(r.size)} in ${r.volumes.length} volume${r.volumes.length === 1 ? '' : 's'}` +
      (retain ? `, locked until ${retain.until.toISOString()} (${retain.mode.toLowerCase()})` : ''))
    // The backup is stored whatever the state says next: its name goes out first, for the caller's records.
    if (!opts.quiet) await writeLine(io.stdout, r.name)
    if (stateDir && r.header.kind === 'full') {
      const storeIndex = indexKey && (async (pending: State) => storeIndexObject(pending, indexKey, r, tx, put, io, say))
      let c: Awaited<ReturnType<typeof confirmStored>>
      try {
        c = await confirmStored(stateDir, r.header.id, { tool: 'bt-put', pid: io.pid }, signal, storeIndex || undefined)
      } catch (err) {
        if (!(err instanceof BtError) || err.code === 'BT_STATE_BUSY' || err.code === 'BT_SIGNAL') throw err
        throw new BtError(err.code, EXIT.FAILURE, `full ${r.header.id} is stored as ${r.name}, but not confirmed in ${JSON.stringify(stateDir)}: ${err.message}`,
          [...err.hints, `then confirm it: bt-delta --state ${stateDir} --confirm ${r.header.id} (until then the next run makes a full again)`])
      }
      if (c.confirmed) say(`confirmed full ${r.header.id} in ${JSON.stringify(stateDir)}: the next differentials are made against it`)
      else {
        say(`${JSON.stringify(stateDir)} awaits ${c.pending !== undefined ? `full ${c.pending}, not this one` : 'no full'}: the state is unchanged`)
        if (indexKey) io.warn(`no index of full ${r.header.id} in ${JSON.stringify(stateDir)}, so none was stored beside it: a lost state directory cannot be rebuilt for it`)
      }
    }
  } finally {
    bar.done()
    await tx.close()
  }
  return io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK
}

/**
 * Bytes kept to resume a cut upload of an index object: less than a backup's,
 * as it is sent by the same process after the backup, whose window and check
 * worker the heap may still hold (measured: 72 MiB peak without the index
 * object, 94 MiB with a 1.2 MB one). A cut that cannot be resumed is a
 * warning; the full is stored all the same.
 */
const INDEX_WINDOW = 4 << 20

/**
 * Stores the index object of the full just stored, through the same upload
 * (temporary names, verified, renamed; never replacing). Its failure is a
 * warning: the full is stored whole and is confirmed all the same, but a lost
 * state directory could then not be rebuilt without the admin key.
 */
async function storeIndexObject(pending: State, key: PrivateKey, full: PutResult, tx: Transport, put: PutOptions, io: Io, say: (m: string) => void): Promise<void> {
  try {
    const sealed = sealIndex(pending, key, full.header.set, { producer: PRODUCER, host: hostname() })
    const r = await putArchive(sealed, tx, { ...put, window: Math.min(put.window, INDEX_WINDOW), verify: [publicOf(key)], staleMs: 0, progress: undefined })
    say(`stored ${r.name}, the index of full ${full.header.id} (${human(r.size)}): with the host key it rebuilds a lost state directory`)
  } catch (err) {
    if (put.signal?.aborted) throw err
    const why = err instanceof Error ? err.message : String(err)
    io.warn(`full ${full.header.id} is stored, but its index object is not: ${why}`)
  }
}
