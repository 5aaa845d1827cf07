// Which entries a partial restore takes: a pattern selects a path, and a
// selected directory brings everything under it.
import { Excluder } from '../scan/exclude.js'
import { parentOf } from './safe-path.js'

export function selector(patterns: string[]): ((rel: string) => boolean) | undefined {
  if (patterns.length === 0) return undefined
  // Anchor every pattern at the root: "etc/passwd" means that path, not any "passwd".
  const m = new Excluder(patterns.map((p) => `/${p.replace(/^\.?\/+/, '')}`))
  return (rel: string) => {
    for (let p = rel; ; p = parentOf(p)) {
      if (m.excludes(p, true)) return true
      if (p === '.') return false
    }
  }
}
