// gitignore-style exclusion patterns, matched against paths relative to the
// scanned root. The last matching pattern wins; "!" re-includes; a trailing
// "/" matches directories only; a pattern with an inner "/" is anchored.
import { UsageError } from '../errors.js'

interface Rule {
  re: RegExp
  negate: boolean
  dirOnly: boolean
}

function globToRegex(glob: string, pattern: string): string {
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/'
        const slashAfter = glob[i + 2] === '/'
        if (atStart && slashAfter) {
          out += '(?:.*/)?'
          i += 2
        } else if (atStart && i + 2 === glob.length) {
          out += '.*'
          i += 1
        } else {
          out += '[^/]*'
          i += 1
        }
      } else {
        out += '[^/]*'
      }
    } else if (c === '?') {
      out += '[^/]'
    } else if (c === '[') {
      const close = glob.indexOf(']', i + 2)
      if (close === -1) throw new UsageError(`bad exclude pattern ${JSON.stringify(pattern)}: unclosed "["`)
      let cls = glob.slice(i + 1, close)
      if (cls.startsWith('!')) cls = `^${cls.slice(1)}`
      out += `[${cls.replace(/\\/g, '\\\\')}]`
      i = close
    } else if (c === '\\' && i + 1 < glob.length) {
      out += glob[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
    } else {
      out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
    }
  }
  return out
}

export function compileRule(pattern: string): Rule | undefined {
  let p = pattern.replace(/(?<!\\)\s+$/, '')
  if (p === '' || p.startsWith('#')) return undefined
  let negate = false
  if (p.startsWith('!')) {
    negate = true
    p = p.slice(1)
  }
  const dirOnly = p.endsWith('/')
  if (dirOnly) p = p.replace(/\/+$/, '')
  const anchored = p.includes('/')
  p = p.replace(/^\/+/, '')
  if (p === '') throw new UsageError(`bad exclude pattern ${JSON.stringify(pattern)}: it matches nothing`)
  const body = globToRegex(p, pattern)
  const re = new RegExp(anchored ? `^${body}$` : `(?:^|/)${body}$`)
  return { re, negate, dirOnly }
}

export class Excluder {
  private readonly rules: Rule[]

  constructor(patterns: string[]) {
    this.rules = patterns.map(compileRule).filter((r): r is Rule => r !== undefined)
  }

  get empty(): boolean {
    return this.rules.length === 0
  }

  /** True when `rel` (relative path, no leading "./") is excluded. */
  excludes(rel: string, isDir: boolean): boolean {
    let excluded = false
    for (const r of this.rules) {
      if (r.dirOnly && !isDir) continue
      if (r.re.test(rel)) excluded = !r.negate
    }
    return excluded
  }
}

/** Lines of an --exclude-from file: blank lines and "#" comments are skipped by compileRule. */
export function patternsFromText(text: string): string[] {
  return text.split(/\r?\n/)
}
