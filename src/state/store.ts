// The state directory: one generation per full (gen-<id>/ with index.jsonl,
// sigs.bin, full.json) and a "current" symlink switched by rename, so a crash
// at any point leaves either the old index or the new one, never a mixture.
import { randomBytes } from 'node:crypto'
import {
  closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync,
  writeFileSync,
} from 'node:fs'
import { BtError, EXIT, IoError, isErrno } from '../errors.js'
import { IndexReader, IndexWriter } from './index.js'

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

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** The current generation, or undefined when the directory holds no index yet. */
export function readState(dir: string): State | undefined {
  let target: string
  try {
    target = readlinkSync(`${dir}/current`)
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined
    throw new IoError(`cannot read the state directory ${JSON.stringify(dir)}`, err as NodeJS.ErrnoException)
  }
  const gen = `${dir}/${target}`
  try {
    return { dir, gen, full: JSON.parse(readFileSync(`${gen}/full.json`, 'utf8')) as FullInfo }
  } catch (err) {
    throw new BtError('BT_STATE', EXIT.FAILURE, `the state directory ${JSON.stringify(dir)} is damaged: ${(err as Error).message}`,
      ['rebuild it from the stored full: bt-delta --state DIR --rebuild-from FULL'])
  }
}

export function openIndex(s: State): IndexReader {
  return new IndexReader(`${s.gen}/index.jsonl`, `${s.gen}/sigs.bin`)
}

/** A generation being written; it becomes current only on commit(). */
export class Generation {
  readonly writer: IndexWriter
  private readonly tmp: string

  constructor(private readonly dir: string, private readonly fullId: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    this.tmp = `${dir}/.gen-${fullId}.tmp-${randomBytes(4).toString('hex')}`
    mkdirSync(this.tmp, { mode: 0o700 })
    this.writer = new IndexWriter(`${this.tmp}/index.jsonl`, `${this.tmp}/sigs.bin`)
  }

  commit(info: Omit<FullInfo, 'index' | 'entries'>): FullInfo {
    const full: FullInfo = { ...info, index: this.writer.close(), entries: this.writer.count }
    writeFileSync(`${this.tmp}/full.json`, `${JSON.stringify(full)}\n`, { mode: 0o600 })
    const fd = openSync(`${this.tmp}/full.json`, 'r')
    fsyncSync(fd)
    closeSync(fd)
    fsyncDir(this.tmp)
    // A fresh name even when the same full is indexed again: "current" never points at nothing.
    const name = `gen-${this.fullId}-${randomBytes(4).toString('hex')}`
    renameSync(this.tmp, `${this.dir}/${name}`)
    const link = `${this.dir}/.current.tmp-${randomBytes(4).toString('hex')}`
    symlinkSync(name, link)
    renameSync(link, `${this.dir}/current`)
    fsyncDir(this.dir)
    // Older generations and leftovers of crashed runs: the new current replaces them all.
    for (const n of readdirSync(this.dir)) {
      if (n !== name && n !== 'current' && (n.startsWith('gen-') || n.startsWith('.gen-') || n.startsWith('.current.tmp-'))) {
        rmSync(`${this.dir}/${n}`, { recursive: true, force: true })
      }
    }
    return full
  }

  abort(): void {
    this.writer.abort()
    rmSync(this.tmp, { recursive: true, force: true })
  }
}
