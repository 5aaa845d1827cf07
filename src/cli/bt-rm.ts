import { writeSync } from 'node:fs'
import { EXIT, UsageError } from '../errors.js'
import { catalog } from '../transport/names.js'
import { VOLUME_SUFFIX, isBackupName, planRemoval, removeBackups } from '../transport/remove.js'
import { splitObjectUrl } from '../transport/url.js'
import { type CliSpec, type Parsed } from './args.js'
import { showName } from './escape.js'
import { type Io } from './io.js'
import { connect, remoteOptions } from './remote.js'
import { writeLine } from './write.js'

export const spec: CliSpec = {
  name: 'bt-rm',
  summary: 'remove stored backups, every volume, differentials before their full',
  usage: ['[OPTIONS] URL NAME...', '[OPTIONS] URL/NAME...'],
  options: [
    { long: 'dry-run', short: 'n', doc: 'check the names and print what would be removed; remove nothing' },
    { long: 'force', doc: 'remove a full even though complete differentials based on it stay (they become unrestorable)' },
    { long: 'ignore-missing', doc: 'skip a NAME that is not stored (an earlier run removed it) instead of refusing' },
    { long: 'quiet', short: 'q', doc: 'print nothing on success (errors and warnings still go to standard error)' },
    ...remoteOptions,
  ].sort((a, b) => a.long.localeCompare(b.long)),
  notes: [
    'NAME is a backup name as bt-ls URL prints it (no volume suffix). Every name is checked before',
    'anything is removed; each backup loses its volume 0001 first, so a cut removal leaves it listed',
    'INCOMPLETE, and running bt-rm again finishes it. Prints each removed backup\'s name on standard output.',
    'A full is refused (exit 1) while a complete differential based on it stays: name it too, or --force.',
  ],
}

/** The store and the names: URL NAME... (names never hold a "/"), or URL/NAME... in one directory. */
export function targets(args: string[]): { url: string; names: string[] } {
  if (args.length === 0) throw new UsageError('missing URL and NAME', `usage: bt-rm ${spec.usage[0]}`)
  if (args.length > 1 && !args.slice(1).some((a) => a.includes('/'))) return { url: args[0]!, names: args.slice(1) }
  const split = args.map(splitObjectUrl)
  if (args.length === 1 && !isBackupName(split[0]!.name) && !VOLUME_SUFFIX.test(split[0]!.name)) {
    throw new UsageError(`missing NAME: ${JSON.stringify(split[0]!.name)} is not a backup name`, `usage: bt-rm ${spec.usage[0]}, or bt-rm ${spec.usage[1]}`)
  }
  const dirs = new Set(split.map((s) => s.dir.replace(/\/+$/, '')))
  if (dirs.size > 1) throw new UsageError('the names are in more than one directory', 'run bt-rm once per store: bt-rm URL NAME...')
  return { url: split[0]!.dir, names: split.map((s) => s.name) }
}

/**
 * BT_TEST_PAUSE_RM=N, for tests only: stop for good before removing the Nth
 * object, after saying so (with the pid) on stderr, so that a test can kill
 * the process between two volumes.
 */
function pauseHook(value: string | undefined, pid: number): ((n: number, name: string) => void) | undefined {
  if (value === undefined || !/^[0-9]+$/.test(value)) return undefined
  const at = Number(value)
  return (n, name) => {
    if (n !== at) return
    writeSync(2, `bt-rm: test: paused before removing object ${n} (${name}), pid ${pid} (BT_TEST_PAUSE_RM)\n`)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
  }
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  const { url, names } = targets(args)
  const quiet = Boolean(opts.quiet)
  const say = (m: string) => (quiet ? undefined : io.notice(m))
  const { tx } = await connect(url, opts, io, signal)
  try {
    const plan = planRemoval(catalog(await tx.list()), names, { force: Boolean(opts.force), ignoreMissing: Boolean(opts['ignore-missing']), where: tx.display })
    for (const n of plan.missing) say(`${showName(n)} is not stored in ${tx.display}: skipped (--ignore-missing)`)
    if (plan.orphaned.length) {
      // Asked for with --force: said plainly, not counted as a problem (the exit stays 0).
      io.notice(`warning: ${plan.orphaned.length} complete differential${plan.orphaned.length === 1 ? '' : 's'} will be left without ${plan.orphaned.length === 1 ? 'its' : 'their'} full ` +
        `and cannot be restored (--force): ${plan.orphaned.map((b) => showName(b.name)).join(', ')}`)
    }
    const objects = plan.backups.reduce((s, b) => s + b.volumes.length, 0)
    if (opts['dry-run']) {
      for (const b of plan.backups) if (!quiet) await writeLine(io.stdout, b.name)
      say(`would remove ${plan.backups.length} backup${plan.backups.length === 1 ? '' : 's'} (${objects} object${objects === 1 ? '' : 's'}) from ${tx.display}; nothing was removed (--dry-run)`)
      return EXIT.OK
    }
    const r = await removeBackups(tx, plan, {
      beforeObject: pauseHook(io.env.BT_TEST_PAUSE_RM, io.pid),
      removed: async (b) => {
        if (!quiet) await writeLine(io.stdout, b.name)
      },
    })
    for (const l of r.locked) io.warn(`backup ${showName(l.backup.name)} cannot be removed yet: ${l.reason.message}${l.reason.hints.length ? ` (${l.reason.hints.join('; ')})` : ''}`)
    for (const f of r.held) io.warn(`full ${showName(f.name)} stays: a differential based on it is under retention`)
    say(`removed ${r.removed.length} backup${r.removed.length === 1 ? '' : 's'} (${r.objects} object${r.objects === 1 ? '' : 's'}) from ${tx.display}`)
  } finally {
    await tx.close()
  }
  return io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK
}
