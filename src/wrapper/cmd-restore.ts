// backtory restore: a point in time of a set, whole, some paths, or one file
// to standard output, from the full and at most one differential the store
// holds; on a fresh machine from the store URL and the keys alone. It runs
// the bt-get | bt-open | bt-restore pipelines an admin would; see
// backtory-restore(1).
import { rmSync } from 'node:fs'
import { processAlive } from '../cli/alive.js'
import { makeScratch } from './scratch.js'
import { EXIT, UsageError } from '../errors.js'
import { type CliSpec, type Parsed, type Values } from '../cli/args.js'
import { type Io } from '../cli/io.js'
import { type Pick, selectChain } from './chain.js'
import { listOrigin, originOf, STORE_OPTIONS } from './origin.js'
import { runPipeline } from './pipeline.js'
import { renderSteps, restoreSteps, type RestoreOptions } from './restore-plan.js'
import { type SetConfig } from './set.js'
import { stepFailure } from './step-failure.js'
import { localIso, parseTime } from './when.js'

export const spec: CliSpec = {
  name: 'backtory restore',
  summary: 'restore a point in time, a whole tree or some paths',
  usage: ['SET [--at TIME | --id ID | --latest] --key KEY --to DIR [PATH...]', 'SET [--at TIME | --id ID | --latest] --key KEY --to - PATH',
    '--store URL --key KEY --verify HOST.pub [--set NAME] [STORE OPTIONS] [--at TIME | --id ID | --latest] --to DIR [PATH...]'],
  options: [
    ...STORE_OPTIONS,
    { long: 'at', arg: 'TIME', doc: 'the newest backup made at or before TIME (local "2026-11-20 03:00", ISO 8601 with zone, a day, or "3d" ago)' },
    { long: 'dry-run', short: 'n', doc: 'print the pipelines that would run, and run none' },
    { long: 'id', arg: 'ID', doc: 'the backup with this name, id, or id prefix (6 characters or more)' },
    { long: 'key', arg: 'KEY', doc: 'the admin\'s private key (PEM) the backups are encrypted to' },
    { long: 'key-passphrase-file', arg: 'FILE', doc: 'the passphrase of an encrypted --key: the first line of FILE' },
    { long: 'latest', doc: 'the newest backup that can be restored (the default)' },
    { long: 'no-same-owner', doc: 'do not restore owners, even as root' },
    { long: 'numeric-owner', doc: 'restore the numeric ids of the backup, not those of the owner names here' },
    { long: 'to', arg: 'DIR', doc: 'restore into DIR; "-" writes the one PATH given to standard output' },
    { long: 'verify', arg: 'PUB', doc: 'the host\'s public key the backups are signed with (default: the set\'s verify-key)' },
  ].sort((a, b) => a.long.localeCompare(b.long)),
  notes: ['Without a SET config, --store names the store; then every operand is a PATH.',
    'TIME: \'2026-11-20 03:00\' (local), \'2026-11-20\' (end of that day, local), ISO 8601 with zone, or \'3d\', \'12h\' ago.'],
}

/** Which backup the options ask for; --latest when none does. */
export function pickOf(opts: Values, now: Date): Pick {
  const given = (['at', 'id', 'latest'] as const).filter((k) => opts[k] !== undefined && opts[k] !== false)
  if (given.length > 1) throw new UsageError(`--${given[0]} and --${given[1]} exclude each other`, 'name one backup: --at TIME, --id ID or --latest')
  if (typeof opts.at === 'string') return { at: parseTime(opts.at, now) }
  if (typeof opts.id === 'string') return { id: opts.id }
  return { latest: true }
}

/** The admin key: --key, or a key the config names (it normally names none: that key belongs off the host). */
function adminKey(opts: Values, config: SetConfig | undefined): string {
  const named = (config as (SetConfig & { restoreKey?: string }) | undefined)?.restoreKey
  const key = typeof opts.key === 'string' ? opts.key : named
  if (key === undefined) {
    throw new UsageError('missing --key KEY: the admin\'s private key decrypts the backups',
      'the admin private key is kept off the host; copy it here for the restore, or restore on the admin\'s machine')
  }
  return key
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  const { origin, rest: paths } = originOf(opts, args, { env: io.env, uid: io.uid }, `${spec.name} ${spec.usage[0]!}`)
  const to = opts.to as string | undefined
  if (to === undefined) throw new UsageError('missing --to DIR', 'restore into a directory with --to DIR, or one file to standard output with --to - PATH')
  if (to === '-' && paths.length !== 1) throw new UsageError('--to - writes one file: give exactly one PATH', `usage: ${spec.name} ${spec.usage[1]}`)
  const pick = pickOf(opts, new Date())
  const key = adminKey(opts, origin.config)
  if (origin.verifyKey === undefined) {
    throw new UsageError('missing --verify HOST.pub: the host\'s public key proves who made the backups',
      'copy the host\'s public key (its sign-key with .pub) from the admin\'s records or another backup of the host')
  }
  const rows = await listOrigin(origin, { env: io.env, stderr: io.stderr, signal })
  const chain = selectChain(rows, pick, origin.set, origin.store.url)
  const dry = Boolean(opts['dry-run'])
  const baseDir = to === '-' && chain.members.length > 1 && !dry ? makeScratch('restore', { env: io.env, pid: io.pid, uid: io.uid, alive: processAlive }) : '@T@'
  const o: RestoreOptions = {
    to, paths, key, keyPassphraseFile: opts['key-passphrase-file'] as string | undefined, verifyKey: origin.verifyKey, baseDir,
    ownerFlags: [...(opts['no-same-owner'] ? ['--no-same-owner'] : []), ...(opts['numeric-owner'] ? ['--numeric-owner'] : [])],
  }
  const steps = restoreSteps(chain, origin, o)
  if (dry) {
    io.stdout.write(renderSteps(steps, baseDir))
    return EXIT.OK
  }
  let partial = false
  try {
    for (const [i, step] of steps.entries()) {
      const r = await runPipeline(step.stages, { env: io.env, stderr: io.stderr, signal, stdout: step.toStdout ? 'inherit' : 'ignore' })
      if (signal.aborted) throw signal.reason
      if (r.code === EXIT.PARTIAL) partial = true
      else if (r.code !== EXIT.OK) throw stepFailure(r, `restoring ${chain.members[i]!.name}`, to === '-' ? [] : [restartHint(to)])
    }
  } finally {
    if (baseDir !== '@T@') rmSync(baseDir, { recursive: true, force: true })
  }
  const what = chain.members.map((m) => `${m.kind} ${m.id.slice(0, 8)}`).join(' + ')
  io.notice(`${to === '-' ? `wrote ${paths[0]}` : `restored ${paths.length ? `${paths.length} path(s)` : 'the tree'} into ${to}`} ` +
    `as of ${localIso(chain.target.time)} (set ${origin.set}: ${what})`)
  return partial ? EXIT.PARTIAL : EXIT.OK
}

function restartHint(to: string): string {
  return `${JSON.stringify(to)} is as bt-restore left it (see its message); run the same backtory restore again to finish or redo it`
}
