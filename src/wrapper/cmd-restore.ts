// backtory restore: placeholder until the subcommand is built; see backtory(1).
import { BtError, EXIT } from '../errors.js'
import { type CliSpec, type Parsed } from '../cli/args.js'
import { type Io } from '../cli/io.js'

export const spec: CliSpec = { name: 'backtory restore', summary: 'restore', usage: ['SET'], options: [] }

export async function main(_p: Parsed, _io: Io, _signal: AbortSignal): Promise<number> {
  throw new BtError('BT_USAGE', EXIT.USAGE, 'backtory restore is not built yet')
}
