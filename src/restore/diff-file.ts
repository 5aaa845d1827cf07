// --to-stdout on a differential: one file's content as of the differential's
// day, built on the full's version of it in a base tree (made by restoring
// that path from the full; only read here). The whole stream is read and
// verified before a byte is written: whether the path was deleted (by its own
// record, or by an ancestor that went or stopped being a directory) or left
// unchanged is known only at its end. Built content waits in a temporary
// file meanwhile, so memory stays flat whatever the file's size.
import { createReadStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { BtError, EXIT, InputError } from '../errors.js'
import { type Frame, type HeaderFrame } from '../format/frame.js'
import { baseFile, buildContent, copyVerified } from './base.js'
import { notFile, notFound } from './extract-errors.js'
import { writeFile } from './fsops.js'
import { readMarker } from './marker.js'
import { isWithin, safeRelative } from './safe-path.js'
import { selector } from './select.js'

type Fate = 'unlisted' | 'built' | 'base' | 'deleted'

export async function fileOfDiff(it: AsyncIterator<Frame>, header: HeaderFrame, path: string, base: string, out: Writable,
  warn: (m: string) => void): Promise<void> {
  const full = header.info.base ?? ''
  checkBaseTree(base, full, path)
  const restoreHint = (p: string) => `restore it from full ${full} into the base tree first: bt-restore ${JSON.stringify(base)} ${JSON.stringify(p)} < FULL`
  const dir = mkdtempSync(`${tmpdir()}/bt-restore-`)
  const spool = `${dir}/content`
  let fate: Fate = 'unlisted'
  let sha256: string | undefined
  try {
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const f = r.value
      if (f.kind === 'incomplete' && f.path === path) warn(`${JSON.stringify(path)} was incomplete when backed up (${f.reason})`)
      if (f.kind !== 'entry') continue
      const m = f.meta
      const rel = safeRelative(m.path)
      if (rel !== path) {
        // An ancestor: deleted, or no longer a directory, it takes the path with it; a directory there brings it back into question.
        if (rel !== '.' && isWithin(rel, path)) fate = m.op === 'deleted' || m.type !== 'directory' ? 'deleted' : fate === 'deleted' ? 'unlisted' : fate
        continue
      }
      rmSync(spool, { force: true })
      if (m.op === 'deleted') fate = 'deleted'
      else if (m.type !== 'file') throw notFile(path, m.type, m.linkpath)
      else if (m.op === undefined) fate = (await writeFile(spool, f, { bytes: 0 }), 'built')
      else fate = await buildContent(f, rel, base, spool, { bytes: 0 }, restoreHint)
      sha256 = m.sha256
    }
    // A differential that lists every path says, by leaving it out, that it is gone; a compact one, that it is unchanged.
    if (fate === 'unlisted') fate = header.info.unlisted === 'unchanged' ? 'base' : 'deleted'
    if (fate === 'deleted') throw deleted(base, path, header.info.id)
    if (fate === 'base') {
      let abs: string
      try {
        abs = baseFile(base, path, 'unchanged since the full')
      } catch (err) {
        if (err instanceof BtError && err.code === 'BT_BASE_MISSING') throw notFound(path, 'neither in the differential nor in the base tree of its full')
        throw err
      }
      if (sha256 === undefined) return await pipeline(createReadStream(abs), out, { end: false })
      copyVerified(abs, spool, sha256, JSON.stringify(path))
    }
    await pipeline(createReadStream(spool), out, { end: false })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The base tree must hold the full the differential was made against, and the path (if the full has it). */
function checkBaseTree(base: string, full: string, path: string): void {
  const m = readMarker(base)
  const hint = `restore the path from that full first: bt-restore ${JSON.stringify(base)} ${JSON.stringify(path)} < FULL`
  if (!m || m.pending || m.full !== full || m.diff !== null) {
    const holds = !m ? 'holds no restored full' : m.pending ? `holds an unfinished restore of ${m.pending.kind} ${m.pending.id}`
      : m.diff !== null ? `holds differential ${m.diff} on top of full ${m.full}` : `holds full ${m.full}`
    throw new InputError('BT_WRONG_BASE', `this differential needs full ${full}, but the base tree ${JSON.stringify(base)} ${holds}`, hint)
  }
  if (m.paths && !selector(m.paths)!(path)) {
    throw new InputError('BT_BASE_MISSING', `the base tree ${JSON.stringify(base)} holds only the paths ${m.paths.map((p) => JSON.stringify(p)).join(' ')} of full ${full}, not ${JSON.stringify(path)}`, hint)
  }
}

function deleted(base: string, path: string, id: string): BtError {
  let inFull = true
  try {
    baseFile(base, path, 'deleted')
  } catch {
    inFull = false // not a regular file of the full either: simply not there
  }
  if (!inFull) return notFound(path, 'not in the tree of this differential')
  return new BtError('BT_DELETED', EXIT.FAILURE, `${JSON.stringify(path)} is deleted in this differential (${id})`,
    ['it was in the full: read that version from the full with bt-restore -O PATH < FULL'])
}
