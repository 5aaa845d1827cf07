// The failures of bt-snap: a snapshot command, a hook, a capture command, a
// snapshot that could not be released. Codes are BT_SNAP_*; all exit 1.
import { BtError, EXIT } from '../errors.js'

/** argv as a person would type it: words with odd characters JSON-quoted. */
export function showCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')
}

/** The last non-empty lines of a command's stderr, joined: enough to say why, never a flood. */
export function lastLines(stderr: string, n = 3): string {
  return stderr.split('\n').map((l) => l.trim()).filter(Boolean).slice(-n).join('; ')
}

/** A zfs/btrfs/lvm/mount command failed or could not be started. */
export class SnapCommandError extends BtError {
  readonly argv: readonly string[]
  readonly stderr: string
  constructor(argv: readonly string[], detail: string, stderr = '', hints: string[] = [], cause?: unknown) {
    const why = lastLines(stderr)
    super('BT_SNAP_COMMAND', EXIT.FAILURE, `command failed: ${showCommand(argv)}: ${detail}${why ? `: ${why}` : ''}`, hints, cause)
    this.argv = argv
    this.stderr = stderr
  }
}

/** The thing to snapshot is not there or is not of the provider's kind. */
export class SnapSourceError extends BtError {
  constructor(message: string, ...hints: string[]) {
    super('BT_SNAP_SOURCE', EXIT.FAILURE, message, hints)
  }
}

/** A --pre, --post or --finally hook failed or ran out of time. */
export class HookError extends BtError {
  constructor(hook: string, command: string, detail: string, timedOut = false) {
    super(timedOut ? 'BT_SNAP_HOOK_TIMEOUT' : 'BT_SNAP_HOOK', EXIT.FAILURE, `--${hook} hook ${JSON.stringify(command)} ${detail}`,
      timedOut ? ['raise --hook-timeout, or find out why the command hangs'] : ['its output is above; run the command by hand to see why'])
  }
}

/** A --capture command failed: what it wrote is not a dump to trust, so the backup fails. */
export class CaptureError extends BtError {
  constructor(name: string, command: string, detail: string) {
    super('BT_SNAP_CAPTURE', EXIT.FAILURE, `--capture ${name}: command ${JSON.stringify(command)} ${detail}`,
      ['its output is above; the stream was not finished, so no reader accepts it'])
  }
}

/** Some of what bt-snap made could not be removed. */
export class ReleaseError extends BtError {
  constructor(what: string[], cause?: unknown) {
    const why = cause instanceof Error ? `: ${cause.message}` : ''
    super('BT_SNAP_RELEASE', EXIT.FAILURE, `could not release ${what.join(', ')}${why}`,
      ['remove it by hand or with "bt-snap --cleanup" and the same provider options, once nothing uses it'], cause)
  }
}
