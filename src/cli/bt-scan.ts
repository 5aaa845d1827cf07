import { realpathSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { EXIT, IoError, UsageError } from '../errors.js'
import { scanStream } from '../scan/scan.js'
import { pump } from './pump.js'
import { type CliSpec, type Parsed } from './args.js'
import { type Io, quietIo } from './io.js'
import { openOutput } from './output.js'
import { OUTPUT_OPTION, SCAN_OPTIONS as S, planScan, scanOptions } from './scan-options.js'

export const spec: CliSpec = {
  name: 'bt-scan',
  summary: 'walk a directory tree and write it as a backtory stream',
  usage: ['[OPTIONS] DIR'],
  options: [
    S.exclude, S.excludeCaches, S.excludeFrom, S.host, S.oneFileSystem, OUTPUT_OPTION, S.quiet, S.state,
    S.source('the absolute path of DIR, symlinks resolved'),
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
  if (opts.quiet) io = quietIo(io)
  const plan = planScan(opts, io)
  const out = openOutput(io, opts.output as string | undefined)
  const scan = scanOptions(plan, { root, source: root, skip: out.paths }, io)
  try {
    await pump(scanStream(scan.options), out.stream, signal, (b) => scan.options.pool.release(b))
    out.commit()
  } catch (err) {
    out.abort()
    throw err
  } finally {
    scan.close()
  }
  return io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK
}
