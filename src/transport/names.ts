// Object names are the catalog. A backup stored as N volumes is the objects
//   SET_TIME_KIND_ID[_BASE].VVVV-of-NNNN.sealed
// e.g. www_20261126T183211Z_diff_6f1c…_09ab….0001-of-0001.sealed, and it is
// complete exactly when all N of them exist. Everything a listing shows comes
// from the name, so there is no index file that two runs, or a crash halfway,
// could leave inconsistent. Uploads in flight are .bt-tmp.RUN.VVVV objects.
// An object of kind "index" (SET_TIME_index_ID, the set, time and id of its
// full) is not a backup: it holds the full's index for rebuilding a lost state
// directory (bt-put --index-key), so the catalog keeps it apart, in `indexes`,
// where no "latest backup" or id lookup can pick it. It belongs to the full
// with the same set and id, and goes when that full goes.
import { type RemoteObject } from './transport.js'

export interface BackupName {
  set: string
  /** Compact UTC time, YYYYMMDDTHHMMSSZ: sorts as it reads. */
  time: string
  kind: string
  id: string
  base?: string
}

const SET = '[A-Za-z0-9][A-Za-z0-9._-]{0,63}'
const ID = '[A-Za-z0-9-]{1,64}'
const VOLUME_RE = new RegExp(`^(${SET})_(\\d{8}T\\d{6}Z)_([a-z]{1,16})_(${ID})(?:_(${ID}))?\\.(\\d{4,})-of-(\\d{4,})\\.sealed$`)
export const TEMP_PREFIX = '.bt-tmp.'

/** The compact form of an ISO-8601 time as bt-scan writes it (sub-seconds dropped). */
export function compactTime(iso: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/.exec(iso)
  return m ? `${m[1]}${m[2]}${m[3]}T${m[4]}${m[5]}${m[6]}Z` : undefined
}

export function isoTime(compact: string): string {
  return `${compact.slice(0, 4)}-${compact.slice(4, 6)}-${compact.slice(6, 8)}T${compact.slice(9, 11)}:${compact.slice(11, 13)}:${compact.slice(13, 15)}Z`
}

export function backupName(b: BackupName): string {
  return `${b.set}_${b.time}_${b.kind}_${b.id}${b.base !== undefined ? `_${b.base}` : ''}`
}

/** Whether the fields can be carried in a name that parses back to them. */
export function nameable(b: BackupName): boolean {
  return VOLUME_RE.test(volumeName(backupName(b), 1, 1))
}

function pad(n: number): string {
  return String(n).padStart(4, '0')
}

export function volumeName(backup: string, vol: number, of: number): string {
  return `${backup}.${pad(vol)}-of-${pad(of)}.sealed`
}

export function tempName(run: string, vol: number): string {
  return `${TEMP_PREFIX}${run}.${pad(vol)}`
}

export interface Backup extends BackupName {
  name: string
  /** Volumes present, by number; a complete backup has 1..count. */
  volumes: RemoteObject[]
  count: number
  complete: boolean
  size: number
  /** Newest modification among its volumes, when the server reports times. */
  mtime?: Date
}

/** The kind of the objects that hold a full's index (index-export.ts). */
export const INDEX_KIND = 'index'

export interface Catalog {
  /** Everything but index objects. */
  backups: Backup[]
  /** Index objects, each paired with the full of the same set and id (indexOf). */
  indexes: Backup[]
  /** Upload temporaries (.bt-tmp.*): in flight, or left by a crash. */
  temporaries: RemoteObject[]
  /** Objects that are not backtory's. */
  others: RemoteObject[]
}

/** Groups a directory listing into backups, oldest first; damaged or partial sets are marked incomplete. */
export function catalog(objects: RemoteObject[]): Catalog {
  const byName = new Map<string, { b: BackupName; count: number; vols: Map<number, RemoteObject>; bad: boolean }>()
  const temporaries: RemoteObject[] = []
  const others: RemoteObject[] = []
  for (const o of objects) {
    if (o.name.startsWith(TEMP_PREFIX)) {
      temporaries.push(o)
      continue
    }
    const m = VOLUME_RE.exec(o.name)
    if (!m) {
      others.push(o)
      continue
    }
    const [, set, time, kind, id, base, vol, of] = m
    const b: BackupName = { set: set!, time: time!, kind: kind!, id: id!, ...(base !== undefined ? { base } : {}) }
    const key = backupName(b)
    let g = byName.get(key)
    if (!g) byName.set(key, (g = { b, count: Number(of), vols: new Map(), bad: false }))
    // Volumes that disagree on the count belong to no consistent backup.
    if (Number(of) !== g.count || Number(vol) < 1 || Number(vol) > Number(of)) g.bad = true
    g.vols.set(Number(vol), o)
  }
  const backups: Backup[] = []
  for (const [name, g] of byName) {
    const volumes = [...g.vols.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1])
    const complete = !g.bad && volumes.length === g.count
    const times = volumes.map((v) => v.mtime?.getTime()).filter((t): t is number => t !== undefined)
    backups.push({
      ...g.b, name, volumes, count: g.count, complete, size: volumes.reduce((s, v) => s + v.size, 0),
      ...(times.length ? { mtime: new Date(Math.max(...times)) } : {}),
    })
  }
  backups.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { backups: backups.filter((b) => b.kind !== INDEX_KIND), indexes: backups.filter((b) => b.kind === INDEX_KIND), temporaries, others }
}

/** The index object of `full` in `c` (complete or not), if any: same set, same id. */
export function indexOf(c: Catalog, full: BackupName): Backup | undefined {
  return c.indexes.find((x) => x.set === full.set && x.id === full.id)
}
