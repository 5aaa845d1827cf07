// One backup of a set at a time: two would race for the state directory and
// the store, and the second would back up nothing new anyway. A flock(2)
// lock (src/state/lock.ts) that the kernel drops when its holder dies,
// however it dies, so a crash never leaves the set locked.
import { BtError, EXIT } from '../errors.js'
import { type Lock, tryLock } from '../state/lock.js'

export function lockRun(dir: string, set: string, pid: number): Lock {
  const l = tryLock(dir, 'backup.lock', { tool: `backtory backup ${set}`, pid })
  if ('holder' in l) {
    throw new BtError('BT_BUSY', EXIT.FAILURE, `set ${JSON.stringify(set)} is being backed up already, by ${l.holder}`,
      ['this run did nothing; the next scheduled run will take over (a lock of a dead run never blocks: it goes with its process)',
        `the lock is ${dir}/backup.lock`])
  }
  return l
}
