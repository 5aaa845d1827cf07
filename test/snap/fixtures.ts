// Real snapshot back ends for the bt-snap tests: a zfs-fuse daemon with a pool
// on a file, and btrfs on a loop-mounted image, each in a scratch directory of
// its own and torn down (pool destroyed, daemon stopped, image unmounted) by
// the test's teardown, whatever the tests did.
//
// zfs-fuse listens on a fixed socket (/var/run/zfs/zfs_socket, compiled in):
// one daemon per machine. A running one is reused and left running; one we
// started is stopped. Pools are named per process, so runs do not collide.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { type Test } from 'tap'

export function cmd(argv: string[], input?: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input, env: { ...process.env, LC_ALL: 'C' } })
  if (r.error) return { code: null, stdout: '', stderr: r.error.message }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

function ok(argv: string[]): string {
  const r = cmd(argv)
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: exit ${r.code}: ${r.stderr}`)
  return r.stdout
}

const which = (bin: string) => ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((d) => existsSync(`${d}/${bin}`))

/**
 * Why `what` cannot be tested here, or undefined. BT_TEST_DISALLOW_SKIP=zfs,btrfs
 * (as CI sets it) turns a reason into a failure instead of a skip.
 */
export function missing(what: 'zfs' | 'btrfs', t?: Test): string | false {
  const need = what === 'zfs' ? ['zfs-fuse', 'zfs', 'zpool'] : ['mkfs.btrfs', 'btrfs', 'losetup']
  let why: string | undefined
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) why = 'needs root'
  else if (!need.every(which)) why = `${need.join(', ')} not installed (apt-get install ${what === 'zfs' ? 'zfs-fuse' : 'btrfs-progs'})`
  else if (what === 'zfs' && !existsSync('/dev/fuse')) why = 'no /dev/fuse'
  if (why && (process.env.BT_TEST_DISALLOW_SKIP ?? '').split(',').includes(what)) {
    t?.fail(`${what} tests cannot run (${why}) and BT_TEST_DISALLOW_SKIP forbids skipping them`)
    return false
  }
  return why ?? false
}

/** A scratch directory outside the repository (mounts must not end up under tap's fixtures). */
export function scratch(t: Test, label: string): string {
  const dir = mkdtempSync(`${tmpdir()}/bt-snap-test-${label}-`)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

export interface Pool {
  pool: string
  /** Where the pool's root file system is mounted. */
  mnt: string
}

/** Starts zfs-fuse (unless one runs) and creates a pool on a file in `dir`; teardown undoes both. */
export function zfsPool(t: Test, dir: string): Pool {
  let started = false
  if (cmd(['zpool', 'list']).code !== 0) {
    // -x: extended attributes, which the test tree has.
    ok(['zfs-fuse', '--pidfile', `${dir}/zfs-fuse.pid`, '--no-kstat-mount', '-x'])
    started = true
    for (let i = 0; i < 100 && cmd(['zpool', 'list']).code !== 0; i++) sleep(100)
  }
  const pidFile = `${dir}/zfs-fuse.pid`
  const pool = `bt${process.pid}`
  ok(['truncate', '-s', '512M', `${dir}/pool.img`])
  ok(['zpool', 'create', '-o', 'cachefile=none', '-m', `${dir}/mnt`, pool, `${dir}/pool.img`])
  t.teardown(() => {
    for (let i = 0; i < 20; i++) {
      const r = cmd(['zpool', 'destroy', '-f', pool])
      if (r.code === 0 || /no such pool/.test(r.stderr)) break
      sleep(250)
    }
    if (started && existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim())
      try {
        process.kill(pid, 'SIGTERM')
        for (let i = 0; i < 100 && existsSync(`/proc/${pid}`) && !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8')); i++) sleep(100)
      } catch {
        // Already gone.
      }
    }
  })
  return { pool, mnt: `${dir}/mnt` }
}

/** A btrfs file system on a loop-mounted sparse image in `dir`; teardown unmounts it. */
export function btrfsMount(t: Test, dir: string): string {
  const mnt = `${dir}/mnt`
  mkdirSync(mnt)
  ok(['truncate', '-s', '512M', `${dir}/btrfs.img`])
  ok(['mkfs.btrfs', '-q', `${dir}/btrfs.img`])
  ok(['mount', '-o', 'loop', `${dir}/btrfs.img`, mnt])
  t.teardown(() => {
    for (let i = 0; i < 20 && cmd(['umount', mnt]).code !== 0; i++) sleep(250)
  })
  return mnt
}

/** Every trace of a snapshot of set `set`: mounts, temporary mount points (ZFS datasets and btrfs subvolumes are checked by the callers). */
export function traces(set: string): string[] {
  const mark = `backtory-${set}-`
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => l.includes(mark)).map((l) => `mount: ${l}`)
  const dirs = readdirSync(tmpdir()).filter((n) => n.startsWith(mark)).map((n) => `dir: ${tmpdir()}/${n}`)
  return [...mounts, ...dirs]
}

export interface Held {
  child: ChildProcess
  stderr(): string
  /** Lets the output flow again and waits for the exit code. */
  finish(): Promise<number | null>
}

/**
 * Starts bin/bt-snap.js with `args` and holds it in the middle of its scan:
 * its --post hook touches `marker`, and nobody reads its stdout, so once the
 * pipe is full it waits there, with the snapshot taken.
 */
export async function startHeld(args: string[], marker: string): Promise<Held> {
  const child = spawn(process.execPath, [`${process.cwd()}/bin/bt-snap.js`, ...args, '--post', `touch "${marker}"`],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (b: Buffer) => (stderr += b))
  child.stdout!.pause()
  for (let i = 0; i < 100 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50))
  await new Promise((r) => setTimeout(r, 300))
  return {
    child,
    stderr: () => stderr,
    finish: () => {
      child.stdout!.resume()
      return new Promise((r) => child.on('close', (c: number | null) => r(c)))
    },
  }
}
