// backtory.conf(5) recover-script: bare-metal recovery kept current by the
// nightly run. Every backup carries the machine's layout (the capture
// backtory-layout.json, so a backup restored by hand shows the disks it came
// from), and once the store holds the backup whole, recover.sh is written
// anew (bt-mkrecover -o writes it whole or not at all) with the set's store,
// name and host key in it: the one file an admin copies off the host.
import { type Action, type SetConfig } from './set.js'
import { command, shQuote, type Stage } from './pipeline.js'

export const LAYOUT_CAPTURE = 'backtory-layout.json'

function recoverArgs(set: SetConfig): string[] {
  return ['--store', set.store.url, '--set', set.name, '--verify', set.verifyKey]
}

/**
 * The capture that puts the layout into the backup, when the set keeps a
 * recover script. By absolute paths, as the wrapper runs its own tools: cron's
 * PATH does not hold them. A capture that fails must not cost the night's
 * backup: the layout is then short or empty, and writing recover.sh after the
 * backup fails with bt-mkrecover's own message (exit 3).
 */
export function layoutCapture(set: SetConfig): Action[] {
  if (set.recoverScript === undefined) return []
  const { file, argv } = command({ tool: 'bt-mkrecover', args: ['--json', ...recoverArgs(set)] })
  return [{ kind: 'capture', name: LAYOUT_CAPTURE, command: `${[file, ...argv].map(shQuote).join(' ')} || true` }]
}

/** The stage that writes recover.sh after a stored backup. */
export function recoverScriptStage(set: SetConfig): Stage | undefined {
  if (set.recoverScript === undefined) return undefined
  return { tool: 'bt-mkrecover', args: [...recoverArgs(set), '-o', set.recoverScript] }
}
