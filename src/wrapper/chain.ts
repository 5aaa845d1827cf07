// Which stored backups a restore needs. A differential holds the changes
// since its full, so any point in time is one full, or one full and one
// differential: the chain. Pure: the rows are what `bt-ls --json` listed.
import { BtError, EXIT } from '../errors.js'
import { type StoredBackup } from './catalog.js'
import { localIso } from './when.js'

/** Which backup: the newest made at or before `at`, the one with this id or name, or the newest. */
export type Pick = { at: Date } | { id: string } | { latest: true }

export interface Chain {
  /** The backup asked for: the state it holds is what the restore gives. */
  target: StoredBackup
  /** What to restore, in order: the full, then the differential when the target is one. */
  members: StoredBackup[]
  /** Bytes a restore fetches: the members' sizes. */
  bytes: number
}

/** Why a stored backup cannot be restored, or undefined when it can. */
export type Problem = { kind: 'incomplete' } | { kind: 'base-missing'; base: string }

/** Backups proper: the index objects stored beside fulls are not restorable points. */
export function backupsOf(rows: StoredBackup[]): StoredBackup[] {
  return rows.filter((r) => r.kind === 'full' || r.kind === 'diff')
}

function baseOf(rows: StoredBackup[], b: StoredBackup): StoredBackup | undefined {
  return rows.find((r) => r.kind === 'full' && r.id === b.base && r.set === b.set && r.complete)
}

/** The chain that restores `b`, or what stops it. */
export function chainOf(rows: StoredBackup[], b: StoredBackup): Chain | Problem {
  if (!b.complete) return { kind: 'incomplete' }
  if (b.kind === 'full') return { target: b, members: [b], bytes: b.size }
  const base = baseOf(rows, b)
  if (base === undefined || b.baseMissing) return { kind: 'base-missing', base: b.base ?? '(none named)' }
  return { target: b, members: [base, b], bytes: base.size + b.size }
}

export function isChain(c: Chain | Problem): c is Chain {
  return 'members' in c
}

const show = (b: StoredBackup) => `${b.name} (${b.kind}, ${localIso(b.time)})`

/** The chain `pick` names among the backups of set `set`; a BtError says why there is none. */
export function selectChain(all: StoredBackup[], pick: Pick, set: string, url: string): Chain {
  const rows = backupsOf(all).filter((r) => r.set === set)
  const listHint = `list them with: backtory list ${set}`
  if (rows.length === 0) {
    throw new BtError('BT_NO_BACKUP', EXIT.FAILURE, `set ${JSON.stringify(set)} has no backups stored at ${url}`,
      ['check the set name and the store URL; bt-ls URL lists every set stored there'])
  }
  let target: StoredBackup
  if ('id' in pick) {
    target = byId(rows, pick.id, set, listHint)
  } else {
    const limit = 'at' in pick ? pick.at.getTime() : Infinity
    const complete = rows.filter((r) => r.complete && r.time.getTime() <= limit)
    const found = complete[complete.length - 1]
    if (found === undefined) {
      const oldest = rows.find((r) => r.complete)
      if (oldest === undefined) {
        throw new BtError('BT_NO_BACKUP', EXIT.FAILURE, `set ${JSON.stringify(set)} has no complete backup at ${url}`,
          ['every stored backup lacks volumes (interrupted uploads): make a new backup', listHint])
      }
      throw new BtError('BT_TOO_OLD', EXIT.FAILURE,
        `set ${JSON.stringify(set)} has no backup made at or before ${localIso(new Date(limit))}: the oldest is ${show(oldest)}`,
        ['give a later --at, or restore the oldest with --id ' + oldest.id, listHint])
    }
    target = found
  }
  const c = chainOf(rows, target)
  if (isChain(c)) return c
  if (c.kind === 'incomplete') {
    throw new BtError('BT_INCOMPLETE', EXIT.FAILURE, `backup ${show(target)} is incomplete: volumes are missing at ${url}`,
      ['an upload was interrupted, or volumes were removed; restore another backup', listHint])
  }
  const older = rows.filter((r) => r.time.getTime() < target.time.getTime() && isChain(chainOf(rows, r)))
  const alt = older[older.length - 1]
  throw new BtError('BT_BASE_MISSING', EXIT.FAILURE,
    `differential ${show(target)} cannot be restored: its full ${c.base} is not stored whole at ${url}`,
    [alt ? `the newest backup before it that can be restored is ${show(alt)}: restore it with --id ${alt.id}` :
      'no older backup of the set can be restored either', listHint])
}

/** A backup by its name, its id, or a prefix of its id (6 characters or more) that only it has. */
function byId(rows: StoredBackup[], id: string, set: string, listHint: string): StoredBackup {
  const exact = rows.filter((r) => r.id === id || r.name === id)
  if (exact.length === 1) return exact[0]!
  const prefixed = id.length >= 6 ? rows.filter((r) => r.id.startsWith(id)) : []
  if (prefixed.length === 1) return prefixed[0]!
  if (prefixed.length > 1) {
    throw new BtError('BT_AMBIGUOUS', EXIT.USAGE, `${JSON.stringify(id)} names ${prefixed.length} backups of set ${JSON.stringify(set)}: ` +
      prefixed.map((r) => r.name).join(', '), ['give more of the id'])
  }
  throw new BtError('BT_NO_BACKUP', EXIT.FAILURE, `set ${JSON.stringify(set)} has no backup ${JSON.stringify(id)}`,
    [`give a name or id as backtory list shows it (an id prefix needs 6 characters or more)`, listHint])
}
