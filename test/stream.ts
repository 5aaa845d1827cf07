// Builds streams by hand with the real encoder, for crafted and hostile inputs.
import { type EntryMeta, type StreamInfo } from '../src/format/frame.js'
import { StreamEncoder } from '../src/format/writer.js'

export const INFO: StreamInfo = {
  version: '1', producer: 'backtory test', host: 'test', source: '/test', stream: 'full',
  time: '2026-01-01T00:00:00.000Z', id: '00112233445566778899aabbccddeeff',
}

export interface Item {
  meta: Partial<EntryMeta> & Pick<EntryMeta, 'path' | 'type'>
  data?: string | Buffer
}

export function entry(path: string, type: EntryMeta['type'], more: Partial<EntryMeta> = {}): EntryMeta {
  return {
    path, type, mode: type === 'directory' ? 0o755 : 0o644, uid: 0, gid: 0, uname: '', gname: '',
    mtime: { sec: 1_700_000_000, nsec: 0 }, size: 0, xattrs: [], ...more,
  }
}

/** A complete, valid stream holding `items` in order. */
export function makeStream(items: Item[], info: StreamInfo = INFO): Buffer {
  // The version of `info` lays the stream out: hostile streams may lack the root a version 2 stream opens with.
  const enc = new StreamEncoder({ version: info.version })
  const parts = [enc.header(info)]
  for (const it of items) {
    const data = it.data === undefined ? Buffer.alloc(0) : Buffer.from(it.data)
    const meta = entry(it.meta.path, it.meta.type, { size: data.length, ...it.meta })
    parts.push(enc.entry(meta))
    if (data.length) parts.push(enc.data(data))
    parts.push(enc.endEntry())
  }
  parts.push(enc.trailer())
  return Buffer.concat(parts)
}
