// The journal of a restore: what the commit phase does, one step a line, in
// stream order. The plan writes it to a file in the stage (a restore may touch
// millions of paths) and fsyncs it before the marker points at it; the commit
// replays it, and a rerun after a kill replays it again from the top, so every
// step is written to be idempotent (see commit.ts).
import { closeSync, fsyncSync, openSync } from 'node:fs'
import { type EntryMeta } from '../format/frame.js'
import { LineReader } from '../state/lines.js'
import { writeAll } from '../sys/io.js'

export type Step =
  /** Make the directory (replacing what is in the way); owner and xattrs now, mode and times once left. */
  | { op: 'dir'; path: string; meta: EntryMeta }
  /**
   * Rename the staged object `stage` (a name in the stage) onto the path; `force` removes a non-empty directory in the way.
   * `in`: the region root whose stage holds it, for a path on another file system than the target's top (stage-dirs.ts).
   */
  | { op: 'place'; path: string; stage: string; force?: boolean; in?: string }
  /** Apply new metadata to the file already at the path. */
  | { op: 'meta'; path: string; meta: EntryMeta }
  /** Make the path a hard link to `target`, a regular file of the same stream; made in the stage of region `in`, as for 'place'. */
  | { op: 'link'; path: string; target: string; in?: string }
  /** Remove the path and everything below it. */
  | { op: 'delete'; path: string }

export const JOURNAL = 'journal'

// Metadata travels as JSON, xattr values as hex. No replacer or reviver:
// they cost a call per key, and most steps carry no metadata at all.
function toLine(s: Step): string {
  if (!('meta' in s) || s.meta.xattrs.length === 0) return JSON.stringify(s)
  return JSON.stringify({ ...s, meta: { ...s.meta, xattrs: s.meta.xattrs.map(([n, b]) => [n, b.toString('hex')]) } })
}

function fromLine(line: string): Step {
  const s = JSON.parse(line) as Step
  if ('meta' in s) s.meta.xattrs = (s.meta.xattrs as unknown as Array<[string, string]>).map(([n, h]) => [n, Buffer.from(h, 'hex')])
  return s
}

/** Appends steps, buffered: nothing reads the journal before it is closed. */
export class JournalWriter {
  private readonly fd: number
  private buf: string[] = []
  private size = 0

  constructor(path: string) {
    this.fd = openSync(path, 'wx', 0o600)
  }

  push(s: Step): void {
    const line = toLine(s)
    this.buf.push(line)
    this.size += line.length
    if (this.size > 1 << 16) this.flush()
  }

  private flush(): void {
    if (this.buf.length === 0) return
    writeAll(this.fd, Buffer.from(`${this.buf.join('\n')}\n`))
    this.buf = []
    this.size = 0
  }

  /** Writes out and syncs the journal: after this, a commit can be resumed from it. */
  close(): void {
    try {
      this.flush()
      fsyncSync(this.fd)
    } finally {
      closeSync(this.fd)
    }
  }

  /** Closes without caring for the content: the stage is being removed. */
  abandon(): void {
    closeSync(this.fd)
  }
}

export function* readJournal(path: string): Generator<Step> {
  const r = new LineReader(path)
  try {
    for (let line = r.next(); line !== undefined; line = r.next()) if (line !== '') yield fromLine(line)
  } finally {
    r.close()
  }
}
