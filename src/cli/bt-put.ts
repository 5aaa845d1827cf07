import { BtError, EXIT, UsageError } from '../errors.js'
import { confirmStored } from '../state/confirm.js'
import { putArchive } from '../transport/put.js'
import { type CliSpec, type Parsed } from './args.js'
import { openBulkInput } from './bulk-input.js'
import { type Io } from './io.js'
import { loadPublic } from './keyfile.js'
import { progress, human } from './progress.js'
import { connect, number, remoteOptions, size } from './remote.js'
import { writeLine } from './write.js'
import { retention, retentionOptions } from './retention.js'
import { parseTarget } from '../transport/url.js'

export const spec: CliSpec = {
  name: 'bt-put',
  summary: 'store a sealed archive from standard input as one immutable backup',
  usage: ['[OPTIONS] URL'],
  options: [
    { long: 'keep-stale', doc: 'do not remove temporaries and incomplete backups left by crashed runs' },
    { long: 'progress', doc: 'show progress on standard error even when it is not a terminal' },
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
    'failure nothing final is left. Prints the stored backup\'s name on standard output.',
    'A differential is refused (exit 4) unless its base full is stored whole in the same place.',
  ],
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  if (args.length !== 1) throw new UsageError(args.length === 0 ? 'missing URL' : 'too many arguments', `usage: bt-put ${spec.usage[0]}`)
  const volumeSize = size(opts, 'volume-size', 1 << 30, 1 << 16)
  const window = size(opts, 'window', 16 << 20, 1 << 16)
  const staleMs = number(opts, 'stale-after', 24, 0) * 3600_000
  const verify = (opts.verify as string[]).map(loadPublic)
  if ((io.stdin as { isTTY?: boolean }).isTTY) throw new UsageError('refusing to read a sealed archive from a terminal', 'pipe bt-seal\'s output into bt-put')
  const retain = retention(opts, parseTarget(args[0]!).scheme, Date.now())
  const { tx, retry } = await connect(args[0]!, opts, io, signal, retain)
  const bar = progress(io, opts.progress ? true : undefined)
  try {
    const r = await putArchive(openBulkInput(io, undefined, signal), tx, {
      volumeSize, window, verify, staleMs: opts['keep-stale'] ? 0 : staleMs, now: Date.now, signal,
      retry,
      progress: (bytes, vol) => bar.update(bytes, `volume ${vol}`),
      removedStale: (n) => io.notice(`removed stale ${n}`),
    })
    bar.done()
    io.notice(`stored ${r.name} in ${tx.display}: ${human(r.size)} in ${r.volumes.length} volume${r.volumes.length === 1 ? '' : 's'}` +
      (retain ? `, locked until ${retain.until.toISOString()} (${retain.mode.toLowerCase()})` : ''))
    // The backup is stored whatever the state says next: its name goes out first, for the caller's records.
    await writeLine(io.stdout, r.name)
    const stateDir = (opts.state as string | undefined) ?? io.env.BT_STATE
    if (stateDir && r.header.kind === 'full') {
      let c: Awaited<ReturnType<typeof confirmStored>>
      try {
        c = await confirmStored(stateDir, r.header.id, { tool: 'bt-put', pid: io.pid }, signal)
      } catch (err) {
        if (!(err instanceof BtError) || err.code === 'BT_STATE_BUSY' || err.code === 'BT_SIGNAL') throw err
        throw new BtError(err.code, EXIT.FAILURE, `full ${r.header.id} is stored as ${r.name}, but not confirmed in ${JSON.stringify(stateDir)}: ${err.message}`,
          [...err.hints, `then confirm it: bt-delta --state ${stateDir} --confirm ${r.header.id} (until then the next run makes a full again)`])
      }
      if (c.confirmed) io.notice(`confirmed full ${r.header.id} in ${JSON.stringify(stateDir)}: the next differentials are made against it`)
      else io.notice(`${JSON.stringify(stateDir)} awaits ${c.pending !== undefined ? `full ${c.pending}, not this one` : 'no full'}: the state is unchanged`)
    }
  } finally {
    bar.done()
    await tx.close()
  }
  return EXIT.OK
}
