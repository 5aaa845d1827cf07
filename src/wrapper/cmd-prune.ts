// backtory prune: deletes a set's backups by its keep rules (keep.ts), through
// the same bt-rm an admin would run, differentials before their fulls. bt-rm
// removes each backup's volume 0001 first, so a prune cut anywhere leaves no
// differential listed complete whose full is gone, and the next prune finishes
// a cut removal (a backup without its volume 0001) before anything else.
import { type Writable } from 'node:stream'
import { BtError, EXIT, type ExitCode, UsageError } from '../errors.js'
import { type CliSpec, type Parsed } from '../cli/args.js'
import { type Io } from '../cli/io.js'
import { writeLine } from '../cli/write.js'
import { listStore, type StoredBackup } from './catalog.js'
import { loadSet } from './config.js'
import { decide, hasKeepRules } from './keep.js'
import { render, runPipeline, type Stage } from './pipeline.js'
import { storeArgs } from './store-args.js'

export const spec: CliSpec = {
  name: 'backtory prune',
  summary: 'delete backups by the set\'s keep rules, never orphaning a differential',
  usage: ['[--dry-run] [--json] [-q | -v] SET'],
  options: [
    { long: 'dry-run', short: 'n', doc: 'print what would be kept and deleted, and why, then the bt-rm command; delete nothing' },
    { long: 'json', doc: 'print one JSON object per backup (action, reasons, deleted), then the bt-rm command' },
    { long: 'quiet', short: 'q', doc: 'print nothing on success' },
    { long: 'verbose', short: 'v', doc: 'also print each backup that is kept, and why' },
  ],
  notes: [
    'SET is a set\'s name (its config in the config directory) or the path of its config file.',
    'Keep rules are the config\'s keep-fulls, keep-within, keep-daily, keep-weekly and keep-monthly;',
    'the newest backup is always kept, and a kept differential keeps its full. See backtory-prune(1).',
  ],
}

interface Doomed {
  backup: StoredBackup
  reasons: string[]
}

/** bt-rm's order: differentials (and other kinds) first, then fulls, oldest first. */
function removalOrder(a: StoredBackup, b: StoredBackup): number {
  const rank = (x: StoredBackup) => (x.kind === 'full' ? 2 : x.kind === 'index' ? 1 : 0)
  return rank(a) - rank(b) || a.time.getTime() - b.time.getTime() || a.name.localeCompare(b.name)
}

/** Collects what a quiet run's stages say, to show it only if the run fails. */
function held(): Writable & { text: string } {
  const chunks: Buffer[] = []
  const w = {
    write(b: Buffer | string) {
      chunks.push(Buffer.from(b))
      return true
    },
    get text() {
      return Buffer.concat(chunks).toString()
    },
  }
  return w as unknown as Writable & { text: string }
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  if (args.length !== 1) throw new UsageError(args.length === 0 ? 'missing SET' : 'too many arguments', `usage: backtory prune ${spec.usage[0]}`)
  const set = loadSet(args[0]!, { env: io.env, uid: io.uid })
  if (!hasKeepRules(set.keep)) {
    throw new BtError('BT_CONFIG', EXIT.USAGE, `set ${set.name} has no keep rules (${set.file}): prune would delete every backup but the newest`,
      ['add the rules to keep by, such as keep-daily = 7, keep-weekly = 5, keep-monthly = 12 (see backtory.conf(5))'])
  }
  const quiet = Boolean(opts.quiet) && !opts['dry-run']
  const stderr = quiet ? held() : io.stderr
  const out = (line: string) => writeLine(io.stdout, line)
  const flush = () => quiet && io.stderr.write((stderr as ReturnType<typeof held>).text)
  let rows: StoredBackup[]
  try {
    rows = await listStore(set.store, set.name, { env: io.env, stderr, signal }, true)
  } catch (err) {
    flush()
    throw err
  }
  const decisions = decide(rows, set.keep)
  const doomed: Doomed[] = [
    ...decisions.filter((d) => !d.keep),
    // A removal that was cut: its volume 0001 went first; finish it before anything else.
    ...rows.filter((b) => !b.complete && !b.firstVolume).map((b) => ({ backup: b, reasons: ['a removal that was cut (its volume 0001 is gone)'] })),
  ].sort((a, b) => removalOrder(a.backup, b.backup))
  const stage: Stage = { tool: 'bt-rm', args: [...storeArgs(set.store), set.store.url, ...doomed.map((d) => d.backup.name)] }
  const command = render([stage])
  const json = (d: { backup: StoredBackup; reasons: string[] }, keep: boolean, deleted: boolean) => JSON.stringify({
    name: d.backup.name, kind: d.backup.kind, time: d.backup.time.toISOString(), base: d.backup.base,
    action: keep ? 'keep' : 'delete', reasons: d.reasons, deleted,
  })

  if (opts['dry-run']) {
    for (const d of decisions.filter((x) => x.keep)) await out(opts.json ? json(d, true, false) : `# keep   ${d.backup.name}: ${d.reasons.join('; ')}`)
    for (const d of doomed) await out(opts.json ? json(d, false, false) : `# delete ${d.backup.name}: ${d.reasons.join('; ')}`)
    if (doomed.length === 0) await out(opts.json ? JSON.stringify({ command: null }) : '# nothing to delete')
    else await out(opts.json ? JSON.stringify({ command }) : command)
    return EXIT.OK
  }
  if (doomed.length === 0) {
    if (opts.json) for (const d of decisions) await out(json(d, true, false))
    else if (!quiet) io.notice(`set ${set.name}: nothing to delete; ${decisions.length} backup${decisions.length === 1 ? '' : 's'} kept`)
    return EXIT.OK
  }
  const r = await runPipeline([stage], { env: io.env, stderr, signal })
  const gone = new Set(r.stdout.split('\n').filter((l) => l !== ''))
  if (opts.json) {
    for (const d of decisions.filter((x) => x.keep)) await out(json(d, true, false))
    for (const d of doomed) await out(json(d, false, gone.has(d.backup.name)))
    await out(JSON.stringify({ command }))
  } else if (!quiet || r.code !== EXIT.OK) {
    if (opts.verbose) for (const d of decisions.filter((x) => x.keep)) await out(`kept    ${d.backup.name}: ${d.reasons.join('; ')}`)
    for (const d of doomed) if (gone.has(d.backup.name)) await out(`deleted ${d.backup.name}: ${d.reasons.join('; ')}`)
  }
  if (r.code === EXIT.OK || r.code === EXIT.PARTIAL) {
    if (r.code !== EXIT.OK) flush()
    return r.code
  }
  flush()
  const done = doomed.filter((d) => gone.has(d.backup.name)).length
  throw new BtError('BT_PRUNE', r.code as ExitCode, `prune of set ${set.name} stopped: bt-rm exited ${r.code} after deleting ${done} of ${doomed.length} backups`,
    [r.code === EXIT.USAGE ? 'its message is above; check the store options in the set\'s config'
      : 'its message is above; run backtory prune again once the cause is fixed: it finishes a removal that was cut'])
}
