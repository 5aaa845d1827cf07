// bt-delta --rebuild-index: a lost state directory made again from the index
// object stored beside a full (index-export.ts), already opened. The files
// are spooled into the state directory, then every index line goes through a
// fresh IndexWriter with its signature, so the generation is checked as it
// is rebuilt (path order, signatures in range) and its digest must equal the
// one full.json records. It becomes *current*: bt-put stores an index object
// only after its full is stored whole.
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readFileSync, readSync, rmSync } from 'node:fs'
import { InputError } from '../errors.js'
import { type Frame, type StreamInfo } from '../format/frame.js'
import { writeAll } from '../sys/io.js'
import { mkdirs } from '../sys/mkdirs.js'
import { stateIoError } from './errors.js'
import { GENERATION_FILES, INDEX_KIND } from './index-export.js'
import { IndexReader } from './index.js'
import { type FullInfo, Generation } from './store.js'

function bad(detail: string): InputError {
  return new InputError('BT_INDEX_OBJECT', `not a valid index object: ${detail}`,
    'fetch the index object of the full again (bt-get URL/NAME), or make a new full')
}

/** Writes the generation's files from `frames` into `spool`; returns the stream's header. */
async function spoolFiles(frames: AsyncIterable<Frame>, spool: string, dir: string): Promise<StreamInfo> {
  let info: StreamInfo | undefined
  const seen = new Set<string>()
  let ended = false
  for await (const f of frames) {
    if (f.kind === 'header') {
      if (f.info.stream !== INDEX_KIND) throw bad(`it holds a ${JSON.stringify(f.info.stream)} stream`)
      info = f.info
    } else if (f.kind === 'entry') {
      const { path, type } = f.meta
      if (path === '.' && type === 'directory') continue
      if (type !== 'file' || !(GENERATION_FILES as readonly string[]).includes(path) || seen.has(path)) throw bad(`unexpected entry ${JSON.stringify(path)}`)
      seen.add(path)
      const file = `${spool}/${path}`
      let fd: number
      try {
        fd = openSync(file, 'wx', 0o600)
      } catch (err) {
        throw stateIoError('write', file, dir, err)
      }
      try {
        for await (const c of f.body) writeAll(fd, c)
      } catch (err) {
        throw stateIoError('write', file, dir, err)
      } finally {
        closeSync(fd)
      }
    } else if (f.kind === 'incomplete') {
      throw bad(`${JSON.stringify(f.path)} is flagged incomplete`)
    } else if (f.kind === 'trailer') {
      ended = true
    }
  }
  if (!ended || !info) throw bad('it ended early') // the reader throws BT_TRUNCATED first; this guards the contract
  const missing = GENERATION_FILES.filter((n) => !seen.has(n))
  if (missing.length) throw bad(`it lacks ${missing.join(', ')}`)
  return info
}

function readFull(path: string, id: string): FullInfo {
  let full: FullInfo
  try {
    full = JSON.parse(readFileSync(path, 'utf8')) as FullInfo
  } catch (err) {
    throw bad(`its full.json is not JSON (${(err as Error).message})`)
  }
  if (typeof full.index !== 'string' || typeof full.entries !== 'number' || typeof full.time !== 'string' || typeof full.bytes !== 'number') {
    throw bad('its full.json lacks index, entries, time or bytes')
  }
  if (full.id !== id) throw bad(`its full.json is of full ${JSON.stringify(full.id)}, the index object of full ${id}`)
  return full
}

/**
 * Rebuilds the state directory `dir` from the opened index stream `frames`
 * of full `id` (the id its sealed header and name carry). The new generation
 * is current; the caller holds delta.lock.
 */
export async function importIndex(frames: AsyncIterable<Frame>, dir: string, id: string, who: { tool: string; pid: number }): Promise<FullInfo> {
  // Named like a generation in progress, so that collect() removes what a killed rebuild leaves.
  const spool = `${dir}/.gen-import.tmp-${randomBytes(4).toString('hex')}`
  try {
    mkdirs(dir, 0o700)
    mkdirSync(spool, { mode: 0o700 })
  } catch (err) {
    throw stateIoError('write', dir, dir, err)
  }
  try {
    const info = await spoolFiles(frames, spool, dir)
    if (info.id !== id) throw bad(`its stream is of full ${info.id}, but its sealed header names full ${id}`)
    const full = readFull(`${spool}/full.json`, id)
    const gen = new Generation(dir, id)
    try {
      copyEntries(spool, gen)
    } catch (err) {
      gen.abort()
      throw err
    }
    return gen.commit({ id, bytes: full.bytes, time: full.time }, 'current', who, full)
  } finally {
    rmSync(spool, { recursive: true, force: true })
  }
}

/** Every line of the spooled index, with its signature, into the new generation's writer. */
function copyEntries(spool: string, gen: Generation): void {
  const sigs = openSync(`${spool}/sigs.bin`, 'r')
  try {
    for (const e of IndexReader.entries(`${spool}/index.jsonl`)) {
      let sig: Buffer | undefined
      if (e.sigOffset !== undefined || e.sigLength !== undefined) {
        if (!Number.isSafeInteger(e.sigOffset) || !Number.isSafeInteger(e.sigLength) || e.sigLength! < 0 || e.sigLength! > 1 << 30) {
          throw bad(`the signature place of ${JSON.stringify(e.path)} is not a number`)
        }
        sig = Buffer.alloc(e.sigLength!)
        for (let got = 0; got < sig.length;) {
          const n = readSync(sigs, sig, got, sig.length - got, e.sigOffset! + got)
          if (n === 0) throw bad(`sigs.bin is shorter than the index says at ${JSON.stringify(e.path)}`)
          got += n
        }
        // The writer places it anew, appending these two keys last as it did when the full was indexed.
        delete e.sigOffset
        delete e.sigLength
      }
      gen.writer.add(e, sig)
    }
  } finally {
    closeSync(sigs)
  }
}
