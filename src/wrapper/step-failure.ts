// A pipeline that failed, as the wrapper reports it: the stage to blame and
// its status stand for the whole run, as the filters' own exit codes do.
import { BtError, EXIT, type ExitCode } from '../errors.js'
import { type PipelineResult } from './pipeline.js'

const KNOWN = new Set<number>(Object.values(EXIT))

/** The error for a failed step: what it was doing, which tool failed, its exit status kept. */
export function stepFailure(r: PipelineResult, doing: string, hints: string[] = []): BtError {
  const code = (KNOWN.has(r.code) && r.code !== EXIT.OK ? r.code : EXIT.FAILURE) as ExitCode
  return new BtError('BT_STEP', code, `${doing} failed: ${r.failed ?? 'a stage'} exited ${r.code}`,
    [...hints, 'the message of the tool that failed is above'])
}
