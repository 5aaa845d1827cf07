import { realpathSync, writeSync } from 'node:fs'
import { resolve } from 'node:path'
import { EXIT, IoError, UsageError } from '../errors.js'
import { readFrames } from '../format/reader.js'
import { settled } from '../format/run.js'
import { restoreStream } from '../restore/engine.js'
import { safeRelative } from '../restore/safe-path.js'
import { selector } from '../restore/select.js'
import { extractOne } from '../restore/to-stdout.js'
import { loadIdMaps } from '../scan/ids.js'
import { mkdirs } from '../sys/mkdirs.js'
import { type CliSpec, type Parsed } from './args.js'
import { maxHeader, openInput } from './input.js'
import { type Io } from './io.js'
import { showName } from './escape.js'
import { frameLine } from './listing.js'
import { writeLine } from './write.js'
import { processAlive } from './alive.js'

export const spec: CliSpec = {
  name: 'bt-restore',
  summary: 'restore a backtory stream into a directory, safely',
  usage: ['[OPTIONS] DIR [PATTERN...]', '--list [PATTERN...]', '--to-stdout PATH [--base DIR]'],
  options: [
    { long: 'base', arg: 'DIR', doc: 'with --to-stdout on a differential: a tree holding the full\'s version of PATH (bt-restore DIR PATH < FULL)' },
    { long: 'dry-run', short: 'n', doc: 'verify the stream and print what would be restored; write nothing' },
    { long: 'input', short: 'i', arg: 'FILE', doc: 'read the stream from FILE instead of standard input' },
    { long: 'list', short: 't', doc: 'list the entries (like bt-ls) instead of restoring' },
    { long: 'no-same-owner', doc: 'do not restore owners even when running as root' },
    { long: 'numeric-owner', doc: 'restore the numeric uid/gid, not the owner names mapped on this system' },
    { long: 'to-stdout', short: 'O', arg: 'PATH', doc: 'write the content of the file PATH to standard output' },
    { long: 'verbose', short: 'v', doc: 'print each path on standard error as it is put in place' },
  ],
  notes: ['PATTERN selects paths (glob syntax, anchored at the root); a selected directory brings its contents.',
    'Every object is built in a stage inside DIR (one at the top of each file system mounted below it too)',
    'and renamed into place once the whole stream has proved intact;',
    'a restore killed while renaming is finished by running the same bt-restore again with the same stream.'],
}

/** A path the user typed: "/etc/passwd" and "./etc/passwd" both mean the stream's "etc/passwd". */
function userPath(p: string): string {
  try {
    return safeRelative(p.replace(/^\/+/, ''))
  } catch {
    throw new UsageError(`${JSON.stringify(p)} cannot name an entry of a stream`, 'paths in a stream are relative and have no ".." components')
  }
}

/** For listing only: a hostile path is shown, never matched. */
function listedPath(p: string): string | undefined {
  try {
    return safeRelative(p)
  } catch {
    return undefined
  }
}

/** The engine says "PATH" for an object put in place and "deleted PATH" for a deletion; names are escaped. */
function verboseLine(what: string): string {
  return what.startsWith('deleted ') ? `deleted ${showName(what.slice(8))}` : showName(what)
}


/**
 * BT_TEST_PAUSE_COMMIT=N, for tests only: stop for good before commit step N,
 * after saying so on stderr, so that a test can kill the process at a known
 * point of its commit phase.
 */
function pauseHook(value: string | undefined): ((n: number) => void) | undefined {
  if (value === undefined || !/^[0-9]+$/.test(value)) return undefined
  const at = Number(value)
  return (n) => {
    if (n !== at) return
    writeSync(2, `bt-restore: test: paused in the commit phase before step ${n} (BT_TEST_PAUSE_COMMIT)\n`)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)
  }
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  const list = Boolean(opts.list)
  const dry = Boolean(opts['dry-run'])
  const toStdout = opts['to-stdout'] as string | undefined
  const input = () => openInput(io, opts.input as string | undefined, signal)
  const frames = () => readFrames(input(), { maxHeader: maxHeader(io) })

  if (toStdout !== undefined) {
    if (args.length > 0 || list || dry) throw new UsageError('--to-stdout takes no DIR, PATTERN, --list or --dry-run')
    const base = opts.base as string | undefined
    await extractOne(frames(), userPath(toStdout), io.stdout, { base: base === undefined ? undefined : resolve(base), warn: io.warn })
    return io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK
  }
  if (opts.base !== undefined) throw new UsageError('--base goes with --to-stdout', 'to restore a differential into a directory, restore its full there first')
  if (list) {
    const select = selector(args)
    for await (const f of frames()) {
      if (f.kind === 'entry' && select) {
        const rel = listedPath(f.meta.path)
        if (rel === undefined || !select(rel)) continue
      }
      await writeLine(io.stdout, frameLine(await settled(f)))
    }
    return EXIT.OK
  }
  if (args.length === 0) throw new UsageError('missing DIR', 'usage: bt-restore [OPTIONS] DIR [PATTERN...]')
  const select = selector(args.slice(1))
  if (dry) {
    for await (const f of frames()) {
      if (f.kind !== 'entry') continue
      const rel = safeRelative(f.meta.path)
      if (!select || select(rel)) await writeLine(io.stdout, showName(rel))
    }
    return EXIT.OK
  }
  let target: string
  try {
    mkdirs(resolve(args[0]!))
    target = realpathSync(resolve(args[0]!))
  } catch (err) {
    throw new IoError(`cannot use ${JSON.stringify(args[0])} as the target directory`, err as NodeJS.ErrnoException)
  }
  await restoreStream(frames(), {
    target,
    paths: args.slice(1),
    tmpTag: String(io.pid),
    sameOwner: io.uid === 0 && !opts['no-same-owner'],
    numericOwner: Boolean(opts['numeric-owner']),
    ids: loadIdMaps(),
    warn: io.warn,
    alive: (pid) => pid === io.pid || processAlive(pid),
    onStep: opts.verbose ? (what) => io.stderr.write(`${verboseLine(what)}\n`) : undefined,
    beforeCommitStep: pauseHook(io.env.BT_TEST_PAUSE_COMMIT),
  })
  return io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK
}
