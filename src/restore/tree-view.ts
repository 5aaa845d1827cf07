// The plan's view of the target as the commit will leave it, entry by entry:
// an entry is refused when a directory on its way is, or will have become by
// an earlier entry of the same stream, a symlink or not a directory. It reasons
// without touching the tree, so every refusal happens before anything moves.
//
// Memory stays small: the directories the stream is inside are a stack (a
// stream from bt-scan declares every directory before what it holds), and what
// each path was declared as is a compact table (path-kinds.ts); only paths off
// the stack are looked up there or in the tree.
//
// Each open directory also knows the file system region it is in (its
// st_dev, or its nearest existing ancestor's for one the commit will make),
// so that the plan stages what goes into it on the same file system.
import { lstatSync } from 'node:fs'
import { UnsafePathError, isErrno } from '../errors.js'
import { type EntryType } from '../format/frame.js'
import { nameToFs } from '../format/fsname.js'
import { type Kind, PathKinds } from './path-kinds.js'
import { isWithin } from './safe-path.js'

export type { Kind }

/** A file system's part of the target: the directory at its top (a mount point or subvolume root; "." for the target's own) and its st_dev. */
export interface Region {
  root: string
  dev: number
}

export interface OpenDir {
  rel: string
  /** The target holds a directory there now (what is in it may need replacing or deleting). */
  exists: boolean
  /** Declared by the stream (not a parent it left out). */
  declared: boolean
  /** Names the stream put in it (differentials only: what is not here is deleted). */
  seen?: Set<string>
  /** A directory of the stream that PATTERN left out: only the selected paths in it are swept. */
  outside?: boolean
  /** Where what is put in it lives: the region of the directory there now, or of its nearest existing ancestor. */
  region: Region
}

export function kindOf(type: EntryType): Kind {
  switch (type) {
    case 'directory': return 'dir'
    case 'file': case 'hardlink': return 'file'
    case 'symlink': return 'symlink'
    default: return 'other'
  }
}

export class TreeView {
  readonly stack: OpenDir[] = []
  private readonly declared = new PathKinds()

  /** `top` is the target's own region: its st_dev. */
  constructor(private readonly target: string, private readonly top: Region, private readonly onLeave: (d: OpenDir) => void) {}

  /** What the stream last declared at `rel`, if anything. */
  kindAt(rel: string): Kind | undefined {
    return this.declared.get(rel)
  }

  /** Leaves the directories that do not hold `rel`, and returns the innermost one that does. */
  leaveFor(rel: string): OpenDir | undefined {
    for (;;) {
      const top = this.stack[this.stack.length - 1]
      if (top === undefined || (isWithin(top.rel, rel) && top.rel !== rel)) return top
      this.onLeave(this.stack.pop()!)
    }
  }

  /**
   * Checks the directories on the way to `rel` and returns its parent's
   * record. `entry` names the stream entry in the error. Parents the stream
   * left out are checked in the target as it is, and kept on the stack.
   */
  parentOf(rel: string, entry: string): OpenDir {
    let top = this.leaveFor(rel)
    if (top === undefined) {
      // A stream without a root entry: the target itself is the root.
      top = { rel: '.', exists: true, declared: false, region: this.top }
      this.stack.push(top)
    }
    const parts = rel.split('/')
    const have = top.rel === '.' ? 0 : top.rel.split('/').length
    for (let i = have + 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/')
      const kind = this.kindAt(dir)
      if (kind === 'symlink') throw through(entry, dir)
      if (kind !== undefined && kind !== 'dir') throw notDir(entry, dir)
      let exists = false
      let region: Region = top.region
      try {
        const st = lstatSync(nameToFs(`${this.target}/${dir}`))
        exists = st.isDirectory()
        if (kind === undefined && st.isSymbolicLink()) throw through(entry, dir)
        if (kind === undefined && !exists) throw notDir(entry, dir)
        region = within(region, dir, exists ? st.dev : undefined)
      } catch (err) {
        if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err
      }
      top = { rel: dir, exists, declared: kind === 'dir', region }
      this.stack.push(top)
    }
    return top
  }

  /**
   * Checks, without entering them, the directories on the way to `rel` (the
   * target of a hard link): each must be, or become, a real directory.
   */
  checkWay(rel: string, entry: string): void {
    const parts = rel.split('/')
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/')
      const kind = this.kindAt(dir)
      if (kind === 'symlink') throw through(entry, dir)
      if (kind !== undefined && kind !== 'dir') throw notDir(entry, dir)
      if (kind === 'dir') continue
      try {
        const st = lstatSync(nameToFs(`${this.target}/${dir}`))
        if (st.isSymbolicLink()) throw through(entry, dir)
        if (!st.isDirectory()) throw notDir(entry, dir)
      } catch (err) {
        if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err
      }
    }
  }

  /**
   * Records what the stream puts at `rel`; a directory becomes the innermost
   * open one (`dev`: the st_dev of the directory the target holds there, if any).
   */
  declare(rel: string, kind: Kind, dev?: number, seen?: Set<string>): void {
    if (rel !== '.') this.declared.set(rel, kind)
    if (kind !== 'dir') return
    const region = rel === '.' ? this.top : within(this.stack[this.stack.length - 1]?.region ?? this.top, rel, dev)
    this.stack.push({ rel, exists: dev !== undefined, declared: true, seen, region })
  }

  /** Enters a directory of a differential that PATTERN left out and that the target holds, as a real directory. */
  enterOutside(rel: string): void {
    const region = rel === '.' ? this.top : within(this.stack[this.stack.length - 1]?.region ?? this.top, rel, lstatSync(nameToFs(`${this.target}/${rel}`)).dev)
    this.stack.push({ rel, exists: true, declared: false, seen: new Set(), outside: true, region })
  }

  /** Leaves every open directory, innermost first. */
  finish(): void {
    while (this.stack.length > 0) this.onLeave(this.stack.pop()!)
  }
}

/** The region of the directory `rel`, inside `up`'s: its own when the directory there has another st_dev. */
function within(up: Region, rel: string, dev: number | undefined): Region {
  return dev === undefined || dev === up.dev ? up : { root: rel, dev }
}

function through(entry: string, dir: string): UnsafePathError {
  return new UnsafePathError(entry, `it would be written through the symlink ${JSON.stringify(dir)}`)
}

function notDir(entry: string, dir: string): UnsafePathError {
  return new UnsafePathError(entry, `${JSON.stringify(dir)} is not a directory`)
}
