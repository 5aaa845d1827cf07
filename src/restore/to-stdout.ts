// --to-stdout: one file's content. From a full, it is written out only once
// the frame after it has verified the chain over it; from a differential,
// built on the full's version in a base tree (diff-file.ts). The content
// waits in an unlinked temp file meanwhile, so memory stays flat whatever the
// file's size.
import { createReadStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { InputError, UsageError } from '../errors.js'
import { type Frame, type HeaderFrame } from '../format/frame.js'
import { fileOfDiff } from './diff-file.js'
import { notFile, notFound } from './extract-errors.js'
import { writeFile } from './fsops.js'
import { safeRelative } from './safe-path.js'

export interface ExtractOptions {
  /** A tree holding the full's version of the path: needed for a differential. */
  base?: string
  warn(m: string): void
}

export async function extractOne(frames: AsyncIterable<Frame>, path: string, out: Writable, o: ExtractOptions): Promise<void> {
  const it = frames[Symbol.asyncIterator]()
  const first = await it.next()
  if (first.done) throw notFound(path, 'not in the stream')
  const header = first.value as HeaderFrame
  const kind = header.info.stream
  if (kind === 'full') return fileOfFull(it, path, out, o.warn)
  if (kind !== 'diff') {
    throw new InputError('BT_STREAM_KIND', `--to-stdout reads files from a full or a differential; this is a ${JSON.stringify(kind)} stream`,
      kind === 'quick' ? 'a quick-checked scan is input for bt-delta, not a backup' : 'use a backtory version that knows this kind of stream')
  }
  if (o.base === undefined) {
    throw new UsageError('--to-stdout on a differential needs --base DIR, a tree holding the version of the path in the full it was made against',
      `restore the path from the full first: bt-restore TMP ${JSON.stringify(path)} < FULL; then bt-restore -O ${JSON.stringify(path)} --base TMP < DIFF`)
  }
  return fileOfDiff(it, header, path, o.base, out, o.warn)
}

async function fileOfFull(it: AsyncIterator<Frame>, path: string, out: Writable, warn: (m: string) => void): Promise<void> {
  const dir = mkdtempSync(`${tmpdir()}/bt-restore-`)
  const spool = `${dir}/content`
  let state: 'looking' | 'spooled' | 'done' = 'looking'
  try {
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const f = r.value
      if (state === 'spooled') {
        await pipeline(createReadStream(spool), out, { end: false })
        state = 'done'
      }
      if (f.kind === 'incomplete' && f.path === path) warn(`${JSON.stringify(path)} was incomplete when backed up (${f.reason})`)
      if (f.kind !== 'entry' || state !== 'looking' || safeRelative(f.meta.path) !== path) continue
      if (f.meta.type !== 'file') throw notFile(path, f.meta.type, f.meta.linkpath)
      await writeFile(spool, f, { bytes: 0 })
      state = 'spooled'
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  if (state !== 'done') throw notFound(path, 'not in the stream')
}
