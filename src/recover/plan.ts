// A Layout as the ordered steps recover.sh runs. Each step is a title, an sh
// check that says it is done already (so a rerun after a failure skips it) and
// the sh lines that do it, written against recover-lib.sh's functions: bt_run
// runs a command (or, under --plan, prints it), and an argument @REF names the
// new device that the layout's DeviceRef REF stands for once --map is known.
import { type Layout } from './layout.js'
import { diskSteps } from './plan-disks.js'
import { fsSteps } from './plan-fs.js'
import { systemSteps } from './plan-system.js'

export interface Step {
  title: string
  /** sh lines whose status is 0 when the step is done; null: it always runs (a check that changes nothing). */
  done: string[] | null
  run: string[]
}

export interface Plan {
  steps: Step[]
  /** What the layout has that recover.sh does not rebuild, for the script's head and --plan. */
  notes: string[]
}

export function buildPlan(layout: Layout): Plan {
  const notes: string[] = []
  const steps: Step[] = [
    { title: 'check the new disks: big enough, and blank unless --force', done: null, run: ['bt_check_disks'] },
    ...diskSteps(layout, notes),
    ...fsSteps(layout, notes),
    ...systemSteps(layout, notes),
  ]
  return { steps, notes }
}

/** Every UUID the rebuild gives a device, so that a rerun knows its own work from data. */
export function knownUuids(layout: Layout): string[] {
  return [
    ...layout.filesystems.map((f) => f.uuid),
    ...layout.swaps.map((s) => s.uuid),
    ...layout.luks.map((l) => l.uuid),
    ...layout.md.map((m) => m.uuid),
  ].filter((u): u is string => !!u)
}
