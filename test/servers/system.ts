// What the test servers (vsftpd.ts, sshd.ts) share: commands run as root, a
// lock so parallel test files create the test users once, free ports, ids.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, rmdirSync } from 'node:fs'
import { createServer } from 'node:net'

/** Where the test users' homes and passwords live, kept between runs. */
export const STATE = '/var/lib/backtory-test'

export function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`)
  return r.stdout
}

/** Runs `fn` holding the lock directory `lock` (mkdir is atomic), waiting up to 30 s for it. */
export async function withLock<T>(lock: string, fn: () => T): Promise<T> {
  mkdirSync(STATE, { recursive: true, mode: 0o700 })
  chmodSync(STATE, 0o711) // the test users must reach their homes below
  const deadline = Date.now() + 30_000
  for (;;) {
    try {
      mkdirSync(lock)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) throw err
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  try {
    return fn()
  } finally {
    rmdirSync(lock)
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export function uid(name: string): number {
  return Number(run('id', ['-u', name]).trim())
}

export function gid(name: string): number {
  return Number(run('id', ['-g', name]).trim())
}

/**
 * `why` a server test cannot run here, passed through; but when
 * BT_TEST_DISALLOW_SKIP lists `what` (CI sets ftp,sftp,zfs,btrfs), a reason
 * is a failure, not a skip.
 */
export function skipReason(what: string, why: string | undefined): string | undefined {
  if (why && (process.env.BT_TEST_DISALLOW_SKIP ?? '').split(',').includes(what)) {
    throw new Error(`${what} tests cannot run (${why}) and BT_TEST_DISALLOW_SKIP forbids skipping them`)
  }
  return why
}
