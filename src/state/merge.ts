// The merge join of a tree in stream order with the full's index, which finds
// the paths of the full that the tree no longer has. bt-delta runs it over a
// full scan, bt-scan --state over its walk; both then write one deleted record
// per path gone (backtory-stream(5), BACKTORY.unlisted=unchanged). It holds
// one index line and one path, whatever the tree.
import { type EntryMeta, type EntryType } from '../format/frame.js'
import { type IndexEntry, type IndexReader } from './index.js'

/** `path` lies strictly inside directory `dir`. */
export function isBelow(dir: string, path: string): boolean {
  return dir === '.' ? path !== '.' : path.startsWith(`${dir}/`)
}

/** A deleted record: a zero-size regular file whose metadata means nothing. */
export function deletedMeta(path: string): EntryMeta {
  return { path, type: 'file', mode: 0, uid: 0, gid: 0, uname: '', gname: '', mtime: { sec: 0, nsec: 0 }, size: 0, xattrs: [], op: 'deleted' }
}

export class IndexMerge {
  /** The last path removed (deleted, or replaced by a non-directory): the index's entries below it need no record of their own. */
  private gone: string | undefined

  constructor(private readonly index: IndexReader) {}

  /**
   * The entries of the index before `path` (undefined: to the end) that the
   * tree did not list, in order, leaving out those below a path gone. Call it
   * before find(path); a caller that deletes an entry says so (markGone), so
   * that what lies below it is left out.
   */
  *missing(path: string | undefined): Generator<IndexEntry> {
    for (const e of this.index.before(path)) {
      if (this.gone !== undefined && isBelow(this.gone, e.path)) continue
      yield e
    }
  }

  /** The index's entry for `path`, which the tree now holds as a `type`. Calls come in stream order. */
  find(path: string, type: EntryType | undefined): IndexEntry | undefined {
    const base = this.index.find(path)
    // What replaces a directory of the full takes everything below it along.
    if (base?.type === 'directory' && type !== 'directory') this.gone = path
    return base
  }

  /** `path` is gone for a reason of the caller's (a deleted record it passes on, a file it could not read). */
  markGone(path: string): void {
    this.gone = path
  }
}
