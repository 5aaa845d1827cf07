// What a backup run reports: one line for people, one JSON object for
// scripts, and a node_exporter textfile for monitoring ("when did set www
// last succeed?"), written to a temporary and renamed, so the exporter never
// reads half a file.
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { IoError, isErrno } from '../errors.js'
import { formatBytes } from './values.js'

export interface RunReport {
  set: string
  /** The run's exit status: 0 only when the backup is stored and every action succeeded. */
  status: number
  stored: boolean
  kind?: 'full' | 'diff'
  name?: string
  bytes?: number
  seconds: number
  /** Why the backup is a full. */
  why?: string
  /** What failed, in words, when the run did. */
  failed?: string
  started: Date
}

export function summaryLine(r: RunReport): string {
  if (!r.stored) return `set ${r.set}: no backup stored (${r.failed ?? `exit ${r.status}`})`
  const why = r.why ? `; full because ${r.why}` : ''
  return `set ${r.set}: ${r.kind} ${r.name}, ${formatBytes(r.bytes ?? 0)} in ${r.seconds.toFixed(1)} s${why}`
}

export function reportJson(r: RunReport): string {
  return `${JSON.stringify({
    set: r.set, status: r.status, stored: r.stored, kind: r.kind ?? null, name: r.name ?? null, bytes: r.bytes ?? null,
    seconds: Math.round(r.seconds * 1000) / 1000, why_full: r.why ?? null, failed: r.failed ?? null, started: r.started.toISOString(),
  })}\n`
}

const METRIC = 'backtory_last_success_timestamp_seconds'

/** The last success time a previous run wrote, so a failed run does not forget it. */
function previousSuccess(file: string, set: string): string | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined
    throw new IoError(`cannot read the metrics file ${JSON.stringify(file)}`, err as NodeJS.ErrnoException)
  }
  return new RegExp(`^${METRIC}\\{set="${set.replace(/\./g, '\\.')}"\\} (\\S+)$`, 'm').exec(text)?.[1]
}

/** Writes DIR/backtory_SET.prom, node_exporter's textfile collector format. */
export function writeTextfile(dir: string, r: RunReport, pid: number): string {
  const file = `${dir}/backtory_${r.set}.prom`
  const label = `{set="${r.set}"}`
  const end = (r.started.getTime() / 1000 + r.seconds).toFixed(3)
  const success = r.status === 0 ? end : previousSuccess(file, r.set)
  const lines = [
    `# HELP ${METRIC} When the set's last successful backup ended.`, `# TYPE ${METRIC} gauge`,
    ...(success !== undefined ? [`${METRIC}${label} ${success}`] : []),
    '# HELP backtory_last_run_timestamp_seconds When the set\'s last backup run ended.', '# TYPE backtory_last_run_timestamp_seconds gauge',
    `backtory_last_run_timestamp_seconds${label} ${end}`,
    '# HELP backtory_last_exit_status The exit status of the last run (0: stored, every action succeeded).', '# TYPE backtory_last_exit_status gauge',
    `backtory_last_exit_status${label} ${r.status}`,
    '# HELP backtory_last_duration_seconds How long the last run took.', '# TYPE backtory_last_duration_seconds gauge',
    `backtory_last_duration_seconds${label} ${r.seconds.toFixed(3)}`,
    '# HELP backtory_last_bytes Size of the backup the last run stored (0: none).', '# TYPE backtory_last_bytes gauge',
    `backtory_last_bytes${label} ${r.stored ? r.bytes ?? 0 : 0}`,
    '# HELP backtory_last_full 1 when the last stored backup is a full, 0 when a differential.', '# TYPE backtory_last_full gauge',
    ...(r.stored ? [`backtory_last_full${label} ${r.kind === 'full' ? 1 : 0}`] : []),
  ]
  const tmp = `${file}.tmp-${pid}`
  try {
    writeFileSync(tmp, `${lines.join('\n')}\n`, { mode: 0o644 })
    renameSync(tmp, file)
  } catch (err) {
    throw new IoError(`cannot write the metrics file ${JSON.stringify(file)}`, err as NodeJS.ErrnoException,
      'check that the textfile directory exists and is writable (node_exporter --collector.textfile.directory)')
  }
  return file
}
