// Runs the snapshot tools (zfs, btrfs, lvcreate, mount, ...) with argument
// arrays, never through a shell. A Runner is injectable: the LVM contract test
// records the command sequence instead of running it.
import { spawn } from 'node:child_process'
import { SnapCommandError } from './errors.js'

export interface CommandResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs argv[0] with argv[1..]; resolves with its exit code (non-zero too), rejects only when it cannot start. */
export type Runner = (argv: readonly string[]) => Promise<CommandResult>

const missingHints: Record<string, string> = {
  zfs: 'install OpenZFS (zfsutils-linux) or zfs-fuse, and start it',
  zpool: 'install OpenZFS (zfsutils-linux) or zfs-fuse, and start it',
  btrfs: 'install btrfs-progs',
  lvcreate: 'install lvm2', lvs: 'install lvm2', lvremove: 'install lvm2',
  blkid: 'install util-linux', mount: 'install mount', umount: 'install mount',
}

/** The real runner: stdin closed, stdout and stderr collected, environment passed as given. */
export function systemRunner(env: NodeJS.ProcessEnv): Runner {
  return (argv) => new Promise((resolve, reject) => {
    // LC_ALL=C: messages we match on ("dataset is busy") stay in English.
    const child = spawn(argv[0]!, argv.slice(1), { env: { ...env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', (e: NodeJS.ErrnoException) => {
      const hint = missingHints[argv[0]!]
      reject(new SnapCommandError(argv, e.code === 'ENOENT' ? 'not found' : e.message, '', hint && e.code === 'ENOENT' ? [hint] : [], e))
    })
    child.on('close', (code, signal) => resolve({
      code: code ?? 128 + (signal ? 15 : 0),
      stdout: Buffer.concat(out).toString(),
      stderr: Buffer.concat(err).toString() + (signal ? `\nkilled by ${signal}` : ''),
    }))
  })
}

export interface MustOptions {
  hints?: string[]
  /** Retry while stderr matches (a busy dataset that a moment ago was in use), up to `retries` more times. */
  retryOn?: RegExp
  retries?: number
  delayMs?: number
}

/** Runs argv and returns its stdout; a non-zero exit throws a SnapCommandError with its stderr. */
export async function must(run: Runner, argv: readonly string[], o: MustOptions = {}): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const r = await run(argv)
    if (r.code === 0) return r.stdout
    if (o.retryOn && o.retryOn.test(r.stderr) && attempt < (o.retries ?? 5)) {
      await new Promise((res) => setTimeout(res, (o.delayMs ?? 200) * (attempt + 1)))
      continue
    }
    throw new SnapCommandError(argv, `exit status ${r.code}`, r.stderr, o.hints ?? [])
  }
}

/** Non-empty lines of a command's output, split on tabs (zfs -H) or runs of blanks (lvs). */
export function rows(stdout: string, sep: RegExp | string = '\t'): string[][] {
  return stdout.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => l.split(sep).map((f) => f.trim()))
}
