// Catches drift between the man pages and the code: every option of every
// tool's spec must be in its --help and in its page, the pages must document no
// option the tool lacks, in alphabetical order, and EXIT STATUS must be the
// table of src/cli/exit.ts. mandoc -Tlint runs over every page when installed.
//
//   node dist/scripts/check-man.js      (npm run check-man; exits 1 on problems)
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type CliSpec, type OptionSpec, allOptions } from '../src/cli/args.js'
import { spec as deltaSpec } from '../src/cli/bt-delta.js'
import { spec as getSpec } from '../src/cli/bt-get.js'
import { spec as keygenSpec } from '../src/cli/bt-keygen.js'
import { spec as lsSpec } from '../src/cli/bt-ls.js'
import { spec as openSpec } from '../src/cli/bt-open.js'
import { spec as putSpec } from '../src/cli/bt-put.js'
import { spec as rmSpec } from '../src/cli/bt-rm.js'
import { spec as mkrecoverSpec } from '../src/cli/bt-mkrecover.js'
import { spec as restoreSpec } from '../src/cli/bt-restore.js'
import { spec as scanSpec } from '../src/cli/bt-scan.js'
import { spec as sealSpec } from '../src/cli/bt-seal.js'
import { spec as snapSpec } from '../src/cli/bt-snap.js'
import { EXIT_MEANING } from '../src/cli/exit.js'
import { spec as wBackupSpec } from '../src/wrapper/cmd-backup.js'
import { spec as wCronSpec } from '../src/wrapper/cmd-cron.js'
import { spec as wInitSpec } from '../src/wrapper/cmd-init.js'
import { spec as wListSpec } from '../src/wrapper/cmd-list.js'
import { spec as wPruneSpec } from '../src/wrapper/cmd-prune.js'
import { spec as wRestoreSpec } from '../src/wrapper/cmd-restore.js'
import { spec as wVerifySpec } from '../src/wrapper/cmd-verify.js'

/** The package root: this file runs as dist/scripts/check-man.js. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export const SPECS: CliSpec[] = [scanSpec, deltaSpec, restoreSpec, lsSpec, sealSpec, openSpec, keygenSpec, putSpec, getSpec, rmSpec, mkrecoverSpec, snapSpec,
  wInitSpec, wBackupSpec, wListSpec, wRestoreSpec, wVerifySpec, wPruneSpec, wCronSpec]

/** A tool's page: man/bt-ls.1 for bt-ls, man/backtory-list.1 for the wrapper's "backtory list" (as git does). */
export function pageOf(name: string): string {
  return `${name.replace(/ /g, '-')}.1`
}

/** One tool as the user meets it: its spec, its --help output and its page. */
export interface ToolDocs {
  spec: CliSpec
  help: string
  /** The mdoc source of man/<tool>.1. */
  page: string
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** True when `--long` is in mdoc text as "Fl -long", or literally as --long or \-\-long. */
function hasLong(text: string, long: string): boolean {
  const name = `${escape(long)}(?![\\w-])`
  return new RegExp(`\\bFl\\s+-${name}|(?<![\\w-])(?:--|\\\\-\\\\-)${name}`).test(text)
}

/** True when `-x` is in mdoc text as "Fl x", or literally as -x or \-x. */
function hasShort(text: string, short: string): boolean {
  const name = `${escape(short)}(?![\\w-])`
  return new RegExp(`\\bFl\\s+${name}|(?<![\\w\\\\-])(?:-|\\\\-)${name}`).test(text)
}

function flagNames(o: OptionSpec): string {
  return o.short ? `-${o.short}/--${o.long}` : `--${o.long}`
}

/** The lines of section `title` (".Sh TITLE" or ".Ss Title") up to the next heading of that level or above. */
export function section(page: string, macro: 'Sh' | 'Ss', title: string): string[] | undefined {
  const lines = page.split('\n')
  const start = lines.findIndex((l) => l.trim() === `.${macro} ${title}`)
  if (start === -1) return undefined
  const stop = macro === 'Sh' ? /^\.Sh\s/ : /^\.S[hs]\s/
  const end = lines.findIndex((l, i) => i > start && stop.test(l))
  return lines.slice(start + 1, end === -1 ? undefined : end)
}

/** Options documented as ".It Fl ..." items in DESCRIPTION: [sort key, long names, short names] per item. */
function documentedOptions(page: string): Array<{ key: string; longs: string[]; shorts: string[] }> {
  const out: Array<{ key: string; longs: string[]; shorts: string[] }> = []
  for (const line of section(page, 'Sh', 'DESCRIPTION') ?? []) {
    if (!/^\.It\s+Fl\s/.test(line)) continue
    const longs = [...line.matchAll(/\bFl\s+-([\w-]+)/g)].map((m) => m[1]!)
    const shorts = [...line.matchAll(/\bFl\s+(\w)(?![\w-])/g)].map((m) => m[1]!)
    out.push({ key: longs[0] ?? shorts[0] ?? '', longs, shorts })
  }
  return out
}

/** Options in spec vs --help vs page, both ways, plus the order of the page's option list. */
export function optionProblems(d: ToolDocs): string[] {
  const problems: string[] = []
  const name = d.spec.name
  const options = allOptions(d.spec)
  for (const o of options) {
    if (!hasLong(d.help, o.long)) problems.push(`${name}: --${o.long} is missing from --help`)
    if (o.short && !hasShort(d.help, o.short)) problems.push(`${name}: -${o.short} (--${o.long}) is missing from --help`)
    if (!hasLong(d.page, o.long)) problems.push(`man/${pageOf(name)}: --${o.long} is not documented`)
    if (o.short && !hasShort(d.page, o.short)) problems.push(`man/${pageOf(name)}: -${o.short} (--${o.long}) is not documented`)
  }
  const items = documentedOptions(d.page)
  for (const item of items) {
    for (const long of item.longs) {
      if (!options.some((o) => o.long === long)) problems.push(`man/${pageOf(name)}: documents --${long}, which ${name} does not have`)
    }
    for (const short of item.shorts) {
      const o = options.find((x) => x.short === short)
      if (!o) problems.push(`man/${pageOf(name)}: documents -${short}, which ${name} does not have`)
      else if (!item.longs.includes(o.long)) problems.push(`man/${pageOf(name)}: documents -${short} apart from its long form ${flagNames(o)}`)
    }
  }
  const keys = items.map((i) => i.key)
  const sorted = [...keys].sort((a, b) => a.localeCompare(b, 'en'))
  if (keys.join(' ') !== sorted.join(' ')) {
    problems.push(`man/${pageOf(name)}: options are not in alphabetical order of their long names: ${keys.join(', ')}`)
  }
  const nd = /^\.Nd\s+(.*)$/m.exec(d.page)?.[1]?.trim()
  if (nd !== d.spec.summary) problems.push(`man/${pageOf(name)}: .Nd ${JSON.stringify(nd)} differs from the summary ${JSON.stringify(d.spec.summary)}`)
  return problems
}

/**
 * The exit-status list of a page (".Sh EXIT STATUS", or ".Ss Exit status" in a
 * section 7 page) must hold every code of EXIT_MEANING, in order, each item's
 * first paragraph being its meaning, and no other code.
 */
export function exitProblems(file: string, page: string, meanings: ReadonlyArray<readonly [number, string]> = EXIT_MEANING): string[] {
  const lines = section(page, 'Sh', 'EXIT STATUS') ?? section(page, 'Ss', 'Exit status')
  if (!lines) return [`${file}: no EXIT STATUS section`]
  const items: Array<[string, string]> = []
  let current: [string, string[]] | undefined
  let inFirstParagraph = false
  const flush = () => {
    if (current) items.push([current[0], current[1].join(' ').replace(/\s+/g, ' ').trim()])
    current = undefined
  }
  for (const line of lines) {
    const it = /^\.It\s+(.*)$/.exec(line)
    if (it) {
      flush()
      current = [it[1]!.trim(), []]
      inFirstParagraph = true
    } else if (/^\.(El|Pp|Bl|Bd)\b/.test(line)) {
      inFirstParagraph = false
      if (line.startsWith('.El')) flush()
    } else if (current && inFirstParagraph && !line.startsWith('.\\"')) {
      current[1].push(line)
    }
  }
  flush()
  const problems: string[] = []
  const want = meanings.map(([c]) => String(c))
  const got = items.map(([c]) => c)
  for (const c of got) if (!want.includes(c)) problems.push(`${file}: EXIT STATUS lists ${c}, which exit.ts does not define`)
  for (const [code, meaning] of meanings) {
    const item = items.find(([c]) => c === String(code))
    if (!item) problems.push(`${file}: EXIT STATUS lacks ${code} (${meaning})`)
    else if (item[1] !== meaning) problems.push(`${file}: EXIT STATUS gives ${code} as ${JSON.stringify(item[1])}, exit.ts as ${JSON.stringify(meaning)}`)
  }
  if (problems.length === 0 && got.join(' ') !== want.join(' ')) problems.push(`${file}: EXIT STATUS is not in the order of exit.ts: ${got.join(' ')}`)
  return problems
}

/** `mandoc -Tlint -W warning` over `files`; every line it prints is a problem. Empty when mandoc is absent. */
export function lintProblems(files: string[]): string[] {
  if (files.length === 0) return []
  const r = spawnSync('mandoc', ['-Tlint', '-W', 'warning', ...files], { encoding: 'utf8' })
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') return [] // not installed: STYLE.md makes the lint optional
    return [`mandoc: ${r.error.message}`]
  }
  const lines = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '')
  if (lines.length === 0 && r.status !== 0) return [`mandoc -Tlint exited ${r.status} without a message`]
  return lines
}

/** Whether mandoc is on PATH (the tests say so when they skip the lint). */
export function haveMandoc(): boolean {
  return !spawnSync('mandoc', ['-V'], { encoding: 'utf8' }).error
}

/** What `<tool> --help` prints, from the built bin. */
export function helpOf(root: string, name: string): string {
  const [tool, ...sub] = name.split(' ')
  const bin = `${root}bin/${tool}.js`
  if (!existsSync(bin)) throw new Error(`${bin} does not exist`)
  const r = spawnSync(process.execPath, [bin, ...sub, '--help'], { encoding: 'utf8', timeout: 30_000 })
  if (r.status !== 0) throw new Error(`${name} --help exited ${r.status}: ${r.stderr}`)
  return r.stdout
}

/** Every problem with the man pages under `root`, or [] when they are in step with the code. */
export function checkMan(root: string = ROOT, specs: CliSpec[] = SPECS): string[] {
  const problems: string[] = []
  const dir = `${root}man`
  const pages = existsSync(dir) ? readdirSync(dir).filter((f) => /\.[1-9]$/.test(f)).sort() : []
  for (const spec of specs) {
    const file = `man/${pageOf(spec.name)}`
    if (!pages.includes(pageOf(spec.name))) {
      problems.push(`${file} does not exist`)
      continue
    }
    const page = readFileSync(`${root}${file}`, 'utf8')
    let help = ''
    try {
      help = helpOf(root, spec.name)
    } catch (err) {
      problems.push(`${spec.name}: cannot get --help: ${(err as Error).message}`)
    }
    problems.push(...optionProblems({ spec, help, page }))
    problems.push(...exitProblems(file, page))
  }
  for (const f of pages) {
    const page = readFileSync(`${dir}/${f}`, 'utf8')
    const dt = /^\.Dt\s+(\S+)\s+(\S+)/m.exec(page)
    if (!dt || `${dt[1]!.toLowerCase()}.${dt[2]}` !== f) problems.push(`man/${f}: .Dt ${dt ? `${dt[1]} ${dt[2]}` : 'is missing'}, not the file's name`)
  }
  if (existsSync(`${dir}/backtory.7`)) problems.push(...exitProblems('man/backtory.7', readFileSync(`${dir}/backtory.7`, 'utf8')))
  problems.push(...lintProblems(pages.map((f) => `${dir}/${f}`)))
  return problems
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const problems = checkMan()
  for (const p of problems) process.stderr.write(`check-man: ${p}\n`)
  if (problems.length > 0) process.exitCode = 1
  else process.stdout.write(`check-man: man pages agree with ${SPECS.map((s) => s.name).join(', ')} and exit.ts${haveMandoc() ? '; mandoc -Tlint is clean' : ' (mandoc not installed: lint skipped)'}\n`)
}
