// --capture NAME=CMD: a command whose standard output becomes the file NAME at
// the stream's root (a database dump without a temporary file). This is the
// command side; the stream encoding is src/scan/capture.ts.
import { type ShellContext, endGroup, failureOf, spawnShell } from './shell.js'
import { CaptureError } from './errors.js'

/** One --capture, parsed: the file name in the stream and the command line. */
export interface CaptureSpec {
  name: string
  command: string
}

/** The shape src/scan/capture.ts consumes (its `Capture`). */
export interface CommandCapture {
  name: string
  open(): { data: AsyncIterable<Buffer>; done: Promise<void> }
  /** Ends the command's process group if it still runs (the run failed elsewhere). */
  stop(): void
}

/** Why `name` cannot be a captured file's name, or undefined. */
export function badCaptureName(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    return `bad --capture name ${JSON.stringify(name)}: give a plain file name (no "/", not "." or "..")`
  }
  if (name === '.backtory-restore.json') return `--capture name ${JSON.stringify(name)} is reserved for bt-restore's marker`
  return undefined
}

/** Splits NAME=CMD at the first "=". Throws a message (for a UsageError) when it is not one. */
export function parseCapture(arg: string): CaptureSpec {
  const eq = arg.indexOf('=')
  if (eq <= 0 || eq === arg.length - 1) throw new Error(`--capture ${JSON.stringify(arg)} is not NAME=COMMAND`)
  const spec = { name: arg.slice(0, eq), command: arg.slice(eq + 1) }
  const bad = badCaptureName(spec.name)
  if (bad) throw new Error(bad)
  return spec
}

/**
 * A capture that starts `sh -c command` when the stream reaches it: `data` is
 * its stdout, `done` settles once it has exited and rejects (CaptureError) on
 * a non-zero status or a signal. An abort of `signal` ends its process group.
 */
export function commandCapture(spec: CaptureSpec, ctx: ShellContext & { signal: AbortSignal }): CommandCapture {
  let child: ReturnType<typeof spawnShell> | undefined
  const stop = () => {
    if (child) endGroup(child, ctx)
  }
  return {
    name: spec.name,
    stop,
    open() {
      if (child) throw new Error(`capture ${spec.name} opened twice`)
      ctx.signal.throwIfAborted()
      child = spawnShell(spec.command, { ...ctx, env: { ...ctx.env, BT_CAPTURE: spec.name } }, 'pipe')
      const c = child
      ctx.signal.addEventListener('abort', stop, { once: true })
      const done = new Promise<void>((resolve, reject) => {
        c.on('error', (err) => reject(new CaptureError(spec.name, spec.command, `could not start: ${err.message}`)))
        c.on('close', (code, signal) => {
          ctx.signal.removeEventListener('abort', stop)
          const failure = failureOf(code, signal)
          if (failure) reject(new CaptureError(spec.name, spec.command, failure))
          else resolve()
        })
      })
      // The consumer awaits `done` after the data; when the run fails before that, the
      // rejection has nobody to go to and must not crash the process as unhandled.
      done.catch(() => undefined)
      return { data: c.stdout!, done }
    },
  }
}
