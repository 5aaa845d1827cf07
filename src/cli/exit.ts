// The one exit-code table. Every man page's EXIT STATUS is checked against it.
import { BtError, EXIT, type ExitCode, isSystemError } from '../errors.js'

export { EXIT, isSystemError }

export const EXIT_MEANING: Array<[ExitCode, string]> = [
  [EXIT.OK, 'success for the full length of the input'],
  [EXIT.FAILURE, 'operational failure: I/O, permission, full disk, network'],
  [EXIT.USAGE, 'usage error: unknown option, missing or extra argument'],
  [EXIT.PARTIAL, 'partial: finished, but skipped or flagged unreadable, vanished or changing sources'],
  [EXIT.BAD_INPUT, 'invalid input stream: not a backtory stream, unknown version, truncated, corrupt, hostile path'],
  [EXIT.INTERNAL, 'internal error (a bug; a stack trace is printed)'],
  [EXIT.SIGINT, 'interrupted by SIGINT'],
  [EXIT.EPIPE, 'the reader of standard output went away (broken pipe)'],
  [EXIT.SIGTERM, 'terminated by SIGTERM'],
]

export function exitCodeOf(err: unknown): ExitCode {
  if (err instanceof BtError) return err.exit
  if (isEpipe(err)) return EXIT.EPIPE
  if (isSystemError(err)) return EXIT.FAILURE
  return EXIT.INTERNAL
}

export function isEpipe(err: unknown): boolean {
  return err instanceof Error && ((err as NodeJS.ErrnoException).code === 'EPIPE' || (err as NodeJS.ErrnoException).code === 'ERR_STREAM_DESTROYED')
}
