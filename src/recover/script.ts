// recover.sh, whole: a head saying what it is, the layout (the JSON itself in
// a here-document, for people and for bt-mkrecover --layout), the variables and
// captured texts the steps need, recover-lib.sh, bt-open.sh's recipe, and the
// steps of the plan as pairs of sh functions.
import { readFileSync } from 'node:fs'
import { type Layout } from './layout.js'
import { buildPlan, knownUuids } from './plan.js'
import { hereDocFunction, q, shVar } from './sh-quote.js'

const asset = (name: string) => readFileSync(new URL(`../../../scripts/${name}`, import.meta.url), 'utf8')

/** Where the layout's JSON starts and ends in recover.sh (bt-mkrecover --layout reads it back). */
export const LAYOUT_BEGIN = "  cat <<'BT_LAYOUT_END'"
export const LAYOUT_END = 'BT_LAYOUT_END'

export function renderRecoverScript(layout: Layout): string {
  const plan = buildPlan(layout)
  const notes = [...layout.notes, ...plan.notes]
  const out: string[] = [
    '#!/bin/sh',
    `# recover.sh for ${oneLine(layout.host)}, captured ${oneLine(layout.capturedAt)}, written by bt-mkrecover(1).`,
    '# Rebuilds the disks as they were, restores the backup and makes the machine boot.',
    '#   sh recover.sh --plan                     what it would do, touching nothing',
    '#   sh recover.sh --map sda=/dev/vdb --key admin.key [--at TIME]',
    '# Every step is skipped when it is done already: after a failure, fix the cause and run it again.',
    ...notes.map((n) => `# note: ${oneLine(n)}`),
    '# shellcheck disable=SC2034 # BT_DISK_* are read through eval, BT_SIGNER by people',
    'set -u',
    '',
    hereDocFunction('bt_layout', JSON.stringify(layout, null, 2), LAYOUT_END),
    `BT_HOST=${q(layout.host)}`,
    `BT_CAPTURED=${q(layout.capturedAt)}`,
    `BT_DISKS=${q(layout.disks.map((d) => d.name).join(' '))}`,
    ...layout.disks.map((d) => `BT_DISK_${shVar(d.name)}=${q(`${d.sizeBytes} ${d.path} ${d.table ?? 'no-table'}`)}`),
    `BT_STORE=${q(layout.backup.store ?? '')}`,
    `BT_SET=${q(layout.backup.set ?? '')}`,
    `BT_SIGNER=${q(layout.backup.signer ?? '')}`,
    `BT_UUIDS=${q(knownUuids(layout).join(' '))}`,
    `BT_POOLS=${q(layout.zfs.map((p) => p.name).join(' '))}`,
    '',
    ...layout.disks.filter((d) => d.sfdiskDump).map((d) => hereDocFunction(`bt_table_${shVar(d.name)}`, d.sfdiskDump!)),
    ...layout.lvm.filter((v) => v.vgcfgbackup).map((v) => hereDocFunction(`bt_vgcfg_${shVar(v.name)}`, v.vgcfgbackup!)),
    hereDocFunction('bt_pubkey', layout.backup.signerPublicKey ?? ''),
    hereDocFunction('bt_open_sh', asset('bt-open.sh'), 'BT_OPEN_END'),
    asset('recover-lib.sh'),
    '# --- the steps',
  ]
  plan.steps.forEach((s, i) => {
    const fn = `bt_s${i + 1}`
    out.push(`${fn}_done() {`, ...(s.done ?? ['return 1']).map(indent), '}')
    out.push(`${fn}_run() {`, ...s.run.map(indent), '}')
  })
  out.push(
    '',
    'bt_args "$@"',
    'bt_map',
    `BT_STEPS=${plan.steps.length}`,
    'bt_begin',
    ...plan.steps.map((s, i) => `bt_step ${i + 1} ${q(s.title)} bt_s${i + 1}${s.done ? '' : ' always'}`),
    'bt_end',
    '',
  )
  return out.join('\n')
}

const indent = (l: string) => `  ${l}`
const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ')
