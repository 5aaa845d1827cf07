// --zfs DATASET [--recursive]: `zfs snapshot` (-r: atomically, with every child
// file system), read where OpenZFS shows it, DATASET/.zfs/snapshot/NAME, or
// else (zfs-fuse has no .zfs; -r needs the children in place) through a
// read-only clone POOL/NAME mounted on a fresh temporary directory; then
// the clone and the snapshot are destroyed.
import { existsSync, rmdirSync, statSync } from 'node:fs'
import { basename } from 'node:path'
import { IoError, isErrno } from '../errors.js'
import { must, rows } from './exec.js'
import { SnapCommandError, SnapSourceError } from './errors.js'
import { isOurs, mountPoint, type Provider, type SnapHost, type Snapshot, type Stale, Undo } from './provider.js'

/** zfs-fuse answers "dataset is busy" for a moment after the last reader has gone. */
const BUSY = /busy/i
const DATASET_RE = /^[A-Za-z0-9][A-Za-z0-9_.:-]*(\/[A-Za-z0-9_.:-]+)*$/

export function badDatasetName(ds: string): string | undefined {
  return DATASET_RE.test(ds) ? undefined : `${JSON.stringify(ds)} is not a ZFS file system name (POOL/PATH, no "@" or trailing "/")`
}

export class ZfsProvider implements Provider {
  readonly kind = 'zfs'
  private readonly pool: string
  private readonly undo = new Undo()

  constructor(readonly source: string, private readonly recursive: boolean, private readonly host: SnapHost) {
    this.pool = source.split('/')[0]!
  }

  private zfs(args: string[], retryBusy = false): Promise<string> {
    return must(this.host.run, ['zfs', ...args], retryBusy ? { retryOn: BUSY, retries: 8 } : {})
  }

  /** The dataset's mount point and whether it is mounted; a clear error when it is no file system. */
  private async where(): Promise<{ mountpoint: string; mounted: boolean }> {
    let out: string
    try {
      out = await this.zfs(['list', '-H', '-o', 'name,mountpoint,mounted', '-t', 'filesystem', this.source])
    } catch (err) {
      if (!(err instanceof SnapCommandError) || err.stderr === '') throw err
      throw new SnapSourceError(`no ZFS file system ${JSON.stringify(this.source)}: ${err.stderr.trim().split('\n').pop()}`,
        'list them with "zfs list -t filesystem"; is the ZFS daemon or module loaded?')
    }
    const [, mountpoint = '', mounted = ''] = rows(out)[0] ?? []
    return { mountpoint, mounted: mounted === 'yes' }
  }

  async take(name: string): Promise<Snapshot> {
    const { mountpoint, mounted } = await this.where()
    const snap = `${this.source}@${name}`
    const r = this.recursive ? ['-r'] : []
    await this.zfs(['snapshot', ...r, snap])
    this.undo.push(`the ZFS snapshot ${snap}${this.recursive ? ' (recursive)' : ''}`, async () => {
      await this.zfs(['destroy', ...r, snap], true)
    })
    // OpenZFS: every snapshot is readable in place. Its children are not in it, so -r takes the clone route.
    const snapdir = `${mountpoint}/.zfs/snapshot`
    if (!this.recursive && mounted && mountpoint.startsWith('/') && existsSync(snapdir)) {
      const path = `${snapdir}/${name}`
      try {
        if (statSync(path).isDirectory()) return { path, id: snap, skip: [] } // the stat mounts it
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw new IoError(`cannot read the snapshot at ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
      }
    }
    return { path: await this.cloneOf(name), id: snap, skip: [] }
  }

  /** Clones NAME (and with -r each child's NAME) read-only to POOL/NAME, mounted on a temporary directory. */
  private async cloneOf(name: string): Promise<string> {
    const mnt = mountPoint(this.host, name, this.undo)
    const clone = `${this.pool}/${name}`
    // zfs-fuse loses extended attributes on a readonly=on file system (listxattr fails with
    // EOPNOTSUPP for good once an object without any is asked): there the clone stays
    // writable, in a directory only root can enter, and nothing writes to it.
    const fuse = this.host.mounts().some(([src, , type]) => type === 'fuse.zfs' && (src === this.pool || src.startsWith(`${this.pool}/`)))
    const datasets = this.recursive
      ? rows(await this.zfs(['list', '-H', '-o', 'name', '-r', '-t', 'filesystem', this.source])).map(([n]) => n!)
        .sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1))
      : [this.source]
    for (const ds of datasets) {
      const rel = ds === this.source ? '' : ds.slice(this.source.length + 1)
      const target = rel ? `${clone}/${rel}` : clone
      await this.zfs(['clone', ...(fuse ? ['-o', 'atime=off'] : ['-o', 'readonly=on']), '-o', `mountpoint=${rel ? `${mnt}/${rel}` : mnt}`, `${ds}@${name}`, target])
      if (!rel) this.undo.push(`the ZFS clone ${clone}`, async () => void await this.zfs(['destroy', '-r', clone], true))
      const [[mounted] = []] = rows(await this.zfs(['get', '-H', '-o', 'value', 'mounted', target]))
      if (mounted !== 'yes') await this.zfs(['mount', target])
    }
    return mnt
  }

  async release(): Promise<void> {
    await this.undo.run()
  }

  async listStale(set: string): Promise<Stale[]> {
    await this.where()
    const stale: Stale[] = []
    // Clones first: a snapshot with a clone cannot be destroyed.
    const fs = rows(await this.zfs(['list', '-H', '-o', 'name,origin', '-t', 'filesystem', '-d', '1', this.pool]))
    for (const [clone = '', origin = ''] of fs) {
      const name = clone.slice(this.pool.length + 1)
      if (!isOurs(name, set) || origin !== `${this.source}@${name}`) continue
      stale.push({
        what: `ZFS clone ${clone}`,
        remove: async () => {
          const [[mnt = ''] = []] = rows(await this.zfs(['get', '-H', '-o', 'value', 'mountpoint', clone]))
          await this.zfs(['destroy', '-r', clone], true)
          // Only the temporary directory bt-snap made for it, never a mount point someone set.
          if (mnt.startsWith(`${this.host.tmpdir}/`) && basename(mnt).startsWith(`${name}-`)) {
            try {
              rmdirSync(mnt)
            } catch (err) {
              if (!isErrno(err, 'ENOENT')) throw err
            }
          }
        },
      })
    }
    const snaps = rows(await this.zfs(['list', '-H', '-o', 'name', '-t', 'snapshot', '-d', '1', this.source]))
    for (const [snap = ''] of snaps) {
      if (!isOurs(snap.slice(this.source.length + 1), set)) continue
      stale.push({ what: `ZFS snapshot ${snap}`, remove: async () => void await this.zfs(['destroy', '-r', snap], true) })
    }
    return stale
  }
}
