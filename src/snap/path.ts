// --path DIR: no snapshot at all. The tree is scanned live, so files that change
// together (a database and its journal) may be caught at different moments.
import { realpathSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { IoError } from '../errors.js'
import { type Provider, type Snapshot, type Stale } from './provider.js'
import { SnapSourceError } from './errors.js'

export class PathProvider implements Provider {
  readonly kind = 'path'
  readonly source: string

  constructor(dir: string) {
    try {
      this.source = realpathSync(resolve(dir))
    } catch (err) {
      throw new IoError(`cannot scan ${JSON.stringify(dir)}`, err as NodeJS.ErrnoException)
    }
    if (!statSync(this.source).isDirectory()) throw new SnapSourceError(`${JSON.stringify(dir)} is not a directory`)
  }

  async take(): Promise<Snapshot> {
    return { path: this.source, id: '', skip: [] }
  }

  async release(): Promise<void> {
    // Nothing was taken.
  }

  async listStale(): Promise<Stale[]> {
    return []
  }
}
