// The options that reach a set's store, as bt-put, bt-get, bt-ls and bt-rm
// take them: one place, so every subcommand talks to the store the same way.
import { type SetConfig } from './set.js'

export function storeArgs(store: SetConfig['store']): string[] {
  const out: string[] = []
  if (store.passwordFile) out.push('--password-file', store.passwordFile)
  if (store.fingerprint) out.push('--fingerprint', store.fingerprint)
  if (store.ca) out.push('--ca', store.ca)
  if (store.identity) out.push('--identity', store.identity)
  if (store.knownHosts) out.push('--known-hosts', store.knownHosts)
  return out
}
