// A lost state directory: the store still holds the set's fulls, but the
// host lost the index a differential is made against. The seam for
// rebuilding it from the store with only what the host holds (an index
// object stored beside each full, sealed to a key the host has); until that
// exists, the caller makes a new full and says why.
import { type SetConfig } from './set.js'
import { type StoredBackup } from './catalog.js'

export interface RecoverContext {
  env: NodeJS.ProcessEnv
  signal: AbortSignal
}

/** Rebuilds `cfg.state` from the newest complete full in `stored`; true when the state then holds a confirmed full. */
export async function recoverState(_cfg: SetConfig, _stored: StoredBackup[], _ctx: RecoverContext): Promise<boolean> {
  return false
}
