// What a tool's main() may touch of the process: its streams, environment and
// identity, plus the counted-warning channel that turns into exit 3.
import { type Readable, type Writable } from 'node:stream'
import { showText } from './escape.js'

export interface Io {
  stdin: Readable
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean }
  env: NodeJS.ProcessEnv
  pid: number
  /** Effective uid: 0 means owners can be restored. */
  uid: number
  /** A recoverable problem: printed, counted, and the exit code becomes 3. */
  warn(message: string): void
  /** Worth telling, not a problem. */
  notice(message: string): void
  warnings(): number
}

export function makeIo(name: string, proc: NodeJS.Process, redact: (s: string) => string): Io {
  let count = 0
  return {
    stdin: proc.stdin,
    stdout: proc.stdout,
    stderr: proc.stderr,
    env: proc.env,
    pid: proc.pid,
    uid: typeof proc.geteuid === 'function' ? proc.geteuid() : -1,
    warn(message) {
      count++
      proc.stderr.write(`${name}: warning: ${showText(redact(message))}\n`)
    },
    notice(message) {
      proc.stderr.write(`${name}: ${showText(redact(message))}\n`)
    },
    warnings: () => count,
  }
}

/** `io` for -q/--quiet: notices go nowhere; warnings (counted, exit 3) and errors still print. Cron mails nothing on success. */
export function quietIo(io: Io): Io {
  return { ...io, notice: () => undefined }
}
