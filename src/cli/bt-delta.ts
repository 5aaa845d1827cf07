import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { BtError, EXIT, UsageError } from '../errors.js'
import { readFrames } from '../format/reader.js'
import { tmpdir } from 'node:os'
import { diffStream } from '../diff/differential.js'
import { indexFull } from '../diff/index-full.js'
import { removeStaleSpools } from '../diff/spool.js'
import { Summary } from '../diff/summary.js'
import { lockState } from '../state/lock.js'
import { type State, confirmPending, openIndex, readPending, readState } from '../state/store.js'
import { type CliSpec, type Parsed } from './args.js'
import { maxHeader, openInput } from './input.js'
import { type Io } from './io.js'
import { openOutput } from './output.js'
import { tee } from './tee.js'
import { writeLine } from './write.js'
import { loadPrivate, loadPublic } from './keyfile.js'
import { requireStateDir } from '../state/dir.js'
import { rebuildFromIndex } from '../state/index-seal.js'
import { processAlive as alive } from './alive.js'

export const spec: CliSpec = {
  name: 'bt-delta',
  summary: 'record a full backup\'s index, or turn a fresh scan into a differential against it',
  usage: ['--state DIR --full', '--state DIR [--checksum]', '--state DIR --auto', '--state DIR --confirm [ID]', '--state DIR --rebuild-from FILE',
    '--state DIR --rebuild-index FILE --index-key KEY [--verify PUBKEY]'],
  options: [
    { long: 'auto', doc: 'make a full when DIR holds no confirmed full\'s index, else a differential' },
    { long: 'checksum', doc: 'compare content hashes instead of trusting size, mtime, ctime and inode' },
    { long: 'confirm', doc: 'mark the pending full (ID, if given) as stored whole; prints its id' },
    { long: 'full', doc: 'pass the stream through unchanged and record its index in DIR, pending until stored' },
    { long: 'index-key', arg: 'KEY', doc: 'with --rebuild-index: the host\'s private signing key, which sealed and signed the index object' },
    { long: 'key-passphrase-file', arg: 'FILE', doc: 'read the passphrase of an encrypted --index-key from FILE' },
    { long: 'output', short: 'o', arg: 'FILE', doc: 'write to FILE, which appears only on success ("-": stdout)' },
    { long: 'quiet', short: 'q', doc: 'do not print the summary on standard error' },
    { long: 'rebuild-from', arg: 'FILE', doc: 'rebuild DIR\'s index from a stored full stream ("-": stdin); writes no stream' },
    { long: 'rebuild-index', arg: 'FILE', doc: 'rebuild DIR from a full\'s sealed index object ("-": stdin), with the host key only; writes no stream' },
    { long: 'state', short: 's', arg: 'DIR', doc: 'the state directory shared with bt-scan --state (default: $BT_STATE)' },
    { long: 'verify', arg: 'PUBKEY', repeat: true, doc: 'with --rebuild-index: the signer to trust (default: the public half of --index-key)' },
  ],
  notes: ['A differential holds the changes since the full whose index DIR holds, so any point in time',
    'restores from two archives: that full, then one differential. A new full\'s index stays pending',
    'until bt-put --state DIR has stored the full whole (or bt-delta --confirm): no differential is',
    'made against a full that the store may not hold.'],
}

const WHO = (io: Io) => ({ tool: 'bt-delta', pid: io.pid })

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  const confirm = Boolean(opts.confirm)
  if (args.length > (confirm ? 1 : 0)) {
    throw new UsageError(confirm ? '--confirm takes at most one full id' : 'bt-delta takes no arguments', 'it reads a stream on stdin; see bt-delta --help')
  }
  const dir = (opts.state as string | undefined) ?? io.env.BT_STATE
  if (!dir) throw new UsageError('no state directory', 'give --state DIR or set BT_STATE')
  const modes = ['full', 'auto', 'rebuild-from', 'rebuild-index', 'confirm'].filter((k) => opts[k] !== undefined && opts[k] !== false)
  if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} exclude each other`)
  if (opts.checksum && modes.length > 0 && !opts.auto) throw new UsageError('--checksum applies to differentials only')
  const rebuildIndex = opts['rebuild-index'] as string | undefined
  if ((confirm || opts['rebuild-from'] !== undefined || rebuildIndex !== undefined) && opts.output !== undefined) {
    throw new UsageError(`--${modes[0]} writes no stream, so -o has nothing to write`)
  }
  const keyed = ['index-key', 'key-passphrase-file'].filter((k) => opts[k] !== undefined)
  if (rebuildIndex === undefined && (keyed.length || (opts.verify as string[]).length)) {
    throw new UsageError(`--${keyed[0] ?? 'verify'} applies to --rebuild-index only`)
  }
  if (rebuildIndex !== undefined && opts['index-key'] === undefined) {
    throw new UsageError('--rebuild-index needs the host key that sealed the index object', 'give --index-key KEY (the key bt-seal --sign and bt-put --index-key use)')
  }
  // Only a first full and the rebuilds may make the directory: anything else in a missing one is a mistyped path.
  if (!opts.full && opts['rebuild-from'] === undefined && rebuildIndex === undefined) requireStateDir(dir)
  const say = (m: string) => {
    if (!opts.quiet) io.notice(m)
  }
  // Held to the end: a second bt-delta, or bt-put promoting a full, waits its turn or is refused.
  const lock = lockState(dir, 'delta.lock', WHO(io))
  try {
    if (confirm) return await confirmFull(dir, args[0], io, say)
    const rebuild = opts['rebuild-from'] as string | undefined
    if (rebuild !== undefined) {
      let n = 0
      const input = openInput(io, rebuild, signal)
      input.on('data', (c: Buffer) => (n += c.length))
      const { gen, info } = await indexFull(readFrames(input, { maxHeader: maxHeader(io) }), dir)
      const full = gen.commit({ id: info.id, bytes: n, time: info.time }, 'current', WHO(io))
      say(`recorded the index of full ${full.id}: ${full.entries} entries, digest ${full.index.slice(0, 16)}…`)
      return EXIT.OK
    }
    if (rebuildIndex !== undefined) {
      const key = loadPrivate(opts['index-key'] as string, opts['key-passphrase-file'] as string | undefined)
      const { full, header } = await rebuildFromIndex(openInput(io, rebuildIndex, signal), dir, {
        key, verify: (opts.verify as string[]).map(loadPublic), who: WHO(io), maxHeader: maxHeader(io),
      })
      say(`rebuilt the index of full ${full.id} (set ${header.set}, made ${full.time}) from its index object: ${full.entries} entries, ` +
        `digest ${full.index.slice(0, 16)}…; differentials are made against it`)
      return EXIT.OK
    }
    const state = readState(dir)
    const pending = readPending(dir)
    if (opts.full || (opts.auto && !state)) {
      if (opts.auto) {
        say(pending ? `no stored full confirmed in ${JSON.stringify(dir)} (full ${pending.full.id} was never confirmed stored): making a full`
          : `no index in ${JSON.stringify(dir)} yet: making a full`)
      }
      return await makeFull(dir, opts, io, signal, say)
    }
    if (!state) {
      if (pending) {
        throw new BtError('BT_UNCONFIRMED', EXIT.FAILURE, `the only index in ${JSON.stringify(dir)} is of full ${pending.full.id}, which no store has confirmed holding`,
          [`store that full with bt-put --state ${dir} URL, or if it is stored whole already, confirm it: bt-delta --state ${dir} --confirm ${pending.full.id}`,
            'or make a full again with --auto'])
      }
      throw new BtError('BT_NO_INDEX', EXIT.FAILURE, `${JSON.stringify(dir)} holds no full index`,
        ['make a full first (bt-delta --full, then bt-put --state), use --auto, or rebuild the index with --rebuild-from FULL'])
    }
    if (opts.auto && pending) say(`full ${pending.full.id} was never confirmed stored: making a differential against the stored full ${state.full.id}`)
    return await makeDiff(state, opts, io, signal, say)
  } finally {
    lock.release()
  }
}

/** bt-delta --full, or --auto without a confirmed full: the stream passes through, its index becomes pending. */
async function makeFull(dir: string, opts: Parsed['opts'], io: Io, signal: AbortSignal, say: (m: string) => void): Promise<number> {
  const out = openOutput(io, opts.output as string | undefined)
  try {
    const t = tee(openInput(io, undefined, signal), out.stream)
    const { gen, info } = await indexFull(readFrames(t.source, { maxHeader: maxHeader(io) }), dir)
    // Pending before the output ends: bt-put --state may look for it as soon as its input ends.
    let full
    try {
      full = gen.commit({ id: info.id, bytes: t.bytes(), time: info.time }, 'pending', WHO(io))
    } catch (err) {
      gen.abort()
      throw err
    }
    try {
      await t.end()
      out.commit()
    } catch (err) {
      gen.discard()
      throw err
    }
    say(`recorded the index of full ${full.id}: ${full.entries} entries, digest ${full.index.slice(0, 16)}…; ` +
      'differentials are made against it once bt-put --state has stored it (or bt-delta --confirm)')
  } catch (err) {
    out.abort()
    throw err
  }
  return io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK
}

async function makeDiff(state: State, opts: Parsed['opts'], io: Io, signal: AbortSignal, say: (m: string) => void): Promise<number> {
  const tmp = io.env.TMPDIR || tmpdir()
  for (const p of removeStaleSpools(tmp, io.uid, alive)) say(`removed ${JSON.stringify(p)}, the spool of a run that was killed`)
  const out = openOutput(io, opts.output as string | undefined)
  try {
    const index = openIndex(state)
    const summary = new Summary()
    try {
      const frames = readFrames(openInput(io, undefined, signal), { maxHeader: maxHeader(io) })
      await pipeline(Readable.from(diffStream(frames, { state, index, checksum: Boolean(opts.checksum), summary, tmpdir: tmp, pid: io.pid }),
        { objectMode: true, highWaterMark: 4 }), out.stream, { signal })
    } finally {
      index.close()
    }
    for (const line of summary.lines(state.full.bytes)) say(line)
    out.commit()
  } catch (err) {
    out.abort()
    throw err
  }
  return io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK
}


/** bt-delta --confirm [ID]: the pending full is stored whole (bt-put without --state, a copy by hand). */
async function confirmFull(dir: string, id: string | undefined, io: Io, say: (m: string) => void): Promise<number> {
  const r = confirmPending(dir, id, WHO(io))
  if ('confirmed' in r) {
    say(`confirmed full ${r.confirmed.full.id} (${r.confirmed.full.entries} entries, made ${r.confirmed.full.time}): differentials are now made against it`)
    await writeLine(io.stdout, r.confirmed.full.id)
    return EXIT.OK
  }
  if ('already' in r) {
    say(`full ${r.already.full.id} is confirmed already; nothing awaits confirmation`)
    await writeLine(io.stdout, r.already.full.id)
    return EXIT.OK
  }
  const awaits = r.pending ? `it awaits full ${r.pending}` : 'no full awaits confirmation there'
  throw new BtError('BT_NOT_PENDING', EXIT.FAILURE, `cannot confirm ${id ? `full ${id}` : 'a full'} in ${JSON.stringify(dir)}: ${awaits}`,
    [r.pending ? `give that id, once that full is stored whole: bt-delta --state ${dir} --confirm ${r.pending}` :
      'make a full with bt-delta --full (or --auto), or rebuild the index of a stored one with --rebuild-from FULL'])
}
