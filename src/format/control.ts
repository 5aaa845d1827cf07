// The records that are not an entry's: the header, incomplete notes and the
// trailer. Version 1 writes each as a typeflag g frame of its own; version 2
// carries them in the x header of a member (backtory-stream(5), FRAMING), since
// tar readers choke on a g header at the end (Python's tarfile), on two g
// headers in a row, or on any g header before a member (newer libarchive).
import { createHash } from 'node:crypto'
import { FrameError, type Place, VersionError } from '../errors.js'
import { nameBytes } from './fsname.js'
import {
  type HeaderFrame, type IncompleteFrame, type StreamInfo, type TrailerFrame, READ_VERSIONS, UNLISTED, type Unlisted,
  int, nameOf, text,
} from './frame.js'
import { type PaxRecords } from './tarblock.js'

export function encodeHeaderRecords(info: StreamInfo, version = info.version): Array<[string, string]> {
  return [
    ['BACKTORY.kind', 'header'], ['BACKTORY.v', version], ['BACKTORY.producer', info.producer],
    ['BACKTORY.host', info.host], ['BACKTORY.source', info.source], ['BACKTORY.stream', info.stream],
    ['BACKTORY.time', info.time], ['BACKTORY.id', info.id],
    ...(info.base !== undefined ? [['BACKTORY.base', info.base] as [string, string]] : []),
    ...(info.baseIndex !== undefined ? [['BACKTORY.base-index', info.baseIndex] as [string, string]] : []),
    ...(info.unlisted !== undefined && version !== '1' ? [['BACKTORY.unlisted', info.unlisted] as [string, string]] : []),
  ]
}

export function encodeTrailerRecords(t: Omit<TrailerFrame, 'kind'>): Array<[string, string]> {
  return [
    ['BACKTORY.kind', 'trailer'], ['BACKTORY.entries', String(t.entries)], ['BACKTORY.incomplete', String(t.incomplete)],
    ['BACKTORY.bytes', String(t.bytes)], ['BACKTORY.chain', t.chain],
  ]
}

/** Version 1: the records of an incomplete note's own g frame. */
export function encodeIncompleteRecords(path: string, reason: string, chain: string): Array<[string, string | Buffer]> {
  return [['BACKTORY.kind', 'incomplete'], ['BACKTORY.path', nameBytes(path)], ['BACKTORY.reason', reason], ['BACKTORY.chain', chain]]
}

/** Version 2: an incomplete note, as the first records of the x header of the member after the entry it flags. */
export function encodeNoteRecords(path: string, reason: string): Array<[string, string | Buffer]> {
  return [['BACKTORY.incomplete-path', nameBytes(path)], ['BACKTORY.incomplete-reason', reason]]
}

/** Version 2: the incomplete note an x header carries, if any. */
export function decodeNote(pax: PaxRecords, where: Place): IncompleteFrame | undefined {
  const path = nameOf(pax, 'BACKTORY.incomplete-path')
  const reason = text(pax, 'BACKTORY.incomplete-reason')
  if (path === undefined && reason === undefined) return undefined
  if (path === undefined || reason === undefined) throw new FrameError(where, 'an incomplete note needs both BACKTORY.incomplete-path and BACKTORY.incomplete-reason')
  return { kind: 'incomplete', path, reason }
}

/**
 * The header records. `typeflag` is the block they came in: version 1 has
 * them in a g frame, version 2 in the x header of the root entry.
 */
export function decodeHeader(pax: PaxRecords, typeflag: 'g' | 'x', where: Place): HeaderFrame {
  const need = (key: string): string => {
    const v = text(pax, key)
    if (v === undefined) throw new FrameError(where, `header frame lacks ${key}`)
    return v
  }
  const version = need('BACKTORY.v')
  if (!READ_VERSIONS.includes(version)) throw new VersionError(version)
  if ((version === '1') !== (typeflag === 'g')) {
    throw new FrameError(where, `a version ${version} header in a typeflag ${typeflag} block (version 1 uses g, version 2 x)`)
  }
  const info: StreamInfo = {
    version, producer: need('BACKTORY.producer'), host: need('BACKTORY.host'),
    source: need('BACKTORY.source'), stream: need('BACKTORY.stream'), time: need('BACKTORY.time'),
    id: need('BACKTORY.id'),
    ...(pax.has('BACKTORY.base') ? { base: need('BACKTORY.base') } : {}),
    ...(pax.has('BACKTORY.base-index') ? { baseIndex: need('BACKTORY.base-index') } : {}),
  }
  const s = info.stream
  // Readers check what writers MUST write (backtory-stream(5), PAX KEYS): a
  // differential without its base is malformed, not merely unappliable.
  if ((s === 'diff' || s === 'quick') && info.base === undefined) throw new FrameError(where, `a ${s} stream without BACKTORY.base`)
  if (s === 'diff' && info.baseIndex === undefined) throw new FrameError(where, 'a diff stream without BACKTORY.base-index')
  if (s === 'full' && (info.base !== undefined || info.baseIndex !== undefined)) throw new FrameError(where, 'a full stream with a base')
  const unlisted = version === '1' ? undefined : text(pax, 'BACKTORY.unlisted')
  if (unlisted !== undefined) {
    if (!UNLISTED.includes(unlisted)) throw new FrameError(where, `unknown BACKTORY.unlisted ${JSON.stringify(unlisted)}`)
    if (s !== 'diff' && s !== 'quick') throw new FrameError(where, `BACKTORY.unlisted in a ${s} stream (only quick and diff streams have a base)`)
    info.unlisted = unlisted as Unlisted
  }
  return { kind: 'header', info }
}

/** Every count is required: no digest covers the trailer's own records. */
export function decodeTrailer(pax: PaxRecords, where: Place): TrailerFrame {
  const chain = text(pax, 'BACKTORY.chain')
  if (chain === undefined) throw new FrameError(where, 'trailer frame lacks BACKTORY.chain')
  return {
    kind: 'trailer', entries: int(pax, 'BACKTORY.entries', -1, where), incomplete: int(pax, 'BACKTORY.incomplete', -1, where),
    bytes: int(pax, 'BACKTORY.bytes', -1, where), chain,
  }
}

/** Version 1: decodes a global (typeflag g) frame: header, incomplete note or trailer. */
export function decodeGlobal(pax: PaxRecords, where: Place): HeaderFrame | IncompleteFrame | TrailerFrame {
  const kind = text(pax, 'BACKTORY.kind')
  switch (kind) {
    case 'header':
      return decodeHeader(pax, 'g', where)
    case 'incomplete': {
      const path = nameOf(pax, 'BACKTORY.path')
      const reason = text(pax, 'BACKTORY.reason')
      if (path === undefined) throw new FrameError(where, 'incomplete frame lacks BACKTORY.path')
      if (reason === undefined) throw new FrameError(where, 'incomplete frame lacks BACKTORY.reason')
      return { kind, path, reason }
    }
    case 'trailer':
      return decodeTrailer(pax, where)
    case undefined:
      throw new FrameError(where, 'global header without BACKTORY.kind')
    default:
      throw new FrameError(where, `unknown frame kind ${JSON.stringify(kind)}`)
  }
}

/**
 * Version 2: the records of the root's x header that are not backtory's (path,
 * ids, names, mtime, xattrs, ACL text), which the end member repeats so that a
 * tar program extracting it sets the root as the root entry did. A digest of
 * them in key order: the reader compares, it does not keep them.
 */
export function tarRecordsDigest(pax: PaxRecords): string {
  const h = createHash('sha256')
  for (const key of [...pax.keys()].filter((k) => !k.startsWith('BACKTORY.')).sort()) {
    const v = pax.get(key)!
    h.update(`${Buffer.byteLength(key)}:${key}=${v.length}:`).update(v)
  }
  return h.digest('hex')
}

export function isTarRecord([key]: [string, string | Buffer]): boolean {
  return !key.startsWith('BACKTORY.')
}
