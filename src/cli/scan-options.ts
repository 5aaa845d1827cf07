// The scanner's options, shared by bt-scan and bt-snap (which scans a snapshot
// with the same code): their specs, and the step from parsed options to the
// ScanOptions of src/scan/scan.ts.
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { IoError } from '../errors.js'
import { STREAM_VERSION } from '../format/frame.js'
import { CHUNK } from '../scan/content.js'
import { Excluder, patternsFromText } from '../scan/exclude.js'
import { loadIdMaps } from '../scan/ids.js'
import { BufferPool } from '../scan/pool.js'
import { type ScanOptions } from '../scan/scan.js'
import { requireStateDir } from '../state/dir.js'
import { type Lock, lockState } from '../state/lock.js'
import { openIndex, readPending, readState } from '../state/store.js'
import { PRODUCER } from '../version.js'
import { type OptionSpec, type Values } from './args.js'
import { type Io } from './io.js'

export const SCAN_OPTIONS = {
  exclude: { long: 'exclude', arg: 'PATTERN', repeat: true, doc: 'leave out paths matching PATTERN (gitignore syntax)' },
  excludeCaches: { long: 'exclude-caches', doc: 'keep only CACHEDIR.TAG of directories marked as caches' },
  excludeFrom: { long: 'exclude-from', arg: 'FILE', repeat: true, doc: 'read exclude patterns from FILE, one per line' },
  host: { long: 'host', arg: 'NAME', doc: 'host name recorded in the header (default: this host)' },
  oneFileSystem: { long: 'one-file-system', short: 'x', doc: 'do not descend into directories on other filesystems' },
  quiet: { long: 'quiet', short: 'q', doc: 'print no notices (skipped sockets, a first full scan); warnings and errors still' },
  state: { long: 'state', short: 's', arg: 'DIR', doc: 'quick-check files against the full index in DIR (shared with bt-delta; default: $BT_STATE)' },
  /** Each tool says what its default source is. */
  source: (byDefault: string): OptionSpec => ({ long: 'source', arg: 'LABEL', doc: `source recorded in the header (default: ${byDefault})` }),
} satisfies Record<string, OptionSpec | ((s: string) => OptionSpec)>

export const OUTPUT_OPTION: OptionSpec = {
  long: 'output', short: 'o', arg: 'FILE', doc: 'write to FILE, which appears only on success ("-": stdout)',
}

/** What the scanner options ask for, read before anything is scanned (or snapshotted). */
export interface ScanPlan {
  exclude: Excluder
  host: string
  source?: string
  oneFileSystem: boolean
  excludeCaches: boolean
  state?: ReturnType<typeof readState>
  /** scan.lock of the state directory, held until the scan ends. */
  lock?: Lock
}

/** Reads the exclude files and the state directory: their errors come before any work. */
export function planScan(opts: Values, io: Io, tool = 'bt-scan'): ScanPlan {
  const patterns = [...(opts.exclude as string[])]
  for (const file of opts['exclude-from'] as string[]) {
    try {
      patterns.push(...patternsFromText(readFileSync(file, 'utf8')))
    } catch (err) {
      throw new IoError(`cannot read exclude file ${JSON.stringify(file)}`, err as NodeJS.ErrnoException)
    }
  }
  const stateDir = (opts.state as string | undefined) ?? io.env.BT_STATE
  // A missing directory is a mistyped path, not a first run: an empty one is a first run.
  if (stateDir) requireStateDir(stateDir)
  // Taken before the index is read: bt-delta and bt-put remove an old index only while no scan holds this.
  const lock = stateDir ? lockState(stateDir, 'scan.lock', { tool, pid: io.pid }) : undefined
  let state: ScanPlan['state']
  try {
    state = stateDir ? readState(stateDir) : undefined
    // Only a full that a store confirmed holding is a base: the pending one may never have been stored.
    const pending = stateDir && !state ? readPending(stateDir) : undefined
    if (pending) io.notice(`no stored full confirmed in ${JSON.stringify(stateDir)} (full ${pending.full.id} was never confirmed stored): scanning everything`)
    else if (stateDir && !state) io.notice(`no full index in ${JSON.stringify(stateDir)} yet: scanning everything`)
  } catch (err) {
    lock?.release()
    throw err
  }
  return {
    exclude: new Excluder(patterns),
    host: (opts.host as string | undefined) ?? hostname(),
    source: opts.source as string | undefined,
    oneFileSystem: Boolean(opts['one-file-system']),
    excludeCaches: Boolean(opts['exclude-caches']),
    state,
    lock,
  }
}

export interface ScanTarget {
  /** The directory walked. */
  root: string
  /** The header's source when --source is not given. */
  source: string
  /** Absolute paths never to scan. */
  skip: Iterable<string>
}

/** The ScanOptions for `target`, and close() for the index it opened. */
export function scanOptions(plan: ScanPlan, target: ScanTarget, io: Io): { options: ScanOptions; close(): void } {
  const { state } = plan
  let index
  try {
    index = state ? openIndex(state) : undefined
  } catch (err) {
    plan.lock?.release()
    throw err
  }
  const pool = new BufferPool(CHUNK)
  return {
    options: {
      pool,
      index,
      root: target.root,
      info: {
        version: STREAM_VERSION, producer: PRODUCER, host: plan.host,
        source: plan.source ?? target.source, stream: state ? 'quick' : 'full', time: new Date().toISOString(),
        id: randomBytes(16).toString('hex'), ...(state ? { base: state.full.id } : {}),
      },
      exclude: plan.exclude,
      oneFileSystem: plan.oneFileSystem,
      excludeCaches: plan.excludeCaches,
      ids: loadIdMaps(),
      warn: io.warn,
      notice: io.notice,
      skip: new Set(target.skip),
    },
    close: () => {
      index?.close()
      plan.lock?.release()
    },
  }
}
