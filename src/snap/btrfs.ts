// --btrfs SUBVOL: a read-only snapshot subvolume, made inside SUBVOL in the
// directory .backtory-snapshots (as snapper keeps .snapshots), so it is on the
// same file system whatever SUBVOL is; deleted at the end.
import { mkdirSync, readdirSync, realpathSync, rmdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { IoError, isErrno } from '../errors.js'
import { must } from './exec.js'
import { SnapCommandError, SnapSourceError } from './errors.js'
import { isOurs, type Provider, type SnapHost, type Snapshot, type Stale, Undo } from './provider.js'

export const BTRFS_SNAPSHOT_DIR = '.backtory-snapshots'

export class BtrfsProvider implements Provider {
  readonly kind = 'btrfs'
  readonly source: string
  private readonly undo = new Undo()

  constructor(subvol: string, private readonly host: SnapHost) {
    try {
      this.source = realpathSync(resolve(subvol))
    } catch (err) {
      throw new IoError(`cannot snapshot ${JSON.stringify(subvol)}`, err as NodeJS.ErrnoException)
    }
  }

  private get dir(): string {
    return `${this.source}/${BTRFS_SNAPSHOT_DIR}`
  }

  private async check(): Promise<void> {
    try {
      await must(this.host.run, ['btrfs', 'subvolume', 'show', this.source])
    } catch (err) {
      if (!(err instanceof SnapCommandError) || err.stderr === '') throw err
      throw new SnapSourceError(`${JSON.stringify(this.source)} is not a btrfs subvolume`,
        'give the path of a subvolume (btrfs subvolume list MOUNTPOINT), or use --path for a plain directory')
    }
  }

  async take(name: string): Promise<Snapshot> {
    await this.check()
    try {
      mkdirSync(this.dir, { mode: 0o700 })
      this.undo.push(`the directory ${JSON.stringify(this.dir)}`, async () => this.removeDirIfEmpty())
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw new IoError(`cannot create ${JSON.stringify(this.dir)}`, err as NodeJS.ErrnoException)
    }
    const path = `${this.dir}/${name}`
    await must(this.host.run, ['btrfs', 'subvolume', 'snapshot', '-r', this.source, path])
    this.undo.push(`the btrfs snapshot ${JSON.stringify(path)}`, () => this.delete(path))
    // Inside the snapshot the snapshot directory is there too, holding empty stand-ins of nested subvolumes.
    return { path, id: path, skip: [`${path}/${BTRFS_SNAPSHOT_DIR}`] }
  }

  private async delete(path: string): Promise<void> {
    await must(this.host.run, ['btrfs', 'subvolume', 'delete', path])
  }

  private removeDirIfEmpty(): void {
    try {
      rmdirSync(this.dir)
    } catch (err) {
      // Another set's snapshot (or the admin's file) is still in it: it stays.
      if (!isErrno(err, 'ENOTEMPTY', 'EEXIST', 'ENOENT')) throw err
    }
  }

  async release(): Promise<void> {
    await this.undo.run()
  }

  async listStale(set: string): Promise<Stale[]> {
    await this.check()
    let names: string[]
    try {
      names = readdirSync(this.dir)
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return []
      throw new IoError(`cannot list ${JSON.stringify(this.dir)}`, err as NodeJS.ErrnoException)
    }
    return names.filter((n) => isOurs(n, set)).sort().map((n) => {
      const path = `${this.dir}/${n}`
      return {
        what: `btrfs snapshot ${JSON.stringify(path)}`,
        remove: async () => {
          await this.delete(path)
          this.removeDirIfEmpty()
        },
      }
    })
  }
}
