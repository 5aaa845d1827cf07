// One backup run of a set, start to end: pre actions, the plan, the
// pipeline, post actions, finally actions. Every message of the stages and
// actions goes to `log`; what the run did comes back as a RunReport, so the
// caller decides what a person or cron sees. A run counts as stored only when
// bt-put stored the backup whole and the store lists it.
import { BtError, EXIT } from '../errors.js'
import { killGroup } from '../cli/kill-group.js'
import { HookError } from '../snap/errors.js'
import { type HookName, runHook } from '../snap/hooks.js'
import { type BoundedLog } from './bounded-log.js'
import { putPrintsName, backupStages } from './backup-stages.js'
import { planBackup } from './backup-plan.js'
import { listStore, type StoredBackup } from './catalog.js'
import { runPipeline } from './pipeline.js'
import { recoverScriptStage } from './recovery.js'
import { mkdirs } from '../sys/mkdirs.js'
import { type RunReport } from './summary.js'
import { type SetConfig } from './set.js'

export interface RunContext {
  env: NodeJS.ProcessEnv
  log: BoundedLog
  signal: AbortSignal
}

const DEFAULT_HOOK_TIMEOUT_S = 600

async function actions(set: SetConfig, kind: HookName, facts: Record<string, string>, ctx: RunContext): Promise<string | undefined> {
  for (const a of set.actions.filter((x) => x.kind === kind)) {
    try {
      await runHook(kind, a.command, {
        env: { ...ctx.env, ...facts }, stderr: ctx.log, killGroup, timeoutMs: (set.hookTimeout ?? DEFAULT_HOOK_TIMEOUT_S) * 1000,
        signal: kind === 'pre' ? ctx.signal : undefined,
      })
    } catch (err) {
      if (!(err instanceof HookError)) throw err
      ctx.log.add(`backtory backup: error: ${err.message}\n`)
      return err.message
    }
  }
  return undefined
}

/** The name bt-put printed, or (bt-put -q) the one new complete backup of the set in the store. */
function storedName(stdout: string, before: StoredBackup[], after: StoredBackup[]): string | undefined {
  const printed = stdout.split('\n').map((l) => l.trim()).filter(Boolean).pop()
  if (putPrintsName && printed) return printed
  const old = new Set(before.map((b) => b.name))
  return after.filter((b) => !old.has(b.name)).pop()?.name
}

export async function runBackup(set: SetConfig, ctx: RunContext): Promise<RunReport> {
  const started = new Date()
  const r: RunReport = { set: set.name, status: EXIT.OK, stored: false, seconds: 0, started }
  const fail = (status: number, what: string) => {
    if (r.status === EXIT.OK) {
      r.status = status
      r.failed = what
    }
  }
  const list = { env: ctx.env, stderr: ctx.log, signal: ctx.signal }
  try {
    const pre = await actions(set, 'pre', { BT_SET: set.name }, ctx)
    if (pre) fail(EXIT.FAILURE, `${pre}; the backup was skipped`)
    else {
      const plan = await planBackup(set, list)
      r.kind = plan.decision.kind
      r.why = plan.decision.why
      if (r.why) ctx.log.add(`backtory backup: making a full: ${r.why}\n`)
      // The set's own state directory (backtory.conf(5) state): bt-put --state refuses a missing one.
      mkdirs(set.state, 0o700)
      const p = await runPipeline(backupStages(set, r.kind), { env: ctx.env, stderr: ctx.log, signal: ctx.signal })
      const put = p.stages[p.stages.length - 1]!
      if (p.code !== EXIT.OK) fail(p.code, `${p.failed} exited ${p.code}`)
      if (put.code === EXIT.OK) {
        const after = await listStore(set.store, set.name, list)
        const name = storedName(p.stdout, plan.stored, after)
        const row = after.find((b) => b.name === name)
        if (row) Object.assign(r, { stored: true, name, bytes: row.size, kind: row.kind === 'full' ? 'full' : 'diff' })
        else fail(EXIT.FAILURE, `bt-put succeeded, but the store does not list ${name ?? 'the new backup'} complete`)
      }
    }
    if (r.stored) {
      const recover = recoverScriptStage(set)
      if (recover) {
        const w = await runPipeline([recover], { env: ctx.env, stderr: ctx.log, signal: ctx.signal })
        // The backup is stored whole all the same: a stale recover.sh is a warning, not a lost night.
        if (w.code !== EXIT.OK && w.code !== EXIT.PARTIAL) fail(EXIT.PARTIAL, `${set.name} is stored, but bt-mkrecover could not write ${set.recoverScript} (exit ${w.code})`)
      }
      const post = await actions(set, 'post', { BT_SET: set.name, BT_KIND: r.kind!, BT_NAME: r.name! }, ctx)
      if (post) fail(EXIT.FAILURE, post)
    }
  } catch (err) {
    if (!(err instanceof BtError) || err.code === 'BT_SIGNAL') throw err
    ctx.log.add(`backtory backup: error: ${err.message}\n${err.hints.map((h) => `backtory backup: hint: ${h}\n`).join('')}`)
    fail(err.exit, err.message)
  } finally {
    r.seconds = (Date.now() - started.getTime()) / 1000
    const facts = { BT_SET: set.name, BT_STATUS: String(ctx.signal.aborted ? EXIT.SIGTERM : r.status), BT_KIND: r.kind ?? '', BT_NAME: r.name ?? '' }
    const fin = await actions(set, 'finally', facts, ctx)
    if (fin) fail(EXIT.FAILURE, fin)
  }
  return r
}
