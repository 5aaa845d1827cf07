// backtory backup SET: one backup of a set by its policy, as backtory-backup(1)
// describes; backtory backup DIR: the same with the embedded default. This
// file is the command's face (arguments, what is printed); the run itself is
// backup-run.ts, the pipeline backup-stages.ts, the choice backup-plan.ts.
import { existsSync, statSync } from 'node:fs'
import { EXIT, UsageError } from '../errors.js'
import { type CliSpec, type Parsed } from '../cli/args.js'
import { type Io } from '../cli/io.js'
import { BoundedLog } from './bounded-log.js'
import { runBackup } from './backup-run.js'
import { configPath, loadSet } from './config.js'
import { type DefaultSet, defaultSet } from './default-set.js'
import { prepareDefault } from './default-prepare.js'
import { dryRun } from './backup-dry-run.js'
import { lockRun } from './run-lock.js'
import { type SetConfig } from './set.js'
import { type RunReport, reportJson, summaryLine, writeTextfile } from './summary.js'
import { dataDir, type Where } from './where.js'

export const spec: CliSpec = {
  name: 'backtory backup',
  summary: 'back up a set (or a directory) by its policy: full or differential',
  usage: ['[-q] [--json] [--textfile DIR] [--dry-run] SET', '[-q] [--json] [--dry-run] DIR'],
  options: [
    { long: 'dry-run', doc: 'print the commands this run would run, and change nothing' },
    { long: 'json', doc: 'print one JSON object describing the run on standard output' },
    { long: 'quiet', short: 'q', doc: 'print nothing on success (for cron); on failure, every message of every stage' },
    { long: 'textfile', arg: 'DIR', doc: 'write DIR/backtory_SET.prom for node_exporter\'s textfile collector (default: the set\'s metrics key)' },
  ],
  notes: ['SET is a set name (its config is CONFIG/SET.conf), or the path of a config file. An existing directory',
    'instead is backed up with the embedded default: a local store and keys under DATA/default (backtory(1));',
    'a bare NAME with a config is the set even where ./NAME is a directory.'],
}

interface Target {
  set: SetConfig
  lockDir: string
  defaults?: DefaultSet
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}

/**
 * Whether a bare name (no slash, no .conf) names a set that has a config. The
 * set wins over a directory of the same name in the working directory: cron
 * runs `backtory backup root` in / or in root's home, where ./root or ./www may
 * well exist, and backing that up with the embedded default would skip the set
 * every night while saying "stored".
 */
function isConfiguredSet(arg: string, where: Where): boolean {
  if (arg.includes('/') || arg.endsWith('.conf')) return false
  try {
    return existsSync(configPath(arg, where))
  } catch {
    return false // not a set name at all
  }
}

function resolveTarget(arg: string, io: Io): Target {
  const where = { env: io.env, uid: io.uid }
  if (isDirectory(arg) && !isConfiguredSet(arg, where)) {
    const d = defaultSet(arg, where)
    return { set: d.set, lockDir: d.dir, defaults: d }
  }
  const set = loadSet(arg, where)
  return { set, lockDir: `${dataDir(where)}/${set.name}` }
}

export async function main(p: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  if (p.args.length !== 1) {
    throw new UsageError(p.args.length === 0 ? 'no set given' : 'backtory backup takes one SET', 'give a set name, a config file, or a directory to back up')
  }
  const t = resolveTarget(p.args[0]!, io)
  const quiet = Boolean(p.opts.quiet)
  if (p.opts['dry-run']) {
    io.stdout.write(await dryRun(t.set, t.defaults, { env: io.env, stderr: io.stderr, signal }))
    return EXIT.OK
  }
  const lock = lockRun(t.lockDir, t.set.name, io.pid)
  const log = new BoundedLog()
  let r: RunReport
  try {
    if (t.defaults) await prepareDefault(t.defaults, { env: io.env, stderr: quiet ? log : io.stderr, signal })
    r = await runBackup(t.set, { env: io.env, log, signal })
  } finally {
    lock.release()
  }
  const textfile = (p.opts.textfile as string | undefined) ?? t.set.metrics
  if (textfile) writeTextfile(textfile, r, io.pid)
  if (p.opts.json) io.stdout.write(reportJson(r))
  // Success is one line (none for cron); anything else shows every message the run kept.
  if (r.status !== EXIT.OK) io.stderr.write(log.text())
  if (!quiet || r.status !== EXIT.OK) {
    const where = t.defaults ? ` (store ${t.defaults.home}/store)` : ''
    io.stderr.write(`backtory backup: ${summaryLine(r)}${r.stored ? where : ''}\n`)
  }
  return r.status
}
