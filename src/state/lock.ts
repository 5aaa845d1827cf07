// The state directory's locks. bt-scan --state and bt-delta --state run at
// the same time in one pipeline on one directory, so one lock for both would
// deadlock it: a scan holds scan.lock, bt-delta (and bt-put --state while it
// promotes a full) delta.lock. A second run of either is refused at once.
// They are flock(2) locks, which the kernel drops when their holder exits,
// however it dies: a lock file left by a dead run never blocks. Its content
// (who, pid, since when) only names the holder in the refusal.
import { closeSync, constants, ftruncateSync, openSync, readFileSync } from 'node:fs'
import { BtError, EXIT, IoError, isErrno } from '../errors.js'
import { mkdirs } from '../sys/mkdirs.js'
import { sys } from '../sys/native.js'
import { stateIoError } from './errors.js'
import { writeAll } from '../sys/io.js'

export type LockName = 'scan.lock' | 'delta.lock' | 'backup.lock'

export interface Lock {
  release(): void
}

export class StateBusyError extends BtError {
  constructor(dir: string, holder: string) {
    super('BT_STATE_BUSY', EXIT.FAILURE, `the state directory ${JSON.stringify(dir)} is in use by ${holder}`,
      ['wait for that run to end and run again; two runs on one state directory would mix their indexes'])
  }
}

// libuv opens every file close-on-exec: hooks and capture commands bt-snap runs never inherit a lock.
function open(path: string): number {
  try {
    return openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600)
  } catch (err) {
    // A state directory someone else may write: its lock can still be taken through a read-only open.
    if (!isErrno(err, 'EACCES', 'EROFS')) throw new IoError(`cannot lock the state directory: ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
    try {
      return openSync(path, constants.O_RDONLY)
    } catch {
      throw new IoError(`cannot lock the state directory: ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
    }
  }
}

/** Takes `name` in `dir` when free; otherwise returns who holds it. */
export function tryLock(dir: string, name: LockName, who: { tool: string; pid: number }): Lock | { holder: string } {
  try {
    mkdirs(dir, 0o700)
  } catch (err) {
    throw stateIoError('write', dir, dir, err)
  }
  const path = `${dir}/${name}`
  const fd = open(path)
  let taken: boolean
  try {
    const native = sys()
    if (typeof native.tryLock !== 'function') {
      throw new BtError('BT_NATIVE', EXIT.FAILURE, 'the native helper is older than this backtory: it cannot lock the state directory',
        ['run "npm rebuild" (or "npm ci") in the backtory directory'])
    }
    taken = native.tryLock(fd)
  } catch (err) {
    closeSync(fd)
    throw err instanceof BtError ? err : new IoError(`cannot lock the state directory: ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
  }
  if (!taken) {
    closeSync(fd)
    let text = ''
    try {
      text = readFileSync(path, 'utf8').trim()
    } catch {
      // Unreadable: the refusal names no holder, it still refuses.
    }
    return { holder: text || 'another run' }
  }
  try {
    ftruncateSync(fd, 0)
    writeAll(fd, Buffer.from(`${who.tool} (pid ${who.pid}, started ${new Date().toISOString()})\n`), 0, undefined, 0)
  } catch {
    // A read-only lock file: the lock holds, the holder just goes unnamed.
  }
  let held = true
  return {
    release: () => {
      if (held) closeSync(fd)
      held = false
    },
  }
}

/** Takes `name` or fails with the holder's name. */
export function lockState(dir: string, name: LockName, who: { tool: string; pid: number }): Lock {
  const l = tryLock(dir, name, who)
  if ('holder' in l) throw new StateBusyError(dir, l.holder)
  return l
}

/** Waits up to `ms` for `name`: the pipeline's bt-delta is exiting as bt-put finishes. */
export async function waitLock(dir: string, name: LockName, who: { tool: string; pid: number }, ms: number, signal?: AbortSignal): Promise<Lock> {
  const until = Date.now() + ms
  for (;;) {
    const l = tryLock(dir, name, who)
    if (!('holder' in l)) return l
    if (Date.now() >= until || signal?.aborted) throw new StateBusyError(dir, l.holder)
    await new Promise((r) => setTimeout(r, 100))
  }
}
