import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { BtError, EXIT, InputError, UsageError } from '../errors.js'
import { type Frame, type StreamInfo } from '../format/frame.js'
import { readFrames } from '../format/reader.js'
import { diffStream } from '../diff/differential.js'
import { indexEntry } from '../diff/index-full.js'
import { Summary } from '../diff/summary.js'
import { Generation, openIndex, readState } from '../state/store.js'
import { type CliSpec, type Parsed } from './args.js'
import { maxHeader, openInput } from './input.js'
import { type Io } from './io.js'
import { openOutput } from './output.js'
import { tee } from './tee.js'

export const spec: CliSpec = {
  name: 'bt-delta',
  summary: 'record a full backup\'s index, or turn a fresh scan into a differential against it',
  usage: ['--state DIR --full', '--state DIR [--checksum]', '--state DIR --auto', '--state DIR --rebuild-from FILE'],
  options: [
    { long: 'auto', doc: 'make a full when DIR holds no index, else a differential' },
    { long: 'checksum', doc: 'compare content hashes instead of trusting size, mtime, ctime and inode' },
    { long: 'full', doc: 'pass the stream through unchanged and record its index in DIR' },
    { long: 'output', short: 'o', arg: 'FILE', doc: 'write to FILE, which appears only on success ("-": stdout)' },
    { long: 'quiet', short: 'q', doc: 'do not print the summary on standard error' },
    { long: 'rebuild-from', arg: 'FILE', doc: 'rebuild DIR\'s index from a stored full stream ("-": stdin); writes no stream' },
    { long: 'state', short: 's', arg: 'DIR', doc: 'the state directory shared with bt-scan --state (default: $BT_STATE)' },
  ],
  notes: ['A differential holds the changes since the full whose index DIR holds, so any point in time',
    'restores from two archives: that full, then one differential.'],
}

/**
 * Indexes a full stream into a new generation of the state directory. The
 * generation is returned uncommitted: the caller commits it only once the
 * stream's own output has been written out, so that no index ever describes a
 * full that this run failed to store.
 */
async function indexFull(frames: AsyncIterable<Frame>, dir: string): Promise<{ gen: Generation; info: StreamInfo }> {
  let gen: Generation | undefined
  let info: StreamInfo | undefined
  let done = false
  try {
    for await (const f of frames) {
      if (f.kind === 'header') {
        if (f.info.stream !== 'full') {
          throw new InputError('BT_STREAM_KIND', `a full needs a complete scan; the input is a ${JSON.stringify(f.info.stream)} stream`,
            'run bt-scan without --state (and without BT_STATE) for a full')
        }
        gen = new Generation(dir, f.info.id)
        info = f.info
      } else if (f.kind === 'entry') {
        await indexEntry(f, gen!.writer)
      } else if (f.kind === 'incomplete') {
        gen!.writer.markIncomplete(f.path)
      } else if (f.kind === 'trailer') {
        done = true
      }
    }
  } finally {
    if (!done) gen?.abort()
  }
  return { gen: gen!, info: info! }
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  if (args.length > 0) throw new UsageError('bt-delta takes no arguments', 'it reads a stream on stdin; see bt-delta --help')
  const dir = (opts.state as string | undefined) ?? io.env.BT_STATE
  if (!dir) throw new UsageError('no state directory', 'give --state DIR or set BT_STATE')
  const modes = ['full', 'auto', 'rebuild-from'].filter((k) => opts[k])
  if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} exclude each other`)
  if (opts.checksum && (opts.full || opts['rebuild-from'])) throw new UsageError('--checksum applies to differentials only')
  const say = (m: string) => {
    if (!opts.quiet) io.notice(m)
  }

  const done = (gen: Generation, info: StreamInfo, bytes: number) => {
    const full = gen.commit({ id: info.id, bytes, time: info.time })
    say(`recorded the index of full ${full.id}: ${full.entries} entries, digest ${full.index.slice(0, 16)}…`)
  }
  const rebuild = opts['rebuild-from'] as string | undefined
  if (rebuild !== undefined) {
    if (opts.output !== undefined) throw new UsageError('--rebuild-from writes no stream, so -o has nothing to write')
    let n = 0
    const input = openInput(io, rebuild, signal)
    input.on('data', (c: Buffer) => (n += c.length))
    const { gen, info } = await indexFull(readFrames(input, { maxHeader: maxHeader(io) }), dir)
    done(gen, info, n)
    return EXIT.OK
  }

  const state = readState(dir)
  const out = openOutput(io, opts.output as string | undefined)
  try {
    if (opts.full || (opts.auto && !state)) {
      if (opts.auto) say(`no index in ${JSON.stringify(dir)} yet: making a full`)
      const t = tee(openInput(io, undefined, signal), out.stream)
      const { gen, info } = await indexFull(readFrames(t.source, { maxHeader: maxHeader(io) }), dir)
      try {
        await t.end()
        out.commit()
      } catch (err) {
        gen.abort()
        throw err
      }
      done(gen, info, t.bytes())
      return io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK
    } else {
      if (!state) {
        throw new BtError('BT_NO_INDEX', EXIT.FAILURE, `${JSON.stringify(dir)} holds no full index`,
          ['make a full first (bt-delta --full), use --auto, or rebuild the index with --rebuild-from FULL'])
      }
      const index = openIndex(state)
      const summary = new Summary()
      try {
        const frames = readFrames(openInput(io, undefined, signal), { maxHeader: maxHeader(io) })
        await pipeline(Readable.from(diffStream(frames, { state, index, checksum: Boolean(opts.checksum), summary, tmpdir: io.env.TMPDIR || undefined }),
          { objectMode: true, highWaterMark: 4 }), out.stream, { signal })
      } finally {
        index.close()
      }
      for (const line of summary.lines(state.full.bytes)) say(line)
    }
    out.commit()
  } catch (err) {
    out.abort()
    throw err
  }
  return io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK
}
