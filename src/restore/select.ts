// Which entries a partial restore takes: a pattern selects a path, and a
// selected directory brings everything under it. The marker keeps the
// patterns a target was restored with, so that a differential applied later
// with PATTERN is checked against what the target holds.
import { Excluder } from '../scan/exclude.js'
import { parentOf } from './safe-path.js'

export function selector(patterns: string[] | undefined): ((rel: string) => boolean) | undefined {
  if (patterns === undefined || patterns.length === 0) return undefined
  // Anchor every pattern at the root: "etc/passwd" means that path, not any "passwd".
  const m = new Excluder(patterns.map((p) => `/${p.replace(/^\.?\/+/, '')}`))
  return (rel: string) => {
    for (let p = rel; ; p = parentOf(p)) {
      if (m.excludes(p, true)) return true
      if (p === '.') return false
    }
  }
}

/** Patterns as a marker keeps them: without a leading "./" or "/", each once, sorted; undefined for none (the whole tree). */
export function normalPatterns(patterns: string[] | undefined): string[] | undefined {
  if (patterns === undefined || patterns.length === 0) return undefined
  return [...new Set(patterns.map((p) => p.replace(/^\.?\/+/, '')))].sort()
}

export function samePatterns(a: string[] | undefined, b: string[] | undefined): boolean {
  return JSON.stringify(normalPatterns(a) ?? null) === JSON.stringify(normalPatterns(b) ?? null)
}

/**
 * Whether a target holding `holds` (undefined: the whole tree) provably holds
 * everything `want` selects: the same patterns, or each wanted pattern a plain
 * path (no glob) that `holds` selects, so that all below it is held too.
 * Patterns are globs: anything else cannot be decided, and is refused.
 */
export function covers(holds: string[] | undefined, want: string[] | undefined): boolean {
  if (holds === undefined) return true
  if (want === undefined) return false
  if (samePatterns(holds, want)) return true
  const held = selector(holds)!
  return want.every((p) => {
    const parts = p.split('/').filter((x) => x !== '' && x !== '.')
    return !/[*?[\\]/.test(p) && !parts.includes('..') && held(parts.length === 0 ? '.' : parts.join('/'))
  })
}
