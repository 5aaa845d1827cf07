// The stages of one run. A staged object is renamed into place, and a rename
// cannot cross file systems (EXDEV): a target with other file systems mounted
// below it (/boot, /var, /srv; btrfs subvolumes and ZFS datasets, each with
// its own st_dev) needs its objects built on theirs. So a run has one stage per
// file system the restored tree writes into: the one at the top of the target,
// which also holds the journal, and one under the same name at the top of each
// other region (tree-view.ts), made when the plan first stages an object there.
// The top stage lists the others in its file "stages", each line written and
// synced before its stage is made, so a run killed at any point leaves nothing
// that the next run cannot find (cleanup.ts). A target on one file system
// stages exactly as before: one stage at the top, no list.
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, rmSync } from 'node:fs'
import { nameToFs } from '../format/fsname.js'
import { removeStale } from './cleanup.js'
import { putTimesBack, writeAll } from './fsops.js'
import { STAGE_LIST } from './names.js'

/** Where a staged object is built (`tmp`), and how the journal names it: `stage` in the stage of region `in` (absent: the top one). */
export interface Slot {
  stage: string
  tmp: string
  in?: string
}

interface Made {
  dir: string
  count: number
  atimeNs: bigint
  mtimeNs: bigint
}

export class StageDirs {
  /** The region roots (relative to the target) that have a stage of this run, in the order they were made. */
  readonly roots: string[] = []
  private readonly made = new Map<string, Made>()
  private count = 0

  /** `top` is the stage at the top of `target` (made by the caller); `name` its name, which every stage of the run shares. */
  constructor(private readonly target: string, private readonly top: string, private readonly name: string,
    private readonly alive: (pid: number) => boolean) {}

  /** A new slot for an object that goes into the region rooted at `root` ("." for the target's own). */
  next(root: string): Slot {
    if (root === '.') {
      const n = this.count++
      // Staged objects go in subdirectories of 4096: a flat directory of millions slows every create.
      if ((n & 4095) === 0) mkdirSync(`${this.top}/${n >> 12}`)
      const stage = `${n >> 12}/${n & 4095}`
      return { stage, tmp: `${this.top}/${stage}` }
    }
    const m = this.made.get(root) ?? this.make(root)
    const n = m.count++
    if ((n & 4095) === 0) mkdirSync(nameToFs(`${m.dir}/${n >> 12}`))
    const stage = `${n >> 12}/${n & 4095}`
    return { stage, tmp: `${m.dir}/${stage}`, in: root }
  }

  /** The stages of other file systems, as the marker records them (relative to the target). */
  paths(): string[] {
    return this.roots.map((r) => `${r}/${this.name}`)
  }

  /** Removes the other file systems' stages and puts their regions' tops' times back (a refused restore). */
  removeAll(): void {
    for (const root of [...this.roots].reverse()) {
      const m = this.made.get(root)!
      rmSync(nameToFs(m.dir), { recursive: true, force: true })
      putTimesBack(`${this.target}/${root}`, m.atimeNs, m.mtimeNs)
    }
  }

  private make(root: string): Made {
    const top = `${this.target}/${root}`
    const st = lstatSync(nameToFs(top), { bigint: true })
    removeStale(top, this.name, this.alive)
    // Listed before it is made: a kill between the two leaves a name that matches nothing.
    const fd = openSync(`${this.top}/${STAGE_LIST}`, 'a', 0o600)
    try {
      writeAll(fd, Buffer.from(`${JSON.stringify(root)}\n`))
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    const dir = `${top}/${this.name}`
    mkdirSync(nameToFs(dir), { mode: 0o700 })
    const m = { dir, count: 0, atimeNs: st.atimeNs, mtimeNs: st.mtimeNs }
    this.made.set(root, m)
    this.roots.push(root)
    return m
  }
}
