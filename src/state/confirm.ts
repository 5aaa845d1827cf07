// bt-put --state: once a full is stored whole, its pending index in the state
// directory becomes current. Only the index of that very full is promoted;
// anything else leaves the state as it is.
import { BtError, EXIT } from '../errors.js'
import { type Lock, StateBusyError, waitLock } from './lock.js'
import { type State, confirmPending, readPending } from './store.js'

/** bt-delta exits as its output ends, so bt-put may find delta.lock still held for a moment. */
const WAIT_MS = 30_000

export interface Stored {
  confirmed: boolean
  /** The full the state awaits instead, if any. */
  pending?: string
}

/**
 * Makes the pending index of full `id` current. `first`, when given, runs
 * with delta.lock held and the pending generation in hand (bt-put stores the
 * index object from it): no bt-delta can replace or remove it meanwhile.
 */
export async function confirmStored(dir: string, id: string, who: { tool: string; pid: number }, signal?: AbortSignal,
  first?: (pending: State) => Promise<void>): Promise<Stored> {
  const before = readPending(dir)
  if (before?.full.id !== id) return { confirmed: false, ...(before ? { pending: before.full.id } : {}) }
  let lock: Lock
  try {
    lock = await waitLock(dir, 'delta.lock', who, WAIT_MS, signal)
  } catch (err) {
    if (!(err instanceof StateBusyError)) throw err
    throw new BtError(err.code, EXIT.FAILURE, `full ${id} is stored, but not confirmed: ${err.message}`,
      [`once that run has ended, confirm it: bt-delta --state ${dir} --confirm ${id} (until then differentials are not made against it)`])
  }
  try {
    const pending = readPending(dir)
    if (first && pending?.full.id === id) await first(pending)
    const r = confirmPending(dir, id, who)
    return { confirmed: 'confirmed' in r || 'already' in r }
  } finally {
    lock.release()
  }
}
