import { EXIT } from '../errors.js'
import { readFrames } from '../format/reader.js'
import { settled } from '../format/run.js'
import { type CliSpec, type Parsed } from './args.js'
import { maxHeader, openInput } from './input.js'
import { type Io } from './io.js'
import { frameJson, frameLine } from './listing.js'
import { UsageError } from '../errors.js'
import { LineBatch } from './write.js'
import { remoteOptions } from './remote.js'
import { listRemote } from './remote-ls.js'
import { isUrl } from '../transport/url.js'
import { statSync } from 'node:fs'

export const spec: CliSpec = {
  name: 'bt-ls',
  summary: 'list the contents of a backtory stream and verify it, or the backups stored under a URL',
  usage: ['[--json] [FILE]', '[--json] [--all] [--headers] [--verify PUBKEY] [OPTIONS] URL|DIR'],
  options: [
    { long: 'all', doc: 'with URL: also list incomplete backups and upload temporaries' },
    { long: 'headers', doc: 'with URL: also read each backup\'s sealed header and check it against the name' },
    { long: 'verify', arg: 'PUBKEY', repeat: true, doc: 'with URL: check each header\'s signature with the host\'s public key (implies --headers)' },
    { long: 'json', doc: 'print one JSON object per frame (header, entries, trailer), or per backup, one per line' },
    ...remoteOptions,
  ].sort((a, b) => a.long.localeCompare(b.long)),
  notes: ['Reads standard input when FILE is absent or "-". The listing ends with the verified trailer;',
    'a truncated or corrupt stream exits 4 after listing what came before the damage.',
  'With a URL (file://, ftp://, ftps://, sftp://, s3://) or a directory: the backups stored there, from their',
  'names alone (no key needed): time, set, kind, id, base, size, volumes, completeness, name;',
  'for s3:// also each backup\'s Object Lock (locked-until=DATE(MODE) or unlocked) before the name.'],
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  if (args.length > 1) throw new UsageError('too many arguments', `usage: bt-ls ${spec.usage[0]}`)
  if (args[0] !== undefined && (isUrl(args[0]) || isDirectory(args[0]))) {
    await listRemote(args[0], opts, io, signal)
    return EXIT.OK
  }
  const input = openInput(io, args[0], signal)
  const show = opts.json ? frameJson : frameLine
  const lines = new LineBatch(io.stdout)
  try {
    for await (const f of readFrames(input, { maxHeader: maxHeader(io) })) {
      const f2 = f.kind === 'entry' && f.meta.capture ? await settled(f) : f // a capture's line waits for its size
      const wait = lines.add(show(f2))
      if (wait) await wait
    }
  } catch (err) {
    // What came before the damage is listed all the same.
    await lines.flush().catch(() => undefined)
    throw err
  }
  await lines.flush()
  return EXIT.OK
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}
