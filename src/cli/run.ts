// The shared launcher of every bt-* tool: signals, exit codes, error printing,
// EPIPE, and a guard against exiting "successfully" before main() settled.
import { BtError, EXIT, UsageError, fromSystemError } from '../errors.js'
import { sys } from '../sys/native.js'
import { redactUrl } from '../transport/url.js'
import { VERSION } from '../version.js'
import { type CliSpec, helpText, parseArgs, type Parsed } from './args.js'
import { showText } from './escape.js'
import { exitCodeOf, isEpipe, isSystemError } from './exit.js'
import { type Io, makeIo } from './io.js'

export type Main = (parsed: Parsed, io: Io, signal: AbortSignal) => Promise<number>

/** Hides passwords in URLs ("ftp://user:secret@host" -> "ftp://user:***@host"). */
export const redact = redactUrl

export function run(spec: CliSpec, main: Main, proc: NodeJS.Process): void {
  const name = spec.name
  const io = makeIo(name, proc, redact)
  const ac = new AbortController()
  let signalCode: number | undefined
  let settled = false
  // One line each, whatever the names in it hold (showText).
  const say = (kind: string, msg: string) => proc.stderr.write(`${name}: ${kind}: ${showText(redact(msg))}\n`)

  const onSignal = (sig: NodeJS.Signals) => {
    if (signalCode !== undefined) return
    signalCode = sig === 'SIGINT' ? EXIT.SIGINT : EXIT.SIGTERM
    ac.abort(new BtError('BT_SIGNAL', signalCode as 130 | 143, `interrupted by ${sig}`))
  }
  // A pipeline's stages overlap only when the pipe between them holds more than
  // Linux's default 64 KiB; 1 MiB is what an unprivileged process may ask for.
  for (const fd of [0, 1]) {
    try {
      sys().pipeSize(fd, 1 << 20)
    } catch {
      // No native helper yet (its own error comes where it is needed): pipes stay as they are.
    }
  }
  proc.on('SIGINT', onSignal)
  proc.on('SIGTERM', onSignal)

  const fail = (err: unknown) => {
    let code = signalCode ?? exitCodeOf(err)
    if (signalCode !== undefined) {
      say('error', `interrupted by ${signalCode === EXIT.SIGINT ? 'SIGINT' : 'SIGTERM'}`)
    } else if (isEpipe(err)) {
      // The reader went away (`… | head`): the Unix manner is a quiet 128 + SIGPIPE.
      code = EXIT.EPIPE
      if (proc.env.BT_DEBUG === '1') say('debug', 'output closed early (downstream exited)')
    } else if (err instanceof BtError) {
      say('error', err.message)
      for (const h of err.hints) say('hint', h)
      if (proc.env.BT_DEBUG === '1' && err.stack) proc.stderr.write(`${redact(err.stack)}\n`)
    } else if (isSystemError(err)) {
      // Never libuv's raw text: the path it concerns, plain words and a remedy.
      const e = fromSystemError(err, err === stdoutError ? 'standard output' : undefined)
      say('error', e.message)
      for (const h of e.hints) say('hint', h)
      if (proc.env.BT_DEBUG === '1' && err.stack) proc.stderr.write(`${redact(err.stack)}\n`)
    } else {
      say('error', `internal error: ${err instanceof Error ? err.message : String(err)}`)
      proc.stderr.write(`${redact(err instanceof Error && err.stack ? err.stack : String(err))}\n`)
      say('hint', 'this is a bug in backtory; please report it with the trace above')
    }
    return code
  }

  // Writes to a closed pipe surface here when no pipeline owns stdout.
  let stdoutError: Error | undefined
  proc.stdout.on('error', (err) => {
    stdoutError = err
    if (!settled) ac.abort(err)
  })
  // A stray error ends the run on purpose: its code stands, not the "exited before finished" guard's 70.
  const stray = (err: unknown) => {
    const first = !settled
    settled = true
    if (first) proc.exitCode = fail(ac.signal.aborted && isEpipe(ac.signal.reason) ? ac.signal.reason : err)
    proc.exit()
  }
  proc.on('uncaughtException', stray)
  proc.on('unhandledRejection', stray)
  proc.on('exit', () => {
    if (!settled) {
      say('error', 'internal error: exited before the work was finished')
      proc.exitCode = EXIT.INTERNAL
    }
  })

  const go = async (): Promise<number> => {
    const parsed = parseArgs(proc.argv.slice(2), spec)
    if (parsed.opts.help) {
      proc.stdout.write(helpText(spec))
      return EXIT.OK
    }
    if (parsed.opts.version) {
      proc.stdout.write(`${name} (backtory) ${VERSION}\n`)
      return EXIT.OK
    }
    const code = await main(parsed, io, ac.signal)
    if (signalCode !== undefined) throw ac.signal.reason
    return code
  }

  go().then(
    (code) => {
      settled = true
      proc.exitCode = code
    },
    (err: unknown) => {
      settled = true
      // An abort's own AbortError says nothing: the reason (a write error on stdout, /dev/full's ENOSPC) does.
      const aborted = ac.signal.aborted && !(err instanceof UsageError)
      const reason = aborted && (isEpipe(ac.signal.reason) || (err instanceof Error && err.name === 'AbortError')) ? ac.signal.reason : err
      proc.exitCode = fail(reason)
    },
  ).finally(() => {
    proc.stdin.destroy()
    // Should a handle keep the loop alive after main settled, do not hang a pipeline.
    setTimeout(() => proc.exit(), 2000).unref()
  })
}
