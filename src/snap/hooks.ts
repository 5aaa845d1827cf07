// --pre, --post and --finally: the admin's actions around the snapshot, run
// through /bin/sh with the BT_* facts in their environment, their output on
// our stderr, and a timeout after which their process group is killed.
import { type ShellContext, endGroup, failureOf, spawnShell } from './shell.js'
import { HookError } from './errors.js'

export type HookName = 'pre' | 'post' | 'finally'

export interface HookOptions extends ShellContext {
  /** 0: no limit. */
  timeoutMs: number
  /** Ends the hook early (the run was interrupted); --post and --finally are not given one. */
  signal?: AbortSignal
}

export function runHook(hook: HookName, command: string, o: HookOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnShell(command, { ...o, env: { ...o.env, BT_HOOK: hook } }, 'stderr')
    let timedOut = false
    const timer = o.timeoutMs > 0 ? setTimeout(() => {
      timedOut = true
      endGroup(child, o)
    }, o.timeoutMs) : undefined
    const onAbort = () => endGroup(child, o)
    o.signal?.addEventListener('abort', onAbort, { once: true })
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(new HookError(hook, command, `could not start: ${err.message}`))
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      o.signal?.removeEventListener('abort', onAbort)
      // Output still in the pipes is copied for a moment; a daemon the hook left running may hold them open forever.
      const t = setTimeout(() => {
        child.stdout?.destroy()
        child.stderr?.destroy()
      }, 200)
      t.unref()
      if (timedOut) {
        reject(new HookError(hook, command, `did not finish within ${o.timeoutMs / 1000} s and was killed`, true))
        return
      }
      if (o.signal?.aborted) {
        reject(o.signal.reason)
        return
      }
      const failure = failureOf(code, signal)
      if (failure) reject(new HookError(hook, command, failure))
      else resolve()
    })
  })
}
