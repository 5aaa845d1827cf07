// backtory list: a set's backups as an admin choosing one to restore needs
// them: when, what kind, against which full, and what a restore of each would
// fetch; one that cannot be restored says why. See backtory-list(1).
import { EXIT, UsageError } from '../errors.js'
import { type CliSpec, type Parsed } from '../cli/args.js'
import { type Io } from '../cli/io.js'
import { writeLine } from '../cli/write.js'
import { type StoredBackup } from './catalog.js'
import { backupsOf, chainOf, isChain } from './chain.js'
import { listOrigin, originOf, STORE_OPTIONS } from './origin.js'
import { formatBytes } from './values.js'
import { localIso } from './when.js'

export const spec: CliSpec = {
  name: 'backtory list',
  summary: 'list a set\'s backups: kind, time, size, base, bytes a restore fetches',
  usage: ['[--json] SET', '[--json] --store URL [--set NAME] [STORE OPTIONS]'],
  options: [
    ...STORE_OPTIONS,
    { long: 'json', doc: 'print one JSON object per backup' },
  ].sort((a, b) => a.long.localeCompare(b.long)),
}

export interface ListRow {
  name: string
  set: string
  kind: string
  id: string
  base: string | null
  time: string
  size: number
  /** Bytes a restore of this backup fetches (its full and itself), null when it cannot be restored. */
  fetch: number | null
  restorable: boolean
  /** null, "incomplete" or "base-missing". */
  problem: string | null
}

export function listRows(rows: StoredBackup[]): ListRow[] {
  const backups = backupsOf(rows)
  return backups.map((b) => {
    const c = chainOf(backups, b)
    return {
      name: b.name, set: b.set, kind: b.kind, id: b.id, base: b.base, time: b.time.toISOString(), size: b.size,
      fetch: isChain(c) ? c.bytes : null, restorable: isChain(c), problem: isChain(c) ? null : c.kind,
    }
  })
}

/** One aligned line per backup, under a heading; ids shortened to 8 characters (--id takes a prefix). */
export function textLines(rows: ListRow[]): string[] {
  const cells = rows.map((r) => [localIso(new Date(r.time)), r.kind, formatBytes(r.size), r.fetch === null ? '-' : formatBytes(r.fetch),
    r.id.slice(0, 8), r.base === null ? '-' : r.base.slice(0, 8), r.problem === null ? 'ok' : r.problem.toUpperCase()])
  const head = ['TIME', 'KIND', 'SIZE', 'RESTORE', 'ID', 'BASE', 'STATUS']
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)))
  return [head, ...cells].map((c) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(width[i]!))).join('  '))
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  const { origin, rest } = originOf(opts, args, { env: io.env, uid: io.uid }, `${spec.name} ${spec.usage[0]!}`)
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`, `usage: backtory list ${spec.usage[0]}`)
  const rows = listRows(await listOrigin(origin, { env: io.env, stderr: io.stderr, signal }))
  if (opts.json) {
    for (const r of rows) await writeLine(io.stdout, JSON.stringify(r))
    return EXIT.OK
  }
  if (rows.length === 0) {
    io.notice(`set ${JSON.stringify(origin.set)} has no backups at ${origin.store.url}`)
    return EXIT.OK
  }
  for (const line of textLines(rows)) await writeLine(io.stdout, line)
  const bad = rows.filter((r) => !r.restorable).length
  if (bad > 0) io.notice(`${bad} of ${rows.length} backups cannot be restored (INCOMPLETE: volumes missing; BASE-MISSING: its full is not stored whole)`)
  return EXIT.OK
}
