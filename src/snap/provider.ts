// The one small interface every snapshot kind implements (take, release, list
// stale), the naming scheme that marks a snapshot as backtory's, and the undo
// stack that makes release exact even after a half-finished take.
import { mkdtempSync, readFileSync, rmdirSync } from 'node:fs'
import { IoError } from '../errors.js'
import { type Runner } from './exec.js'
import { ReleaseError } from './errors.js'

export type ProviderKind = 'zfs' | 'btrfs' | 'lvm' | 'path'

export interface Snapshot {
  /** The directory to scan: a read-only view of the snapshot. */
  path: string
  /** What was taken, for BT_SNAPSHOT: "tank/www@backtory-…", a subvolume path, "vg/backtory-…"; "" for --path. */
  id: string
  /** Absolute paths under `path` never to scan (btrfs: the snapshot directory inside the subvolume). */
  skip: string[]
}

/** A snapshot of ours left behind by a run that crashed, and how to remove it. */
export interface Stale {
  /** Human-readable: what will be removed (a snapshot, its clone, its mount). */
  what: string
  remove(): Promise<void>
}

export interface Provider {
  readonly kind: ProviderKind
  /** The live dataset, subvolume, VG/LV or directory: the stream's default source. */
  readonly source: string
  /**
   * Takes snapshot `name` and makes it readable. Everything it creates, even
   * when it fails half-way, is registered for release() first.
   */
  take(name: string): Promise<Snapshot>
  /** Removes what take() made, last made first, trying every step; safe to call twice. */
  release(): Promise<void>
  /** backtory's own snapshots of this source and set (never anyone else's), for --cleanup. */
  listStale(set: string): Promise<Stale[]>
}

/** What a provider may use of the system: injectable, so tests can record commands. */
export interface SnapHost {
  run: Runner
  /** Parent of the temporary mount points (one fresh directory per snapshot). */
  tmpdir: string
  /** The mount table: [device or dataset, mount point, fs type] per line. */
  mounts(): Array<[string, string, string]>
}

// ---- naming ----------------------------------------------------------------

export const NAME_PREFIX = 'backtory-'
const SET_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const NAME_RE = /^backtory-([A-Za-z0-9][A-Za-z0-9_.-]{0,63})-(\d{8}T\d{6}Z)$/

/** Why `set` cannot name snapshots, or undefined when it can. */
export function badSetName(set: string): string | undefined {
  return SET_RE.test(set) ? undefined : 'a set name is 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit'
}

/** backtory-<set>-<YYYYMMDDTHHMMSSZ>, the time in UTC to the second: valid for ZFS, btrfs and LVM alike. */
export function snapshotName(set: string, when: Date): string {
  const t = when.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  return `${NAME_PREFIX}${set}-${t}`
}

/** The set and time of one of our names; undefined for every other name. */
export function parseSnapshotName(name: string): { set: string; time: string } | undefined {
  const m = NAME_RE.exec(name)
  return m ? { set: m[1]!, time: m[2]! } : undefined
}

export function isOurs(name: string, set: string): boolean {
  return parseSnapshotName(name)?.set === set
}

// ---- release ---------------------------------------------------------------

/** What a take has made so far, as undo steps; run() removes it all, last first. */
export class Undo {
  private steps: Array<{ what: string; fn: () => Promise<void> }> = []

  push(what: string, fn: () => Promise<void>): void {
    this.steps.push({ what, fn })
  }

  get empty(): boolean {
    return this.steps.length === 0
  }

  async run(): Promise<void> {
    const failed: string[] = []
    let first: unknown
    while (this.steps.length > 0) {
      const step = this.steps.pop()!
      try {
        await step.fn()
      } catch (err) {
        failed.push(step.what)
        first ??= err
      }
    }
    if (failed.length > 0) throw new ReleaseError(failed, first)
  }
}

/** A fresh, empty temporary directory to mount snapshot `name` on, removed by `undo`. */
export function mountPoint(host: SnapHost, name: string, undo: Undo): string {
  let mnt: string
  try {
    mnt = mkdtempSync(`${host.tmpdir}/${name}-`)
  } catch (err) {
    throw new IoError(`cannot create a mount point in ${JSON.stringify(host.tmpdir)}`, err as NodeJS.ErrnoException)
  }
  undo.push(`the mount point ${JSON.stringify(mnt)}`, async () => rmdirSync(mnt))
  return mnt
}

// ---- the mount table -------------------------------------------------------

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))

export function procMounts(): Array<[string, string, string]> {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').filter(Boolean)
    .map((l) => l.split(' ')).map((f) => [unescape(f[0]!), unescape(f[1]!), f[2]!])
}
