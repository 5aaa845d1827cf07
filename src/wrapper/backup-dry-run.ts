// backtory backup --dry-run: the commands the run would run, as sh lines,
// decided the same way (the store's listing and the state, through the
// policy), changing nothing. Run by sh with the tools on PATH, the lines make
// the same backup; the actions, which the wrapper runs around them, show as
// comments.
import { existsSync } from 'node:fs'
import { backupStages } from './backup-stages.js'
import { planBackup } from './backup-plan.js'
import { type ListContext } from './catalog.js'
import { keygenArgs } from './default-prepare.js'
import { type DefaultSet } from './default-set.js'
import { render, shQuote } from './pipeline.js'
import { recoverScriptStage } from './recovery.js'
import { type SetConfig } from './set.js'

export async function dryRun(set: SetConfig, d: DefaultSet | undefined, ctx: ListContext): Promise<string> {
  const lines: string[] = []
  const storeMissing = d !== undefined && !existsSync(`${d.home}/store`)
  if (d) {
    if (storeMissing) lines.push(`mkdir -p ${shQuote(`${d.home}/store`)}`)
    for (const k of d.missingKeys) lines.push(render([{ tool: 'bt-keygen', args: keygenArgs(k) }]))
  }
  const plan = await planBackup(set, ctx, { storeMayBeMissing: storeMissing, dryRun: true })
  // bt-put --state needs the state directory; the run makes it.
  if (!existsSync(set.state)) lines.push(`mkdir -p ${shQuote(set.state)}`)
  const kind = plan.decision.kind
  lines.unshift(`# backtory backup ${set.name}: a ${kind === 'full' ? `full, because ${plan.decision.why}` : `differential against full ${plan.decision.base!.id}`}`)
  const acts = (k: string) => set.actions.filter((a) => a.kind === k).map((a) => `# ${k} (the wrapper runs it ${
    k === 'pre' ? 'first; if it fails, nothing else' : k === 'post' ? 'once the backup is stored' : 'last, always, with BT_STATUS'}): ${a.command}`)
  const recover = recoverScriptStage(set)
  lines.push(...acts('pre'), render(backupStages(set, kind)), ...(recover ? [`# once the backup is stored:\n${render([recover])}`] : []),
    ...acts('post'), ...acts('finally'))
  return `${lines.join('\n')}\n`
}
