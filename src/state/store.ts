// The state directory: one generation per full (gen-<id>-<rand>/ with
// index.jsonl, sigs.bin, full.json) and two symlinks switched by rename, so a
// crash at any point leaves either the old link or the new one:
//   current  the index of a full that is stored whole: differentials are made
//            against it, and bt-scan --state quick-checks against it;
//   pending  the index of the newest full bt-delta made, which no store has
//            confirmed yet. bt-put --state (or bt-delta --confirm) renames it
//            to current once the full is stored whole. Until then nothing is
//            made against it, so no differential ever names a base that a
//            failed upload left out of the store.
import { randomBytes } from 'node:crypto'
import {
  closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync,
  unlinkSync, writeFileSync,
} from 'node:fs'
import { BtError, EXIT, isErrno } from '../errors.js'
import { mkdirs } from '../sys/mkdirs.js'
import { stateIoError } from './errors.js'
import { IndexReader, IndexWriter } from './index.js'
import { tryLock } from './lock.js'

export interface FullInfo {
  /** The full stream's id. */
  id: string
  /** Digest of its index (index lines + signatures). */
  index: string
  /** Size of the full stream in bytes, for the summary's percentage. */
  bytes: number
  time: string
  entries: number
}

export interface State {
  dir: string
  gen: string
  full: FullInfo
}

export type Link = 'current' | 'pending'

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

function damaged(dir: string, detail: string): BtError {
  return new BtError('BT_STATE', EXIT.FAILURE, `the state directory ${JSON.stringify(dir)} is damaged: ${detail}`,
    ['rebuild it from the stored full: bt-delta --state DIR --rebuild-from FULL'])
}

function readLink(dir: string, link: Link): State | undefined {
  let target: string
  try {
    target = readlinkSync(`${dir}/${link}`)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined
    throw stateIoError('read', dir, dir, err)
  }
  const gen = `${dir}/${target}`
  let text: string
  try {
    text = readFileSync(`${gen}/full.json`, 'utf8')
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) throw damaged(dir, `"${link}" names ${JSON.stringify(target)}, which holds no full.json`)
    throw stateIoError('read', `${gen}/full.json`, dir, err)
  }
  try {
    return { dir, gen, full: JSON.parse(text) as FullInfo }
  } catch (err) {
    throw damaged(dir, `${target}/full.json: ${(err as Error).message}`)
  }
}

/** The confirmed generation (a full stored whole), or undefined when there is none. */
export function readState(dir: string): State | undefined {
  return readLink(dir, 'current')
}

/** The newest full's index, made by bt-delta and not yet confirmed stored. */
export function readPending(dir: string): State | undefined {
  return readLink(dir, 'pending')
}

export function openIndex(s: State): IndexReader {
  return new IndexReader(`${s.gen}/index.jsonl`, `${s.gen}/sigs.bin`, s.dir)
}

function setLink(dir: string, link: Link, name: string): void {
  const tmp = `${dir}/.${link}.tmp-${randomBytes(4).toString('hex')}`
  symlinkSync(name, tmp)
  renameSync(tmp, `${dir}/${link}`)
  fsyncDir(dir)
}

function target(dir: string, link: Link): string | undefined {
  try {
    return readlinkSync(`${dir}/${link}`)
  } catch {
    return undefined
  }
}

/**
 * Removes what no link names: leftovers of crashed runs and superseded
 * generations. The caller holds delta.lock, so no bt-delta reads or writes
 * here; a scan may still be reading the generation that was current when it
 * started, so generations go only while no scan holds scan.lock.
 */
export function collect(dir: string, who: { tool: string; pid: number }): void {
  const keep = new Set([target(dir, 'current'), target(dir, 'pending')])
  const scan = tryLock(dir, 'scan.lock', who)
  const scanning = 'holder' in scan
  try {
    for (const n of readdirSync(dir)) {
      const leftover = n.startsWith('.gen-') || /^\.(current|pending)\.tmp-/.test(n)
      if (leftover || (n.startsWith('gen-') && !keep.has(n) && !scanning)) rmSync(`${dir}/${n}`, { recursive: true, force: true })
    }
  } finally {
    if (!scanning) scan.release()
  }
}

export type Confirmation =
  | { confirmed: State }
  | { already: State }
  | { nothing: true; pending?: string; current?: string }

/**
 * Makes the pending generation current when it is the index of full `id`
 * (any pending one when `id` is undefined). The caller holds delta.lock.
 */
export function confirmPending(dir: string, id: string | undefined, who: { tool: string; pid: number }): Confirmation {
  const pending = readPending(dir)
  const current = readState(dir)
  if (pending && (id === undefined || pending.full.id === id)) {
    try {
      renameSync(`${dir}/pending`, `${dir}/current`)
      fsyncDir(dir)
    } catch (err) {
      throw stateIoError('write', dir, dir, err)
    }
    collect(dir, who)
    return { confirmed: pending }
  }
  if (current && (id === undefined || current.full.id === id)) return { already: current }
  return { nothing: true, pending: pending?.full.id, current: current?.full.id }
}

/** A generation being written; it becomes pending or current only on commit(). */
export class Generation {
  readonly writer: IndexWriter
  private readonly tmp: string
  private name: string | undefined

  constructor(private readonly dir: string, private readonly fullId: string) {
    this.tmp = `${dir}/.gen-${fullId}.tmp-${randomBytes(4).toString('hex')}`
    try {
      mkdirs(dir, 0o700)
      mkdirSync(this.tmp, { mode: 0o700 })
    } catch (err) {
      throw stateIoError('write', dir, dir, err)
    }
    this.writer = new IndexWriter(`${this.tmp}/index.jsonl`, `${this.tmp}/sigs.bin`, dir)
  }

  /**
   * Makes the generation `link`: "pending" for a full just made (bt-delta
   * --full, --auto), "current" for one known to be stored (--rebuild-from).
   */
  commit(info: Omit<FullInfo, 'index' | 'entries'>, link: Link, who: { tool: string; pid: number }, expect?: Pick<FullInfo, 'index' | 'entries'>): FullInfo {
    const full: FullInfo = { ...info, index: this.writer.close(), entries: this.writer.count }
    // A generation rebuilt from an index object must be the one that was stored, to the digest.
    if (expect && (expect.index !== full.index || expect.entries !== full.entries)) {
      this.abort()
      throw new BtError('BT_INDEX_MISMATCH', EXIT.BAD_INPUT, `the index of full ${full.id} does not match its full.json: ` +
        `${full.entries} entries with digest ${full.index.slice(0, 16)}…, where full.json says ${expect.entries} with ${expect.index.slice(0, 16)}…`,
      ['the index object was made by a faulty writer; rebuild from the full itself (bt-delta --rebuild-from FULL, with the admin key), or make a new full'])
    }
    // A fresh name even when the same full is indexed again: a link never points at nothing.
    const name = `gen-${this.fullId}-${randomBytes(4).toString('hex')}`
    try {
      writeFileSync(`${this.tmp}/full.json`, `${JSON.stringify(full)}\n`, { mode: 0o600 })
      const fd = openSync(`${this.tmp}/full.json`, 'r')
      fsyncSync(fd)
      closeSync(fd)
      fsyncDir(this.tmp)
      renameSync(this.tmp, `${this.dir}/${name}`)
      this.name = name
      const superseded = target(this.dir, 'pending')
      setLink(this.dir, link, name)
      // A pending index was never current, so no scan reads it: it goes now, whatever runs.
      if (link === 'pending' && superseded && superseded !== target(this.dir, 'current')) rmSync(`${this.dir}/${superseded}`, { recursive: true, force: true })
      // The same full, now known stored, awaits no confirmation.
      if (link === 'current' && readPending(this.dir)?.full.id === full.id) unlinkSync(`${this.dir}/pending`)
    } catch (err) {
      throw stateIoError('write', this.dir, this.dir, err)
    }
    collect(this.dir, who)
    return full
  }

  /** Undoes a commit as pending whose stream then failed to reach its output. */
  discard(): void {
    if (this.name && target(this.dir, 'pending') === this.name) {
      rmSync(`${this.dir}/pending`, { force: true })
      rmSync(`${this.dir}/${this.name}`, { recursive: true, force: true })
    }
  }

  abort(): void {
    this.writer.abort()
    rmSync(this.tmp, { recursive: true, force: true })
  }
}
