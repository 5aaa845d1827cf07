// A generation of the state directory as a backtory stream of kind "index"
// (backtory-stream(5), BACKTORY.stream): the root, then full.json, index.jsonl
// and sigs.bin as regular files, byte for byte. It carries the id and time of
// the full it indexes, so that sealed and stored it is named like that full
// with the kind "index" and pairs with it in a listing. A stream, not a new
// container: bt-open | bt-ls lists it and tar extracts it.
import { createReadStream, statSync } from 'node:fs'
import { type EntryMeta, STREAM_VERSION, type StreamInfo } from '../format/frame.js'
import { StreamEncoder } from '../format/writer.js'
import { stateIoError } from './errors.js'
import { type State } from './store.js'

export { INDEX_KIND } from '../transport/names.js'
import { INDEX_KIND } from '../transport/names.js'
/** The files of a generation, in stream (path) order. */
export const GENERATION_FILES = ['full.json', 'index.jsonl', 'sigs.bin'] as const

export interface IndexStreamOptions {
  producer: string
  host: string
}

function meta(path: string, type: 'file' | 'directory', size: number, sec: number): EntryMeta {
  return {
    path, type, mode: type === 'directory' ? 0o700 : 0o600, uid: 0, gid: 0, uname: '', gname: '',
    mtime: { sec, nsec: 0 }, size, xattrs: [],
  }
}

/** The index stream of generation `s`, read from disk in bounded chunks. */
export async function* indexStream(s: State, o: IndexStreamOptions): AsyncGenerator<Buffer> {
  const enc = new StreamEncoder()
  const info: StreamInfo = {
    version: STREAM_VERSION, producer: o.producer, host: o.host, source: s.dir, stream: INDEX_KIND, time: s.full.time, id: s.full.id,
  }
  const sec = Math.floor(Date.parse(s.full.time) / 1000)
  yield enc.header(info)
  yield enc.entry(meta('.', 'directory', 0, sec))
  yield enc.endEntry()
  for (const name of GENERATION_FILES) {
    const path = `${s.gen}/${name}`
    let size: number
    try {
      size = statSync(path).size
    } catch (err) {
      throw stateIoError('read', path, s.dir, err)
    }
    yield enc.entry(meta(name, 'file', size, sec))
    try {
      // A generation never changes once written; a file that did would overrun or fall short, which the encoder refuses.
      for await (const c of createReadStream(path, { highWaterMark: 1 << 16 })) {
        yield enc.data(c as Buffer)
      }
    } catch (err) {
      throw stateIoError('read', path, s.dir, err)
    }
    yield enc.endEntry()
  }
  yield enc.trailer()
}
