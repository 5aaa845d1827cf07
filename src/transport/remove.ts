// bt-rm's engine: removes whole backups through any transport, in an order
// that never leaves a listing that lies. A backup is complete exactly when all
// its volumes exist (names.ts), so removing volume 0001 first turns it
// INCOMPLETE at once: a removal cut anywhere leaves it listed incomplete
// (never complete with parts missing), and running bt-rm again finishes it.
// Differentials go before the fulls they are based on, and a full is refused
// while a complete differential based on it stays in the store: removing it
// would leave a listed differential that cannot be restored.
import { BtError, EXIT, UsageError } from '../errors.js'
import { type Backup, type Catalog, catalog, volumeName } from './names.js'
import { type Transport } from './transport.js'

export interface RemovalPlan {
  /** In removal order: differentials (and other kinds) first, then fulls, each oldest first. */
  backups: Backup[]
  /** Names asked for that are not stored (only with ignoreMissing). */
  missing: string[]
  /** Complete differentials left behind without their full (only with force). */
  orphaned: Backup[]
}

export interface PlanOptions {
  /** Remove a full even though complete differentials based on it stay. */
  force: boolean
  /** A name that is not stored (an earlier run removed it) is skipped, not an error. */
  ignoreMissing: boolean
  /** The store, for messages. */
  where: string
}

/** Whether `name` has the form of a backup name (SET_TIME_KIND_ID[_BASE], no volume suffix). */
export const VOLUME_SUFFIX = /\.\d{4,}-of-\d{4,}\.sealed$/

export function isBackupName(name: string): boolean {
  const c = catalog([{ name: volumeName(name, 1, 1), size: 0 }])
  return c.backups.length + c.indexes.length === 1
}

/** A full's index objects (kind "index", stored beside it): they go with it. */
function indexesOf(c: Catalog, full: Backup): Backup[] {
  return c.indexes.filter((b) => b.set === full.set && (b.id === full.id || b.base === full.id))
}

export class BaseInUseError extends BtError {
  constructor(full: Backup, diffs: Backup[]) {
    super('BT_BASE_IN_USE', EXIT.FAILURE,
      `refusing to remove full ${full.name}: ${diffs.length} complete differential${diffs.length === 1 ? ' is' : 's are'} based on it and would become unrestorable: ` +
      diffs.map((d) => d.name).join(', '),
      ['name those differentials too (they are removed first), or give --force to remove the full anyway'])
  }
}

/** What removing `names` from the store listed in `c` means, checked whole before anything is removed. */
export function planRemoval(c: Catalog, names: string[], o: PlanOptions): RemovalPlan {
  // The catalog keeps index objects apart; an index object may be named on its own too.
  const byName = new Map([...c.backups, ...c.indexes].map((b) => [b.name, b]))
  const bad = names.filter((n) => !isBackupName(n))
  if (bad.length) {
    const volume = bad.find((n) => VOLUME_SUFFIX.test(n))
    throw new UsageError(`${bad.map((n) => JSON.stringify(n)).join(', ')} ${bad.length === 1 ? 'is not a backup name' : 'are not backup names'}`,
      volume ? 'name the backup, not a volume: leave out the ".VVVV-of-NNNN.sealed" suffix (bt-rm removes every volume)'
        : 'a backup name is SET_TIME_KIND_ID[_BASE], as bt-ls URL prints it in its last column')
  }
  const missing = [...new Set(names.filter((n) => !byName.has(n)))]
  if (missing.length && !o.ignoreMissing) {
    throw new BtError('BT_REMOTE_NOT_FOUND', EXIT.FAILURE, `no backup named ${missing.map((n) => JSON.stringify(n)).join(', ')} is stored in ${o.where}; nothing was removed`,
      ['list what is stored with bt-ls --all URL; if an earlier bt-rm already removed it, leave it out or give --ignore-missing'])
  }
  const chosen = new Map<string, Backup>()
  for (const n of names) {
    const b = byName.get(n)
    if (b === undefined) continue
    chosen.set(b.name, b)
    if (b.kind === 'full') for (const i of indexesOf(c, b)) chosen.set(i.name, i)
  }
  const orphaned: Backup[] = []
  for (const full of [...chosen.values()].filter((b) => b.kind === 'full' && b.complete)) {
    // Only a complete full makes its differentials restorable; an incomplete one (a cut removal) is finished freely.
    const staying = c.backups.filter((d) => d.base === full.id && d.kind !== 'index' && d.complete && !chosen.has(d.name))
    if (staying.length === 0) continue
    if (!o.force) throw new BaseInUseError(full, staying)
    orphaned.push(...staying)
  }
  // Index objects go just before their full: a state rebuilt from them never points at a full on its way out.
  const rank = (b: Backup) => (b.kind === 'full' ? 2 : b.kind === 'index' ? 1 : 0)
  const backups = [...chosen.values()].sort((a, b) => rank(a) - rank(b) || (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
  return { backups, missing, orphaned }
}

export interface RemoveOptions {
  /** Called before each object is removed, with its 1-based count in this run (test hooks). */
  beforeObject?: (n: number, name: string) => void
  /** Called once every volume of a backup is gone. */
  removed?: (b: Backup) => void | Promise<void>
}

export interface RemoveResult {
  /** Objects removed. */
  objects: number
  removed: Backup[]
  /** Backups the store refused to remove before any of their objects went (BT_LOCKED: under retention), with the store's reason. */
  locked: Array<{ backup: Backup; reason: BtError }>
  /** Fulls left in place because a differential based on them is locked. */
  held: Backup[]
}

/** An object store's retention (S3 Object Lock) refuses the removal: the backup stays until it passes. */
function isLocked(err: unknown): err is BtError {
  return err instanceof BtError && err.code === 'BT_LOCKED'
}

/**
 * Removes the plan's backups in its order, each volume 0001 first; stops at
 * the first failure (the transport already retried what a reconnect cures),
 * so a full is never touched after one of its differentials could not go.
 * A backup under retention is the exception: refused before any of its
 * objects went, it is skipped, and so is the full it is based on.
 */
export async function removeBackups(tx: Transport, plan: RemovalPlan, o: RemoveOptions = {}): Promise<RemoveResult> {
  const r: RemoveResult = { objects: 0, removed: [], locked: [], held: [] }
  for (const b of plan.backups) {
    // A full (or its index) stays while a differential based on it could not go.
    const fullId = b.kind === 'full' ? b.id : b.kind === 'index' ? [b.id, b.base] : undefined
    if (fullId !== undefined && r.locked.some((l) => l.backup.base !== undefined && [fullId].flat().includes(l.backup.base))) {
      r.held.push(b)
      continue
    }
    // catalog() lists volumes by number, so the first still present goes first.
    let gone = 0
    try {
      for (const v of b.volumes) {
        o.beforeObject?.(r.objects + 1, v.name)
        await tx.remove(v.name)
        r.objects++
        gone++
      }
    } catch (err) {
      if (isLocked(err) && gone === 0) {
        r.locked.push({ backup: b, reason: err })
        continue
      }
      if (gone > 0 && err instanceof BtError) {
        throw new BtError(err.code, err.exit, `${err.message} (backup ${b.name} is now incomplete: ${gone} of its volumes removed)`,
          [...err.hints, 'run the same bt-rm again to finish it'], err)
      }
      throw err
    }
    r.removed.push(b)
    await o.removed?.(b)
  }
  return r
}
