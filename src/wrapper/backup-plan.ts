// What the next backup of a set is: the store's listing and the state's
// confirmed full, through the policy (policy.ts). A state that lost its full
// (or never had one stored whole) gets the rebuild seam first, then a full
// with the reason in words.
import { existsSync } from 'node:fs'
import { BtError } from '../errors.js'
import { readPending, readState } from '../state/store.js'
import { listStore, type ListContext, type StoredBackup } from './catalog.js'
import { type CurrentFull, type Decision, decide } from './policy.js'
import { rebuildStages, recoverState } from './recover-state.js'
import { render } from './pipeline.js'
import { type SetConfig } from './set.js'

export interface Plan {
  decision: Decision
  /** The set's complete backups before this run. */
  stored: StoredBackup[]
}

/** The state's confirmed full, or why there is none. */
function current(dir: string): { full?: CurrentFull; why?: string } {
  try {
    const s = readState(dir)
    if (s) return { full: { id: s.full.id, time: s.full.time } }
    const p = readPending(dir)
    return p ? { why: `full ${p.full.id} was never stored whole (its upload did not finish)` } : {}
  } catch (err) {
    if (err instanceof BtError) return { why: err.message }
    throw err
  }
}

/**
 * The store's listing. Without a confirmed full the run makes a full
 * whatever the store holds, so a store it cannot list yet (a directory
 * bt-put will make) does not stop it; a differential needs the listing.
 */
async function listing(set: SetConfig, ctx: ListContext, needed: boolean): Promise<StoredBackup[]> {
  try {
    return await listStore(set.store, set.name, ctx)
  } catch (err) {
    if (needed || !(err instanceof BtError) || err.code !== 'BT_STORE') throw err
    ctx.stderr.write(`backtory backup: ${err.message}; making a full, which bt-put stores whatever the store held\n`)
    return []
  }
}

export async function planBackup(set: SetConfig, ctx: ListContext, opts: { storeMayBeMissing?: boolean; dryRun?: boolean } = {}): Promise<Plan> {
  let c = current(set.state)
  const stored = opts.storeMayBeMissing ? [] : await listing(set, ctx, c.full !== undefined)
  if (!c.full) {
    const fulls = stored.filter((b) => b.kind === 'full' && b.complete)
    const newest = fulls[fulls.length - 1]
    if (newest && opts.dryRun && newest.indexName !== undefined) {
      c.why = `the state ${set.state} holds no confirmed full; a real run first rebuilds it from ${newest.indexName}: ${render(rebuildStages(set, newest as StoredBackup & { indexName: string }))}`
    } else if (newest && !opts.dryRun && await recoverState(set, stored, { env: ctx.env, signal: ctx.signal, stderr: ctx.stderr })) c = current(set.state)
    else if (newest && c.why === undefined) {
      c.why = existsSync(set.state)
        ? `the state ${set.state} holds no confirmed full, though the store holds full ${newest.id} and no index object beside it to rebuild it from`
        : `the state directory ${set.state} is missing, though the store holds full ${newest.id} and no index object beside it to rebuild it from`
    }
  }
  return { decision: decide({ now: new Date(), current: c.full, noCurrentWhy: c.why, stored, policy: set.full }), stored }
}
