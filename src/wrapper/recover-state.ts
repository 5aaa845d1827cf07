// A lost state directory: the store still holds the set's fulls, but the host
// lost the index a differential is made against. bt-put --index-key stored
// each full's index beside it, sealed with a passphrase derived from the
// host's signing key and signed by it (bt-put(1), "Index objects"), so the
// host rebuilds its state with what it holds — never the admin's key:
//   bt-get URL/INDEX | bt-delta --state S --rebuild-index - --index-key host.key --verify host.pub
// When the newest full has no index object (stored by an older backtory, or
// its upload failed), the caller makes a new full and says why.
import { type Writable } from 'node:stream'
import { EXIT } from '../errors.js'
import { type StoredBackup } from './catalog.js'
import { runPipeline, type Stage } from './pipeline.js'
import { type SetConfig } from './set.js'
import { storeArgs } from './store-args.js'

export interface RecoverContext {
  env: NodeJS.ProcessEnv
  signal: AbortSignal
  stderr: Writable
}

/** The pipeline that rebuilds `cfg.state` from `full`'s index object. */
export function rebuildStages(cfg: SetConfig, full: StoredBackup & { indexName: string }): Stage[] {
  return [
    { tool: 'bt-get', args: [...storeArgs(cfg.store), `${cfg.store.url.replace(/\/?$/, '/')}${full.indexName}`] },
    { tool: 'bt-delta', args: ['-q', '--state', cfg.state, '--rebuild-index', '-', '--index-key', cfg.signKey, '--verify', cfg.verifyKey] },
  ]
}

/**
 * Rebuilds `cfg.state` from the index object of the newest complete full in
 * `stored`; true when the state then holds that full, confirmed.
 */
export async function recoverState(cfg: SetConfig, stored: StoredBackup[], ctx: RecoverContext): Promise<boolean> {
  const fulls = stored.filter((b) => b.kind === 'full' && b.complete)
  const newest = fulls[fulls.length - 1]
  if (newest?.indexName === undefined) return false
  const r = await runPipeline(rebuildStages(cfg, newest as StoredBackup & { indexName: string }), { env: ctx.env, stderr: ctx.stderr, signal: ctx.signal, stdout: 'ignore' })
  if (r.code !== EXIT.OK) {
    ctx.stderr.write(`backtory backup: could not rebuild the state ${cfg.state} from ${newest.indexName} (${r.failed} exited ${r.code}); making a full instead\n`)
    return false
  }
  ctx.stderr.write(`backtory backup: rebuilt the lost state ${cfg.state} from the index of full ${newest.id}, stored beside it\n`)
  return true
}
