// The pipelines a restore runs, one per member of the chain, exactly as an
// admin would type them: bt-get URL/NAME | bt-open | bt-restore. Pure, so
// that --dry-run prints what the run would do, and tests can read it.
import { type Chain } from './chain.js'
import { objectUrl, type Origin } from './origin.js'
import { render, type Stage } from './pipeline.js'
import { storeArgs } from './store-args.js'

export interface RestoreOptions {
  /** The target directory, or "-" for one file to standard output. */
  to: string
  paths: string[]
  key: string
  keyPassphraseFile?: string
  verifyKey: string
  /** bt-restore's owner options, passed on. */
  ownerFlags: string[]
  /** For --to -: the private directory the full's version of the file goes to first. */
  baseDir: string
}

export interface Step {
  stages: Stage[]
  /** The last stage writes to our standard output (the file of --to -). */
  toStdout: boolean
}

/** Operands after "--" when one of them could be read as an option. */
function operands(words: string[]): string[] {
  return words.some((w) => w.startsWith('-')) ? ['--', ...words] : words
}

export function restoreSteps(chain: Chain, origin: Origin, o: RestoreOptions): Step[] {
  const open: Stage = {
    tool: 'bt-open',
    args: ['--key', o.key, ...(o.keyPassphraseFile ? ['--key-passphrase-file', o.keyPassphraseFile] : []), '--verify', o.verifyKey],
  }
  const get = (name: string): Stage => ({ tool: 'bt-get', args: [...storeArgs(origin.store), objectUrl(origin.store.url, name)] })
  const [full, diff] = chain.members
  const step = (name: string, restore: string[], toStdout = false): Step =>
    ({ stages: [get(name), open, { tool: 'bt-restore', args: restore }], toStdout })
  if (o.to !== '-') {
    const restore = [...o.ownerFlags, ...operands([o.to, ...o.paths])]
    return chain.members.map((m) => step(m.name, restore))
  }
  const path = o.paths[0]!
  const pathArg = path.startsWith('-') ? `./${path}` : path
  if (diff === undefined) return [step(full!.name, ['-O', pathArg], true)]
  // The differential's version of the file is built on the full's: that one first, into a private directory.
  return [
    step(full!.name, ['--no-same-owner', ...operands([o.baseDir, path])]),
    step(diff.name, ['-O', pathArg, '--base', o.baseDir], true),
  ]
}

/** What --dry-run prints: each step a line, run in order while each succeeds; `T` stands for the private directory. */
export function renderSteps(steps: Step[], baseDir?: string): string {
  const lines = steps.map((s) => render(s.stages))
  const text = lines.join(' &&\n')
  if (baseDir === undefined || !text.includes(baseDir)) return `${text}\n`
  return `T=$(mktemp -d) &&\n${text.split(baseDir).join('"$T"')}\nrm -rf "$T"\n`
}
