import { randomBytes } from 'node:crypto'
import { readFileSync, realpathSync, statSync } from 'node:fs'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { EXIT, IoError, UsageError } from '../errors.js'
import { STREAM_VERSION } from '../format/frame.js'
import { Excluder, patternsFromText } from '../scan/exclude.js'
import { loadIdMaps } from '../scan/ids.js'
import { CHUNK } from '../scan/content.js'
import { BufferPool } from '../scan/pool.js'
import { scanStream } from '../scan/scan.js'
import { pump } from './pump.js'
import { openIndex, readState } from '../state/store.js'
import { PRODUCER } from '../version.js'
import { type CliSpec, type Parsed } from './args.js'
import { type Io } from './io.js'
import { openOutput } from './output.js'

export const spec: CliSpec = {
  name: 'bt-scan',
  summary: 'walk a directory tree and write it as a backtory stream',
  usage: ['[OPTIONS] DIR'],
  options: [
    { long: 'exclude', arg: 'PATTERN', repeat: true, doc: 'leave out paths matching PATTERN (gitignore syntax)' },
    { long: 'exclude-caches', doc: 'keep only CACHEDIR.TAG of directories marked as caches' },
    { long: 'exclude-from', arg: 'FILE', repeat: true, doc: 'read exclude patterns from FILE, one per line' },
    { long: 'host', arg: 'NAME', doc: 'host name recorded in the header (default: this host)' },
    { long: 'one-file-system', short: 'x', doc: 'do not descend into directories on other filesystems' },
    { long: 'output', short: 'o', arg: 'FILE', doc: 'write to FILE, which appears only on success ("-": stdout)' },
    { long: 'state', short: 's', arg: 'DIR', doc: 'quick-check files against the full index in DIR (shared with bt-delta; default: $BT_STATE)' },
    { long: 'source', arg: 'LABEL', doc: 'source recorded in the header (default: the absolute path of DIR, symlinks resolved)' },
  ],
  notes: ['Warnings name what was skipped or flagged incomplete; the run then exits 3.'],
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  if (args.length !== 1) throw new UsageError(args.length === 0 ? 'missing DIR' : 'too many arguments', 'usage: bt-scan [OPTIONS] DIR')
  let root: string
  let isDir: boolean
  try {
    // A symlink to the tree is followed once, here; inside the tree none is.
    root = realpathSync(resolve(args[0]!))
    isDir = statSync(root).isDirectory()
  } catch (err) {
    throw new IoError(`cannot scan ${JSON.stringify(args[0])}`, err as NodeJS.ErrnoException)
  }
  if (!isDir) throw new UsageError(`${JSON.stringify(args[0])} is not a directory`)
  const patterns = [...(opts.exclude as string[])]
  for (const file of opts['exclude-from'] as string[]) {
    try {
      patterns.push(...patternsFromText(readFileSync(file, 'utf8')))
    } catch (err) {
      throw new IoError(`cannot read exclude file ${JSON.stringify(file)}`, err as NodeJS.ErrnoException)
    }
  }
  const exclude = new Excluder(patterns)
  const stateDir = (opts.state as string | undefined) ?? io.env.BT_STATE
  const state = stateDir ? readState(stateDir) : undefined
  if (stateDir && !state) io.notice(`no full index in ${JSON.stringify(stateDir)} yet: scanning everything`)
  const index = state ? openIndex(state) : undefined
  const out = openOutput(io, opts.output as string | undefined)
  const pool = new BufferPool(CHUNK)
  const gen = scanStream({
    pool,
    index,
    root,
    info: {
      version: STREAM_VERSION, producer: PRODUCER, host: (opts.host as string | undefined) ?? hostname(),
      source: (opts.source as string | undefined) ?? root, stream: state ? 'quick' : 'full', time: new Date().toISOString(),
      id: randomBytes(16).toString('hex'), ...(state ? { base: state.full.id } : {}),
    },
    exclude,
    oneFileSystem: Boolean(opts['one-file-system']),
    excludeCaches: Boolean(opts['exclude-caches']),
    ids: loadIdMaps(),
    warn: io.warn,
    notice: io.notice,
    skip: new Set(out.paths),
  })
  try {
    await pump(gen, out.stream, signal, (b) => pool.release(b))
    out.commit()
  } catch (err) {
    out.abort()
    throw err
  } finally {
    index?.close()
  }
  return io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK
}
