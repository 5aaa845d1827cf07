// Runs an admin's command line through /bin/sh in a process group of its own,
// its stderr (and, for hooks, its stdout) copied to ours, so a timeout or an
// abort can end it together with everything it started.
import { type ChildProcess, spawn } from 'node:child_process'
import { type Writable } from 'node:stream'

export interface ShellContext {
  env: NodeJS.ProcessEnv
  /** Where the command's messages go: our stderr. */
  stderr: Writable
  /** Sends `signal` to process group `pid` (src/cli owns process.kill). */
  killGroup(pid: number, signal: NodeJS.Signals): void
}

/** How long a group gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 5000

/** Spawns `sh -c command`; `stdout: 'stderr'` copies its stdout to our stderr, 'pipe' leaves it to the caller. */
export function spawnShell(command: string, ctx: ShellContext, stdout: 'stderr' | 'pipe'): ChildProcess {
  const child = spawn('/bin/sh', ['-c', command], { env: ctx.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const copy = (b: Buffer) => {
    ctx.stderr.write(b)
  }
  child.stderr!.on('data', copy)
  if (stdout === 'stderr') child.stdout!.on('data', copy)
  return child
}

/** Ends the child's whole group: SIGTERM, then SIGKILL if it is still there after the grace time. */
export function endGroup(child: ChildProcess, ctx: ShellContext): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  const kill = (sig: NodeJS.Signals) => {
    try {
      ctx.killGroup(child.pid!, sig)
    } catch {
      // ESRCH: the group is already gone, which is what we want.
    }
  }
  kill('SIGTERM')
  const t = setTimeout(() => kill('SIGKILL'), KILL_GRACE_MS)
  t.unref()
  child.once('exit', () => clearTimeout(t))
}

/** "exited with status 3", "was killed by SIGTERM", or undefined for success. */
export function failureOf(code: number | null, signal: NodeJS.Signals | null): string | undefined {
  if (signal) return `was killed by ${signal}`
  if (code !== 0) return `exited with status ${code}`
  return undefined
}
