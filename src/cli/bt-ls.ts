import { EXIT } from '../errors.js'
import { readFrames } from '../format/reader.js'
import { type CliSpec, type Parsed } from './args.js'
import { maxHeader, openInput } from './input.js'
import { type Io } from './io.js'
import { frameJson, frameLine } from './listing.js'
import { UsageError } from '../errors.js'
import { writeLine } from './write.js'

export const spec: CliSpec = {
  name: 'bt-ls',
  summary: 'list the contents of a backtory stream and verify it',
  usage: ['[--json] [FILE]'],
  options: [
    { long: 'json', doc: 'print one JSON object per frame (header, entries, trailer), one per line' },
  ],
  notes: ['Reads standard input when FILE is absent or "-". The listing ends with the verified trailer;',
    'a truncated or corrupt stream exits 4 after listing what came before the damage.'],
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  if (args.length > 1) throw new UsageError('too many arguments', `usage: bt-ls ${spec.usage[0]}`)
  const input = openInput(io, args[0], signal)
  const show = opts.json ? frameJson : frameLine
  for await (const f of readFrames(input, { maxHeader: maxHeader(io) })) {
    await writeLine(io.stdout, show(f))
  }
  return EXIT.OK
}
