// One declared option spec per tool drives parsing (minimist), validation,
// --help and the man-page drift check.
import minimist from 'minimist'
import { UsageError } from '../errors.js'

export interface OptionSpec {
  long: string
  short?: string
  /** Placeholder for the option's value; absent for a flag. */
  arg?: string
  repeat?: boolean
  doc: string
}

export interface CliSpec {
  name: string
  summary: string
  usage: string[]
  options: OptionSpec[]
  /** Lines printed after the options in --help. */
  notes?: string[]
}

export type Values = Record<string, string | string[] | boolean | undefined>

export interface Parsed {
  opts: Values
  args: string[]
}

const COMMON: OptionSpec[] = [
  { long: 'help', short: 'h', doc: 'print this help and exit' },
  { long: 'version', doc: 'print the version and exit' },
]

export function allOptions(spec: CliSpec): OptionSpec[] {
  return [...spec.options, ...COMMON]
}

export function parseArgs(argv: string[], spec: CliSpec): Parsed {
  const options = allOptions(spec)
  const unknown: string[] = []
  // minimist reads "--no-X" as X=false, which collides with an option X of our
  // own (bt-open's --verify PUB and --no-verify): declared "no-X" flags are
  // renamed before parsing, so they stay flags of their own.
  const negated = (o: OptionSpec) => !o.arg && o.long.startsWith('no-')
  const key = (o: OptionSpec) => (negated(o) ? `flag:${o.long}` : o.long)
  const negFlags = new Set(options.filter(negated).map((o) => `--${o.long}`))
  const end = argv.indexOf('--')
  const args = argv.map((a, i) => (negFlags.has(a) && (end === -1 || i < end) ? `--flag:${a.slice(2)}` : a))
  const raw = minimist(args, {
    // '_': operands stay strings, as typed ("0123…" is an id, not the number 123…).
    string: [...options.filter((o) => o.arg).map((o) => o.long), '_'],
    boolean: options.filter((o) => !o.arg).map(key),
    alias: Object.fromEntries(options.filter((o) => o.short).map((o) => [o.long, o.short!])),
    unknown: (a) => {
      if (a.startsWith('-') && a !== '-') unknown.push(a)
      return !a.startsWith('-') || a === '-'
    },
  })
  if (unknown.length > 0) {
    throw new UsageError(`unknown option ${unknown[0]!.split('=')[0]}`, `see ${spec.name} --help`)
  }
  const opts: Values = {}
  for (const o of options) {
    let v = raw[key(o)] as string | string[] | boolean | undefined
    if (o.arg) {
      const list = v === undefined ? [] : Array.isArray(v) ? v : [v as string]
      if (list.some((x) => x === '')) throw new UsageError(`option --${o.long} needs a value (${o.arg})`)
      if (!o.repeat && list.length > 1) throw new UsageError(`option --${o.long} given more than once`)
      v = o.repeat ? list : list[0]
    } else if (Array.isArray(v)) {
      v = true
    }
    opts[o.long] = v
  }
  return { opts, args: raw._.map(String) }
}

export function helpText(spec: CliSpec): string {
  const lines = [`${spec.name} - ${spec.summary}`, '', 'usage:']
  for (const u of spec.usage) lines.push(`  ${spec.name} ${u}`)
  lines.push('', 'options:')
  const rows = allOptions(spec).map((o) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${o.long}${o.arg ? ` ${o.arg}` : ''}`
    return [flag, o.doc + (o.repeat ? ' (repeatable)' : '')] as const
  })
  const width = Math.max(...rows.map(([f]) => f.length)) + 2
  for (const [f, d] of rows) lines.push(`  ${f.padEnd(width)}${d}`)
  if (spec.notes?.length) lines.push('', ...spec.notes)
  lines.push('', `See ${spec.name.startsWith('backtory ') ? 'backtory' : spec.name}(1).`, '')
  return lines.join('\n')
}
