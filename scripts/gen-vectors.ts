// Generates the backtory-stream(5) test vectors, test/vectors/stream_<case>.
//
//   node dist/scripts/gen-vectors.js test/vectors            write them (and drop stale stream_* files)
//   node dist/scripts/gen-vectors.js --check test/vectors    exit 1 if the files on disk differ
//
// Deterministic: a fixed StreamInfo, metadata written out by hand, content
// from a seeded xorshift PRNG. No clock, no filesystem reads, no randomness.
//
// Vector file format (CCTV style, one failure per file):
//
//   expect: success | header failure | frame failure | digest failure | truncated | trailing data
//   code: <the BT_* code a reader must fail with, or "none">
//   payload: <lowercase hex SHA-256, see below>
//   comment: <one line>
//   <empty line>
//   <the raw stream bytes, to the end of the file>
//
// payload: for "success", the SHA-256 of the stream's listing: one line per
// frame, in stream order, each ended by "\n" (see listFrame). It covers every
// field a reader hands to its consumer, entry bodies by their SHA-256, and
// is computed here from what the encoder was asked to write, not by decoding.
// For failures, the SHA-256 of the raw stream bytes, which only pins the file.
//
// expect names the layer that must refuse the input: "header failure" for
// the header frame (not a backtory stream, unknown version, missing field);
// "frame failure" for a malformed or oversized frame; "digest failure" for a
// chain digest mismatch; "truncated" for input that ends early (including
// empty input and a missing trailer); "trailing data" for any byte after the
// end-of-archive marker, or in its place.
import { createHash, type Hash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import {
  type CapturePart, type EntryMeta, type Frame, type HeaderFrame, type IncompleteFrame, type StreamInfo, type Time, type TrailerFrame,
  entryRecords, typeflagOf,
} from '../src/format/frame.js'
import { encodeHeaderRecords, encodeTrailerRecords } from '../src/format/control.js'
import { encodeCopy, encodeLiteral } from '../src/delta/format.js'
import { encodeSparseMap } from '../src/format/sparse.js'
import { BLOCK, ZERO_BLOCK, type Ustar, decodeUstar, encodePax, encodeUstar, padding, setChecksum } from '../src/format/tarblock.js'
import { StreamEncoder } from '../src/format/writer.js'

export type Expect = 'success' | 'header failure' | 'frame failure' | 'digest failure' | 'truncated' | 'trailing data'

export interface Vector {
  name: string
  expect: Expect
  code: string
  payload: string
  comment: string
  stream: Buffer
}

// ---------------------------------------------------------------- listing

/** What a consumer of the reader sees of one frame; an entry's body by its digest. */
export type ListedFrame = HeaderFrame | IncompleteFrame | TrailerFrame | { kind: 'entry'; meta: EntryMeta; data: string }

const q = (s: string): string => JSON.stringify(s)
const time = (t: Time): string => `${t.sec}.${String(t.nsec).padStart(9, '0')}`

/** One line of the canonical listing that a success vector's payload is the digest of. */
export function listFrame(f: ListedFrame): string {
  switch (f.kind) {
    case 'header': {
      const i = f.info
      return `header v=${q(i.version)} producer=${q(i.producer)} host=${q(i.host)} source=${q(i.source)} ` +
        `stream=${q(i.stream)} time=${q(i.time)} id=${q(i.id)}` +
        (i.base !== undefined ? ` base=${q(i.base)}` : '') + (i.baseIndex !== undefined ? ` base-index=${q(i.baseIndex)}` : '') +
        (i.unlisted !== undefined ? ` unlisted=${i.unlisted}` : '')
    }
    case 'incomplete':
      return `incomplete ${q(f.path)} reason=${q(f.reason)}`
    case 'trailer':
      return `trailer entries=${f.entries} incomplete=${f.incomplete} bytes=${f.bytes} chain=${f.chain}`
    case 'entry': {
      const m = f.meta
      const w = [`entry ${m.type} ${q(m.path)}`, `mode=${m.mode.toString(8).padStart(4, '0')}`, `uid=${m.uid}`,
        `gid=${m.gid}`, `uname=${q(m.uname)}`, `gname=${q(m.gname)}`, `mtime=${time(m.mtime)}`]
      if (m.ctime) w.push(`ctime=${time(m.ctime)}`)
      w.push(`size=${m.size}`)
      // The fields of a differential record (backtory-stream(5), DIFFERENTIAL RECORDS), when present.
      if (m.op !== undefined) w.push(`op=${m.op}`)
      if (m.deltaSize !== undefined) w.push(`delta-size=${m.deltaSize}`)
      if (m.baseSha256 !== undefined) w.push(`base-sha256=${m.baseSha256}`)
      if (m.sha256 !== undefined) w.push(`sha256=${m.sha256}`)
      if (m.from !== undefined) w.push(`from=${q(m.from)}`)
      if (m.linkpath !== undefined) w.push(`link=${q(m.linkpath)}`)
      if (m.type === 'chardev' || m.type === 'blockdev') w.push(`rdev=${m.devmajor},${m.devminor}`)
      if (m.dev !== undefined) w.push(`dev=${q(m.dev)}`)
      if (m.ino !== undefined) w.push(`ino=${q(m.ino)}`)
      for (const [name, value] of m.xattrs) w.push(`xattr=${q(name)}:${value.toString('hex')}`)
      if (m.sparse) w.push(`sparse=${m.sparse.map(([o, l]) => `${o}+${l}`).join(',')}`)
      // A captured file (backtory-stream(5), CAPTURES) is one entry: its parts are not listed.
      if (m.capture) w.push(`capture-parts=${m.capture.parts}`)
      w.push(`data=${f.data}`)
      return w.join(' ')
    }
  }
}

export function payloadOf(lines: string[]): string {
  return sha256(Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8'))
}

/** Consumes decoded frames, reading every entry body, into listing lines. */
export async function listFrames(frames: AsyncIterable<Frame>): Promise<string[]> {
  const lines: string[] = []
  for await (const f of frames) {
    if (f.kind !== 'entry') {
      lines.push(listFrame(f))
      continue
    }
    const h = createHash('sha256')
    for await (const c of f.body) h.update(c)
    lines.push(listFrame({ kind: 'entry', meta: f.meta, data: h.digest('hex') }))
  }
  return lines
}

// ---------------------------------------------------------------- vector files

export function formatVector(v: Vector): Buffer {
  if (/[\r\n]/.test(v.comment)) throw new Error(`comment of ${v.name} spans lines`)
  const head = `expect: ${v.expect}\ncode: ${v.code}\npayload: ${v.payload}\ncomment: ${v.comment}\n\n`
  return Buffer.concat([Buffer.from(head, 'utf8'), v.stream])
}

export interface ParsedVector {
  expect: string
  code: string
  payload: string
  comment: string
  stream: Buffer
}

export function parseVector(file: Buffer): ParsedVector {
  const end = file.indexOf('\n\n')
  if (end === -1) throw new Error('vector without the empty line that ends its header')
  const fields = new Map<string, string>()
  for (const line of file.toString('utf8', 0, end).split('\n')) {
    const m = /^([a-z ]+): (.*)$/.exec(line)
    if (!m) throw new Error(`bad vector header line ${JSON.stringify(line)}`)
    fields.set(m[1]!, m[2]!)
  }
  const need = (k: string): string => {
    const v = fields.get(k)
    if (v === undefined) throw new Error(`vector lacks "${k}:"`)
    return v
  }
  return { expect: need('expect'), code: need('code'), payload: need('payload'), comment: need('comment'), stream: file.subarray(end + 2) }
}

// ---------------------------------------------------------------- deterministic inputs

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex')
}

/** xorshift32: the only source of "random" bytes. */
export function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x
  }
}

function noise(seed: number, n: number): Buffer {
  const rnd = xorshift(seed)
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = rnd() & 0xff
  return b
}

export const INFO: StreamInfo = {
  version: '1', producer: 'backtory gen-vectors', host: 'vectors.example', source: '/srv/data', stream: 'full',
  time: '2024-06-01T12:00:00.000Z', id: '0123456789abcdef0123456789abcdef',
}

const T0 = 1717243200

interface Item {
  meta: EntryMeta
  /** The stored content: the whole file, or the concatenated data segments of a sparse one. */
  data?: Buffer
  /** An incomplete note written right after the entry. */
  incomplete?: string
  /** The path the note names, when it is not the entry's (a failure case). */
  notePath?: string
  /** One part of a captured file. */
  part?: CapturePart
}

function meta(path: string, type: EntryMeta['type'], more: Partial<EntryMeta> = {}): EntryMeta {
  return {
    path, type, mode: type === 'directory' ? 0o755 : 0o644, uid: 0, gid: 0, uname: 'root', gname: 'root',
    mtime: { sec: T0, nsec: 0 }, size: 0, xattrs: [], ...more,
  }
}

function file(path: string, data: Buffer, more: Partial<EntryMeta> = {}): Item {
  return { meta: meta(path, 'file', { size: data.length, ...more }), data }
}

function sparseFile(path: string, realsize: number, segments: Array<[number, number]>, seed: number, more: Partial<EntryMeta> = {}): Item {
  const data = noise(seed, segments.reduce((n, [, l]) => n + l, 0))
  return { meta: meta(path, 'file', { size: realsize, sparse: segments, ...more }), data }
}

/** A captured file, as a run of the given parts: owned by the capturing user, mode 0600, the capture's start time. */
function capture(path: string, parts: Buffer[]): Item[] {
  return parts.map((data, index) => ({
    meta: meta(path, 'file', { mode: 0o600, uid: 1000, gid: 1000, uname: 'backup', gname: 'backup', mtime: { sec: T0 + 60, nsec: 250000000 }, size: data.length }),
    data, part: { index, more: index < parts.length - 1 },
  }))
}

const LONG_DIR1 = 'deep/the-quick-brown-fox-jumps-over-the-lazy-dog'
const LONG_DIR2 = `${LONG_DIR1}/again-and-again-until-the-path-is-long`
const LONG_PATH = `${LONG_DIR2}/and-longer-than-one-hundred-bytes.txt`
const LONG_NAME = `deep/${'long-name-'.repeat(15)}`
const CAPABILITY = Buffer.from('0100000200200000000000000000000000000a3d', 'hex') // binary, with "\n" and "="

/** The full tree of the success vector: every type and every field worth a byte. */
function fullTree(): Item[] {
  const alice = { uid: 300000, gid: 300000, uname: 'alice', gname: 'staff' }
  return [
    { meta: meta('.', 'directory', { mtime: { sec: T0, nsec: 123456789 }, ctime: { sec: T0 + 1, nsec: 1 }, dev: '2049', ino: '2' }) },
    { meta: meta('bin', 'directory') },
    file('bin/tool', Buffer.from('#!/bin/sh\necho tool\n'), { mode: 0o4755 }),
    { meta: meta('data', 'directory', { mode: 0o2775, gid: 50, gname: 'staff' }) },
    file('data/empty', Buffer.alloc(0)),
    file('data/block.bin', noise(1, BLOCK)),
    file('data/random.bin', noise(2, 70000), { mtime: { sec: T0, nsec: 1 } }),
    { meta: meta('dev', 'directory') },
    { meta: meta('dev/null', 'chardev', { mode: 0o666, devmajor: 1, devminor: 3 }) },
    { meta: meta('dev/sda1', 'blockdev', { mode: 0o660, gid: 6, gname: 'disk', devmajor: 8, devminor: 1 }) },
    { meta: meta('docs', 'directory', { mode: 0o750, ...alice, mtime: { sec: T0 - 86400, nsec: 999999999 } }) },
    file('docs/hello.txt', Buffer.from('hello, world\n'), {
      ...alice, mtime: { sec: T0 - 3600, nsec: 500000000 }, ctime: { sec: T0 - 60, nsec: 250 }, dev: '2049', ino: '131073',
      xattrs: [['security.capability', CAPABILITY], ['user.comment', Buffer.from('greeting ✓')], ['user.odd=name%', Buffer.from('escaped key')]],
    }),
    { meta: meta('docs/hello-link.txt', 'hardlink', { ...alice, linkpath: 'docs/hello.txt', dev: '2049', ino: '131073' }) },
    { meta: meta('docs/latest', 'symlink', { mode: 0o777, ...alice, linkpath: 'hello.txt' }) },
    file('docs/naïve café ☕ 日本語.txt', Buffer.from('UTF-8 name, UTF-8 content: ½ ∞ 日本語\n'), alice),
    file('docs/ldap-owned', Buffer.from('owned by a long name\n'), {
      uid: 4000000, gid: 4000001, uname: 'a-very-long-user-name-from-an-ldap-directory', gname: 'an-equally-long-group-name-from-ldap',
    }),
    { meta: meta('deep', 'directory') },
    { meta: meta(LONG_DIR1, 'directory') },
    { meta: meta(LONG_DIR2, 'directory') },
    file(LONG_PATH, Buffer.from('a path longer than 100 bytes, split into ustar prefix and name\n')),
    file(LONG_NAME, Buffer.from('a 150-byte name: only the pax path holds it whole\n')),
    { meta: meta('deep/far-link', 'symlink', { mode: 0o777, linkpath: `../${LONG_PATH}` }) },
    { meta: meta('images', 'directory') },
    sparseFile('images/disk.img', 3145733, [[0, 4096], [1048576, 512], [2097152, 1000], [3145733, 0]], 3, {
      mode: 0o600, mtime: { sec: T0, nsec: 42 },
    }),
    { meta: meta('run', 'directory') },
    { meta: meta('run/queue', 'fifo', { mode: 0o600 }) },
  ]
}

/** The small tree that failure vectors are cut from. */
function smallTree(): Item[] {
  return [
    { meta: meta('.', 'directory') },
    file('notes.txt', Buffer.from(noise(10, 700).map((b) => 0x61 + (b % 26)))),
    sparseFile('sparse.img', 65536, [[0, 1000], [40000, 24], [65536, 0]], 11),
    { meta: meta('link', 'symlink', { mode: 0o777, linkpath: 'notes.txt' }) },
    file('z.txt', Buffer.from('last\n')),
  ]
}

// ---------------------------------------------------------------- differentials

/** The full that the differential vectors are made against (its id; its index digest as bt-delta would record it). */
const BASE_ID = 'fedcba9876543210fedcba9876543210'
const BASE_INDEX = sha256(Buffer.from('the index of full fedcba9876543210fedcba9876543210'))
export const DIFF_INFO: StreamInfo = { ...INFO, stream: 'diff', id: '00112233445566778899aabbccddeeff', base: BASE_ID, baseIndex: BASE_INDEX }
export const QUICK_INFO: StreamInfo = { ...INFO, stream: 'quick', id: '00112233445566778899aabbccddeeff', base: BASE_ID }

/**
 * A delta record whose delta is valid for its stated base and result: the base
 * is the 8192 bytes of noise(30), the new file its second half, an inserted
 * line, then its first half (two copies and a literal).
 */
function deltaItem(path: string, more: Partial<EntryMeta> = {}): Item {
  const base = noise(30, 8192)
  const line = Buffer.from('inserted between the swapped halves\n')
  const now = Buffer.concat([base.subarray(4096), line, base.subarray(0, 4096)])
  const delta = Buffer.concat([encodeCopy(4096, 4096), encodeLiteral(line), encodeCopy(0, 4096)])
  return {
    meta: meta(path, 'file', {
      size: now.length, op: 'delta', deltaSize: delta.length, baseSha256: sha256(base), sha256: sha256(now),
      mtime: { sec: T0 + 86400, nsec: 5 }, ctime: { sec: T0 + 86400, nsec: 5 }, dev: '2049', ino: '131090', ...more,
    }),
    data: delta,
  }
}

function record(path: string, op: 'unchanged' | 'meta' | 'copy' | 'deleted', size: number, more: Partial<EntryMeta> = {}): Item {
  return { meta: meta(path, 'file', { size, op, ...more }) }
}

const COPIED = sha256(noise(31, 5000))

/** A differential with one record of every kind, next to a literal, a directory and a symlink. */
function diffTree(): Item[] {
  return [
    { meta: meta('.', 'directory', { mtime: { sec: T0 + 86400, nsec: 0 } }) },
    record('conf.txt', 'unchanged', 120, { ctime: { sec: T0 - 10, nsec: 7 }, dev: '2049', ino: '131080' }),
    deltaItem('data.db'),
    { meta: meta('logs', 'directory') },
    file('logs/new.log', Buffer.from('a new file travels whole: a literal\n')),
    record('moved.bin', 'copy', 5000, { from: 'old/name.bin', sha256: COPIED }),
    record('run.sh', 'meta', 20, { mode: 0o755, mtime: { sec: T0 + 3600, nsec: 0 } }),
    { meta: meta('top', 'symlink', { mode: 0o777, linkpath: 'logs/new.log' }) },
  ]
}

/** A quick-checked scan: unchanged records where the index matched, content elsewhere. */
function quickTree(): Item[] {
  return [
    { meta: meta('.', 'directory') },
    record('conf.txt', 'unchanged', 120, { ctime: { sec: T0 - 10, nsec: 7 }, dev: '2049', ino: '131080' }),
    file('data.db', noise(32, 3000), { ctime: { sec: T0 + 86400, nsec: 5 }, dev: '2049', ino: '131090' }),
    { meta: meta('etc', 'directory') },
    record('etc/hosts', 'unchanged', 42),
  ]
}

// ---------------------------------------------------------------- encoding

interface Marks {
  headerEnd: number
  /** Per item: where its frame starts, its entry ustar header, its data, the end of its data. */
  items: Array<{ start: number; ustar: number; map: number; data: number; dataEnd: number; end: number }>
  trailer: number
  eoa: number
}

interface Encoded {
  stream: Buffer
  lines: string[]
  marks: Marks
}

/** Encodes items with StreamEncoder, noting offsets and the listing a reader must reproduce. */
function encode(items: Item[], info: StreamInfo = INFO): Encoded {
  const enc = new StreamEncoder({ version: info.version })
  const parts: Buffer[] = []
  let at = 0
  const put = (b: Buffer) => {
    parts.push(b)
    at += b.length
  }
  const lines: string[] = [listFrame({ kind: 'header', info })]
  put(enc.header(info))
  const marks: Marks = { headerEnd: at, items: [], trailer: 0, eoa: 0 }
  let entries = 0
  let incompletes = 0
  let run: { meta: EntryMeta; hash: Hash; size: number; parts: number } | undefined
  for (const it of items) {
    const start = at
    const head = enc.entry(it.meta, it.part)
    const mapLen = it.meta.sparse ? encodeSparseMap(it.meta.sparse).length : 0
    put(head)
    const data = it.data ?? Buffer.alloc(0)
    if (data.length) put(enc.data(data))
    const dataEnd = at
    put(enc.endEntry())
    marks.items.push({ start, ustar: start + head.length - mapLen - BLOCK, map: start + head.length - mapLen, data: start + head.length, dataEnd, end: at })
    entries++
    if (it.part) {
      // A reader hands on a run as one entry, listed once its last part is in.
      if (it.part.index === 0) run = { meta: it.meta, hash: createHash('sha256'), size: 0, parts: 0 }
      run!.hash.update(data)
      run!.size += data.length
      run!.parts++
      if (!it.part.more) lines.push(listFrame({ kind: 'entry', meta: { ...run!.meta, size: run!.size, capture: { parts: run!.parts } }, data: run!.hash.digest('hex') }))
    } else {
      lines.push(listFrame({ kind: 'entry', meta: it.meta, data: sha256(data) }))
    }
    if (it.incomplete) {
      put(enc.incomplete(it.notePath ?? it.meta.path, it.incomplete))
      incompletes++
      lines.push(listFrame({ kind: 'incomplete', path: it.notePath ?? it.meta.path, reason: it.incomplete }))
    }
  }
  marks.trailer = at
  const chain = sha256(Buffer.concat(parts))
  lines.push(listFrame({ kind: 'trailer', entries, incomplete: incompletes, bytes: at, chain }))
  const trailer = enc.trailer()
  put(trailer)
  marks.eoa = at - 2 * BLOCK
  return { stream: Buffer.concat(parts), lines, marks }
}

// Hand-made frames, for the defects StreamEncoder refuses to write.

function ustar(typeflag: string, name: string, size: number, more: Partial<Ustar> = {}): Buffer {
  return encodeUstar({
    name, mode: 0o644, uid: 0, gid: 0, size, mtime: 0, typeflag, linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, ...more,
  })
}

function padded(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc(padding(b.length))])
}

function globalFrame(name: string, records: Array<[string, string | Buffer]>): Buffer {
  const body = encodePax(records)
  return Buffer.concat([ustar('g', name, body.length), padded(body)])
}

const resum = setChecksum

/**
 * A pax header, an entry header and data, laid out as StreamEncoder does but
 * with any records; `tweak` may edit the entry's ustar block (its checksum is
 * then recomputed).
 */
function handEntry(m: EntryMeta, pax: Buffer, data: Buffer, more: Partial<Ustar> = {}, tweak?: (b: Buffer) => void): Buffer {
  const block = ustar(typeflagOf(m.type), m.path, data.length, {
    mode: m.mode, uid: m.uid, gid: m.gid, mtime: m.mtime.sec, linkname: m.linkpath ?? '', uname: m.uname, gname: m.gname,
    devmajor: m.devmajor ?? 0, devminor: m.devminor ?? 0, ...more,
  })
  if (tweak) {
    tweak(block)
    resum(block)
  }
  return Buffer.concat([ustar('x', `PaxHeaders/${m.path}`, pax.length), padded(pax), block, padded(data)])
}

/** Entry records as StreamEncoder writes them, with `extra` records before the chain. */
function recordsWith(m: EntryMeta, stored: number, chain: string, extra: Array<[string, string | Buffer]>): Buffer {
  const r = entryRecords(m, stored, chain)
  return encodePax([...r.slice(0, -1), ...extra, r[r.length - 1]!])
}

/** Ends `prefix` with a trailer that is right for it (or as `wrong` says), then the end-of-archive marker. */
function finish(prefix: Buffer, entries: number, wrong: { entries?: number; bytes?: number } = {},
  extra: Array<[string, string]> = []): Buffer {
  const trailer = globalFrame('BACKTORY.trailer', [...encodeTrailerRecords({
    entries: wrong.entries ?? entries, incomplete: 0, bytes: wrong.bytes ?? prefix.length, chain: sha256(prefix),
  }), ...extra])
  return Buffer.concat([prefix, trailer, ZERO_BLOCK, ZERO_BLOCK])
}

function flip(b: Buffer, at: number, mask = 0x01): Buffer {
  const c = Buffer.from(b)
  c[at] = c[at]! ^ mask
  return c
}

/** A GNU-format header (magic "ustar  \0"), as GNU tar writes by default. */
function gnuHeader(typeflag: string, name: string, size: number): Buffer {
  const b = ustar(typeflag, name, size, { mode: 0o644, uid: 1000, gid: 1000, mtime: T0, uname: 'user', gname: 'user' })
  b.write('ustar  \0', 257, 8, 'binary')
  return resum(b)
}

// ---------------------------------------------------------------- the cases

interface HandEntry {
  meta: EntryMeta
  records: (chain: string) => Buffer
  data?: Buffer
  more?: Partial<Ustar>
  tweak?: (b: Buffer) => void
  /** What the reader hands on as the body, when it is not all of `data` (a sparse map is not). */
  listed?: Buffer
}


type Ok = (name: string, e: { stream: Buffer; lines: string[] }, comment: string) => void
type Bad = (name: string, expect: Expect, code: string, stream: Buffer, comment: string) => void
type Hand = (header: Buffer, entries: HandEntry[], trailerExtra?: Array<[string, string]>) => { stream: Buffer; lines: string[] }

export const INFO2: StreamInfo = { ...INFO, version: '2' }
const DIFF2: StreamInfo = { ...DIFF_INFO, version: '2' }
const QUICK2: StreamInfo = { ...QUICK_INFO, version: '2' }

/** Replaces the first occurrence of `from` by `to` (same length), and fixes the checksum of the block it is in when asked. */
function patch(b: Buffer, from: string, to: string, after = 0, resumBlock = false): Buffer {
  const at = b.indexOf(from, after)
  if (at === -1 || from.length !== to.length) throw new Error(`patch: ${JSON.stringify(from)} not found`)
  const c = Buffer.from(b)
  c.write(to, at, 'latin1')
  if (resumBlock) {
    const start = at - (at % BLOCK)
    resum(c.subarray(start, start + BLOCK))
  }
  return c
}

/** Version 2 (backtory-stream(5), FRAMING): the same trees, laid out with x headers only. */
function v2Vectors(ok: Ok, bad: Bad): void {
  const root = { meta: meta('.', 'directory') }
  ok('v2_success', encode(fullTree(), INFO2),
    'version 2: the header on the root entry, the trailer on a repeat of the root; every entry type, xattrs, sparse, long and UTF-8 names')
  ok('v2_success_empty', encode([root], INFO2), 'version 2: the smallest stream, an empty root directory; header, root and end member')
  const changing = file('data.log', Buffer.from('partly written\n'))
  changing.incomplete = 'changed while being read'
  const lastChanging = file('z.log', Buffer.from('the last entry, flagged\n'))
  lastChanging.incomplete = 'shrank while being read (at byte 24 of 30)'
  ok('v2_success_incomplete', encode([root, changing, file('m.txt', Buffer.from('between\n')), lastChanging], INFO2),
    'version 2: incomplete notes in the x header of the next member, the last one in the end member\'s')
  ok('v2_success_diff', encode(diffTree(), DIFF2), 'version 2: a differential with every record kind')
  ok('v2_success_quick', encode(quickTree(), QUICK2), 'version 2: a quick-checked scan')
  const dump = noise(40, 3000)
  ok('v2_success_capture', encode([root, file('a.txt', Buffer.from('before\n')),
    ...capture('db.sql', [dump.subarray(0, 1200), dump.subarray(1200, 2400), dump.subarray(2400)]), ...capture('one.sql', [Buffer.from('one part\n')])], INFO2),
  'version 2: captured files, runs of three parts and one part')
  const compact = [
    { meta: meta('.', 'directory', { mtime: { sec: T0 + 86400, nsec: 0 } }) },
    record('gone.txt', 'deleted', 0),
    { meta: meta('logs', 'directory') },
    file('logs/new.log', Buffer.from('a literal\n')),
    record('old/name.bin', 'deleted', 0),
  ]
  ok('v2_success_diff_unlisted', encode(compact as Item[], { ...DIFF2, unlisted: 'unchanged' }),
    'version 2: BACKTORY.unlisted=unchanged (what the differential does not list is as in the base) and deleted records')
  const compactQuick = [
    { meta: meta('.', 'directory', { mtime: { sec: T0 + 86400, nsec: 0 } }) },
    record('gone.txt', 'deleted', 0),
    { meta: meta('logs', 'directory') },
    file('logs/new.log', Buffer.from('a literal\n')),
    record('old', 'deleted', 0),
  ]
  ok('v2_success_quick_unlisted', encode(compactQuick as Item[], { ...QUICK2, unlisted: 'unchanged' }),
    'version 2: a compact quick scan, BACKTORY.unlisted=unchanged: unchanged files left out, deleted records for paths gone')
  const binary = [
    root, file('caf\udce9.txt', Buffer.from('latin-1 name\n')), { meta: meta('to-caf\udce9', 'symlink', { mode: 0o777, linkpath: 'caf\udce9.txt' }) },
    file('ok-\u00e9.txt', Buffer.from('utf-8 name\n')),
  ]
  ok('v2_success_binary_names', encode(binary, INFO2),
    'version 2: a name and a link target with the octet 0xe9 (not UTF-8): hdrcharset=BINARY, read back as U+DCE9')

  const small = encode(smallTree(), INFO2)
  const s = small.stream
  const endAt = small.marks.trailer
  const endBody = endAt + BLOCK
  bad('v2_end_not_root', 'frame failure', 'BT_FRAME', patch(s, '0000755', '0000750', s.length - 3 * BLOCK, true),
    'version 2: the end member\'s ustar block differs from the root\'s (mode 0750, checksum right)')
  bad('v2_end_records_differ', 'frame failure', 'BT_FRAME', patch(s, `mtime=${T0}`, `mtime=${T0 + 1}`, endBody),
    'version 2: the end member\'s mtime record differs from the root entry\'s')
  bad('v2_truncated_before_end', 'truncated', 'BT_TRUNCATED', s.subarray(0, endAt), 'version 2: ends at a frame boundary before the end member')
  bad('v2_truncated_in_end', 'truncated', 'BT_TRUNCATED', s.subarray(0, s.length - 2 * BLOCK - 100), 'version 2: ends inside the end member\'s ustar block')
  bad('v2_end_then_garbage', 'trailing data', 'BT_TRAILING', Buffer.concat([s, Buffer.from('\n')]), 'version 2: a newline after the end-of-archive marker')
  const prefix = s.subarray(0, endAt)
  bad('v2_global_frame', 'frame failure', 'BT_FRAME', Buffer.concat([prefix,
    globalFrame('BACKTORY.incomplete', [['BACKTORY.kind', 'incomplete'], ['BACKTORY.path', 'z.txt'], ['BACKTORY.reason', 'r'], ['BACKTORY.chain', sha256(prefix)]])]),
  'version 2: a version 1 incomplete note (a typeflag g frame): version 2 has no g frame')
  bad('v2_header_says_1', 'header failure', 'BT_FRAME', patch(s, 'BACKTORY.v=2', 'BACKTORY.v=1'),
    'an x header that says BACKTORY.v=1: version 1 opens with a g frame')
  bad('v2_header_in_g_frame', 'header failure', 'BT_FRAME', finish(globalFrame('BACKTORY.header', encodeHeaderRecords(INFO2)), 0),
    'a g header frame that says BACKTORY.v=2: version 2 opens with the root\'s x header')
  bad('v2_first_not_root', 'header failure', 'BT_FRAME', patch(s, 'path=./', 'path=a/'),
    'version 2: the first entry, which carries the header, is "a", not the root')
  const wrong = file('notes.txt', Buffer.from('x\n'))
  wrong.incomplete = 'changed while being read'
  wrong.notePath = 'other.txt'
  bad('v2_note_names_another_path', 'frame failure', 'BT_FRAME', encode([root, wrong, file('z.txt', Buffer.from('z\n'))], INFO2).stream,
    'version 2: an incomplete note after "notes.txt" names "other.txt"')
  bad('note_names_another_path', 'frame failure', 'BT_FRAME', encode([root, wrong], INFO).stream,
    'version 1: an incomplete note after "notes.txt" names "other.txt": a note names the entry it follows')
  bad('deleted_in_v1', 'frame failure', 'BT_FRAME', encode([root, record('gone.txt', 'deleted', 0)], DIFF_INFO).stream,
    'version 1 has no deleted record: an unknown op')
  bad('v2_deleted_in_listed_quick', 'frame failure', 'BT_FRAME', encode([root, record('gone.txt', 'deleted', 0)], QUICK2).stream,
    'version 2: a deleted record in a quick stream without BACKTORY.unlisted=unchanged, where what is not listed is deleted already')
  bad('v2_unlisted_in_full', 'header failure', 'BT_FRAME', encode([root], { ...INFO2, unlisted: 'unchanged' }).stream,
    'version 2: BACKTORY.unlisted in a full stream, which has no base')
  bad('v2_unlisted_unknown', 'header failure', 'BT_FRAME', encode([root], { ...DIFF2, unlisted: 'ignored' as 'deleted' }).stream,
    'version 2: BACKTORY.unlisted=ignored: "deleted" and "unchanged" are the values')
  bad('v2_diff_without_base', 'header failure', 'BT_FRAME', encode([root], { ...DIFF2, base: undefined }).stream,
    'a diff stream without BACKTORY.base: readers refuse it, not only appliers')
  bad('v2_full_with_base', 'header failure', 'BT_FRAME', encode([root], { ...INFO2, base: BASE_ID }).stream,
    'a full stream with BACKTORY.base')
}

/** Rules of READING RULES that hold in every version, cut from version 1 streams by hand. */
function ruleVectors(ok: Ok, bad: Bad, upToLast: Buffer, hand: Hand): void {
  const header = new StreamEncoder({ version: '1' }).header(INFO)
  const root = meta('.', 'directory')
  const rootEntry = { meta: root, records: (c: string) => encodePax(entryRecords(root, 0, c)) }
  const one = (m: EntryMeta, extra: Array<[string, string | Buffer]>) =>
    finish(Buffer.concat([upToLast, handEntry(m, encodePax([...entryRecords(m, 0, sha256(upToLast)).slice(0, -1),
      ...extra, ['BACKTORY.chain', sha256(upToLast)]]), Buffer.alloc(0))]), 6)
  const frame = (name: string, stream: Buffer, comment: string) => bad(name, 'frame failure', 'BT_FRAME', stream, comment)
  frame('hardlink_empty_target', one(meta('hl', 'hardlink', { linkpath: '' }), []), 'a hard link whose linkpath is empty')
  frame('symlink_empty_target', one(meta('sl', 'symlink', { linkpath: '' }), []), 'a symbolic link whose linkpath is empty')
  frame('dev_not_decimal', one(meta('d.txt', 'file', { dev: '0x801' }), []), 'BACKTORY.dev=0x801: a decimal number')
  frame('ino_not_decimal', one(meta('i.txt', 'file', { ino: '-5' }), []), 'BACKTORY.ino=-5: a decimal number without sign')
  frame('pax_empty_key', one(meta('k.txt', 'file'), [['', 'x']]), 'a pax record with an empty key')
  frame('pax_nul_key', one(meta('k.txt', 'file'), [['comment\0x', 'y']]), 'a pax key with a NUL octet')
  frame('empty_path', one(meta('', 'file'), []), 'an entry whose path record and ustar name are empty')
  frame('root_not_directory', one(meta('.', 'file'), []), 'an entry "." that is a regular file: the root is a directory')
  const fields = meta('octal.txt', 'file', { mode: 0o640, uid: 1234, gid: 5678, size: 6, uname: 'ustar-user', gname: 'ustar-group' })
  ok('success_octal_tolerance', hand(header, [rootEntry, {
    meta: fields, data: Buffer.from('octal\n'), records: (c) => encodePax([['path', 'octal.txt'], ['mtime', String(T0)], ['BACKTORY.chain', c]]),
    tweak: (b) => {
      b.write('   640 \0', 100, 8, 'latin1') // leading spaces, then digits, then a space and a NUL
      b.write(' 2322\0\0\0', 108, 8, 'latin1')
      b.write('13056\0  ', 116, 8, 'latin1') // NULs and spaces mixed after the digits
      b.fill(0, 329, 345) // devmajor and devminor all NUL: 0
    },
  }]), 'ustar numeric fields with leading spaces, trailing spaces and NULs mixed, and all-NUL fields, which readers accept')
  const spaced = meta('octal.txt', 'file', { size: 0 })
  frame('octal_space_inside', finish(Buffer.concat([upToLast, handEntry(spaced,
    encodePax(entryRecords(spaced, 0, sha256(upToLast)).filter(([k]) => k !== 'uid')), Buffer.alloc(0), {},
    (b) => b.write('12 34\0\0\0', 108, 8, 'latin1'))]), 6), 'a ustar uid field "12 34": a space between digits is not octal')
  bad('header_bad_pax_record', 'header failure', 'BT_FRAME', Buffer.concat([ustar('g', 'BACKTORY.header', 24), padded(Buffer.from('99 BACKTORY.kind=header\n'))]),
    'the header frame\'s first pax record says 99 octets where 24 are: malformed (BT_FRAME), not "not a stream"')
  const lit = meta('lit.txt', 'file', { size: 4 })
  ok('success_sha256_on_literal', hand(header, [rootEntry, {
    meta: lit, data: Buffer.from('lit\n'), records: (c) => recordsWith(lit, 4, c, [['BACKTORY.sha256', 'not a digest'], ['BACKTORY.from', '../x']]),
  }]), 'BACKTORY.sha256 and BACKTORY.from on a literal, where no op calls for them: ignored whatever their value')
  const sp = meta('disk.img', 'file', { size: 300, sparse: [[0, 10], [100, 0], [200, 10]] })
  const spMap = encodeSparseMap(sp.sparse!)
  const spData = noise(13, 20)
  ok('success_sparse_details', hand(header, [rootEntry, {
    meta: sp, data: Buffer.concat([spMap, spData]), listed: spData, more: { name: 'GNUSparseFile.0/disk.img' },
    records: (c) => recordsWith(sp, spMap.length + 20, c, [['path', 'not-this-name']]),
  }]), 'a sparse file with a zero-length segment in the middle, and a path record that GNU.sparse.name overrides')
  frame('sparse_without_realsize', finish(Buffer.concat([upToLast, handEntry(sp,
    encodePax(entryRecords(sp, spMap.length + 20, sha256(upToLast)).filter(([k]) => k !== 'GNU.sparse.realsize')),
    Buffer.concat([spMap, spData]), { name: 'GNUSparseFile.0/disk.img' })]), 6), 'a sparse file without GNU.sparse.realsize, which is required')
}

export function generateVectors(): Vector[] {
  const out: Vector[] = []
  const ok = (name: string, e: { stream: Buffer; lines: string[] }, comment: string) =>
    out.push({ name, expect: 'success', code: 'none', payload: payloadOf(e.lines), comment, stream: e.stream })
  const bad = (name: string, expect: Expect, code: string, stream: Buffer, comment: string) =>
    out.push({ name, expect, code, payload: sha256(stream), comment, stream })

  // Success.
  ok('success', encode(fullTree()),
    'every entry type, uid 300000, nanosecond times, xattrs (binary, and a name with = and %), a sparse file, long and UTF-8 names')
  ok('success_empty', encode([]), 'a header frame and a trailer frame, no entries')
  const changing = file('data.log', Buffer.from('partly written\n'))
  changing.incomplete = 'changed while being read'
  ok('success_incomplete', encode([{ meta: meta('.', 'directory') }, changing]), 'an entry followed by an incomplete note; the trailer counts it')

  // Success by hand: what readers must accept although StreamEncoder never writes it.
  const hand = (header: Buffer, entries: HandEntry[], trailerExtra: Array<[string, string]> = []) => {
    let prefix = header
    const lines = [listFrame({ kind: 'header', info: INFO })]
    for (const e of entries) {
      const data = e.data ?? Buffer.alloc(0)
      prefix = Buffer.concat([prefix, handEntry(e.meta, e.records(sha256(prefix)), data, e.more, e.tweak)])
      lines.push(listFrame({ kind: 'entry', meta: e.meta, data: sha256(e.listed ?? data) }))
    }
    lines.push(listFrame({ kind: 'trailer', entries: entries.length, incomplete: 0, bytes: prefix.length, chain: sha256(prefix) }))
    return { stream: finish(prefix, entries.length, {}, trailerExtra), lines }
  }
  const header = new StreamEncoder({ version: '1' }).header(INFO)
  const root = meta('.', 'directory')
  const hello = meta('a.txt', 'file', { size: 6 })
  ok('success_unknown_keys', hand(
    globalFrame('BACKTORY.header', [...encodeHeaderRecords(INFO), ['BACKTORY.note', 'from a later revision'], ['comment', 'by hand']]),
    [
      { meta: root, more: { name: './' }, records: (c) => recordsWith(root, 0, c, [['atime', '1717243200.5'], ['charset', 'ISO-IR 10646 2000 UTF-8'], ['BACKTORY.future', 'x']]) },
      {
        meta: hello, data: Buffer.from('hello\n'),
        records: (c) => recordsWith(hello, 6, c, [['comment', 'hi'], ['SCHILY.acl.access', 'user::rw-,group::r--,other::r--'], ['BACKTORY.future', 'y']]),
      },
    ], [['BACKTORY.note', 'z'], ['comment', 'bye']]),
  'unknown pax keys in every frame kind, BACKTORY.* ones included, and star ACL text: readers ignore them')
  const fromUstar = meta('plain.txt', 'file', { uid: 1234, gid: 5678, uname: 'ustar-user', gname: 'ustar-group', mode: 0o640, size: 6 })
  const dirUstar = meta('dir', 'directory', { uid: 1234, gid: 5678, uname: 'ustar-user', gname: 'ustar-group' })
  ok('success_ustar_fallback', hand(header, [
    { meta: root, records: (c) => encodePax(entryRecords(root, 0, c)) },
    { meta: dirUstar, more: { name: 'dir/' }, records: (c) => encodePax([['BACKTORY.chain', c]]) },
    { meta: fromUstar, data: Buffer.from('plain\n'), records: (c) => encodePax([['BACKTORY.chain', c]]) },
  ]), 'entries whose pax header holds only the chain: path, ids, names and mtime come from the ustar block')
  const bigUid = meta('big-uid', 'file', { uid: 5000000 })
  ok('success_base256', hand(header, [
    { meta: root, records: (c) => encodePax(entryRecords(root, 0, c)) },
    {
      meta: bigUid, records: (c) => encodePax(entryRecords(bigUid, 0, c).filter(([k]) => k !== 'uid')),
      tweak: (b) => {
        b.fill(0, 108, 116)
        b[108] = 0x80
        b.writeUIntBE(5000000, 113, 3)
      },
    },
  ]), 'a uid of 5000000 only in the ustar field, in GNU base-256 (readers accept a positive one)')

  const small = encode(smallTree())
  const s = small.stream
  const m = small.marks
  const [, notes, sparse, , last] = m.items as [unknown, Marks['items'][0], Marks['items'][0], unknown, Marks['items'][0]]
  const upToLast = s.subarray(0, m.trailer)

  // Differentials (backtory-stream(5), DIFFERENTIAL RECORDS and DELTA FORMAT).
  ok('success_diff', encode(diffTree(), DIFF_INFO),
    'a differential: BACKTORY.base and base-index; unchanged, meta, copy and delta records (a valid 67-byte delta of an 8192-byte base) next to a literal')
  ok('success_quick', encode(quickTree(), QUICK_INFO), 'a quick-checked scan: unchanged records without content, and content elsewhere')
  bad('op_in_full', 'frame failure', 'BT_FRAME', encode([{ meta: meta('.', 'directory') }, record('conf.txt', 'unchanged', 120)]).stream,
    'an unchanged record in a full stream: BACKTORY.op occurs only in quick and diff streams')
  bad('delta_in_quick', 'frame failure', 'BT_FRAME', encode([{ meta: meta('.', 'directory') }, deltaItem('data.db')], QUICK_INFO).stream,
    'a delta record in a quick stream, which may hold unchanged records only')
  bad('unknown_op', 'frame failure', 'BT_FRAME',
    encode([{ meta: meta('.', 'directory') }, record('conf.txt', 'patch' as 'meta', 120)], DIFF_INFO).stream,
    'BACKTORY.op=patch in a differential: readers refuse an op they do not know')
  bad('delta_bad_hash', 'frame failure', 'BT_FRAME',
    encode([{ meta: meta('.', 'directory') }, deltaItem('data.db', { sha256: `${'0'.repeat(63)}g` })], DIFF_INFO).stream,
    'a delta record whose BACKTORY.sha256 has a non-hex digit')
  bad('delta_uppercase_hash', 'frame failure', 'BT_FRAME',
    encode([{ meta: meta('.', 'directory') }, deltaItem('data.db', { baseSha256: sha256(noise(30, 8192)).toUpperCase() })], DIFF_INFO).stream,
    'a delta record whose BACKTORY.base-sha256 is the right digest in uppercase: hex digests are lowercase')
  bad('delta_without_base_sha256', 'frame failure', 'BT_FRAME',
    encode([{ meta: meta('.', 'directory') }, deltaItem('data.db', { baseSha256: undefined })], DIFF_INFO).stream,
    'a delta record without BACKTORY.base-sha256')
  bad('copy_without_from', 'frame failure', 'BT_FRAME',
    encode([{ meta: meta('.', 'directory') }, record('moved.bin', 'copy', 5000, { sha256: COPIED })], DIFF_INFO).stream,
    'a copy record without BACKTORY.from')
  bad('op_on_symlink', 'frame failure', 'BT_FRAME',
    encode([{ meta: meta('.', 'directory') }, { meta: meta('top', 'symlink', { mode: 0o777, linkpath: 'x', op: 'unchanged' }) }], DIFF_INFO).stream,
    'BACKTORY.op on a symbolic link: records are regular files only')
  bad('op_on_sparse', 'frame failure', 'BT_FRAME',
    encode([{ meta: meta('.', 'directory') }, {
      meta: meta('disk.img', 'file', { size: 65536, sparse: [[65536, 0]], op: 'unchanged' }),
    }], DIFF_INFO).stream,
    'an unchanged record that carries a sparse map: a sparse file always travels as a literal')
  const diffRoot = encode([{ meta: meta('.', 'directory') }], DIFF_INFO)
  const diffPrefix = diffRoot.stream.subarray(0, diffRoot.marks.trailer)
  const conf = meta('conf.txt', 'file', { size: 5, op: 'unchanged' })
  bad('op_without_size', 'frame failure', 'BT_FRAME', finish(Buffer.concat([diffPrefix,
    handEntry(conf, encodePax(entryRecords(conf, 0, sha256(diffPrefix)).filter(([k]) => k !== 'BACKTORY.size')), Buffer.alloc(0))]), 2),
  'an unchanged record without BACKTORY.size')
  bad('unchanged_with_data', 'frame failure', 'BT_FRAME', finish(Buffer.concat([diffPrefix,
    handEntry(conf, encodePax(entryRecords(conf, 5, sha256(diffPrefix))), Buffer.from('stale'))]), 2),
  'an unchanged record with 5 bytes of data: only a delta record stores any')

  // Captures (backtory-stream(5), CAPTURES). Parts are small here: readers do not check part sizes.
  const dump = noise(40, 3000)
  const dumpParts = [dump.subarray(0, 1200), dump.subarray(1200, 2400), dump.subarray(2400)]
  const capTree = [
    { meta: meta('.', 'directory') }, file('a.txt', Buffer.from('before the captures\n')),
    ...capture('db.sql', dumpParts), ...capture('empty.sql', [Buffer.alloc(0)]), ...capture('one.sql', [Buffer.from('one part\n')]),
    file('z.txt', Buffer.from('after the captures\n')),
  ]
  ok('success_capture', encode(capTree),
    'captured files: "db.sql" in three parts (1200, 1200, 600 bytes), "empty.sql" in one empty part, "one.sql" in one part; each listed as one entry')
  ok('success_capture_quick', encode([quickTree()[0]!, quickTree()[1]!, ...capture('db.sql', dumpParts.slice(0, 2))], QUICK_INFO),
    'a quick stream with an unchanged record and a captured file in two parts')
  const capped = encode(capTree)
  const cm = capped.marks.items
  bad('capture_digest_mismatch', 'digest failure', 'BT_DIGEST', flip(capped.stream, cm[3]!.data + 7),
    'one bit flipped in part 1 of "db.sql", caught by the chain of part 2 inside the run')
  bad('capture_digest_mismatch_last', 'digest failure', 'BT_DIGEST', flip(capped.stream, cm[4]!.data + 7),
    'one bit flipped in the last part of "db.sql", caught by the chain of the frame after the run')
  bad('capture_truncated', 'truncated', 'BT_TRUNCATED', capped.stream.subarray(0, cm[3]!.start),
    'ends right after part 0 of "db.sql", which says more parts follow')
  bad('capture_truncated_data', 'truncated', 'BT_TRUNCATED', capped.stream.subarray(0, cm[3]!.data + 600),
    'ends inside the data of part 1 of "db.sql"')

  // Malformed runs, made by hand (StreamEncoder refuses them), with right chains.
  const capRoot = encode([{ meta: meta('.', 'directory') }])
  interface Piece { meta: EntryMeta; data: Buffer; part?: CapturePart; records?: (chain: string) => Buffer }
  const piece = (path: string, index: number | undefined, more: boolean, data: Buffer, m: Partial<EntryMeta> = {}): Piece => ({
    meta: meta(path, 'file', { mode: 0o600, size: data.length, ...m }), data, ...(index === undefined ? {} : { part: { index, more } }),
  })
  const runOf = (pieces: Piece[], end: 'trailer' | 'incomplete' = 'trailer', info = INFO): Buffer => {
    let prefix = info === INFO ? capRoot.stream.subarray(0, capRoot.marks.trailer) : encode([{ meta: meta('.', 'directory') }], info).stream.subarray(0, capRoot.marks.trailer)
    for (const p of pieces) {
      const pax = p.records?.(sha256(prefix)) ?? encodePax(entryRecords(p.meta, p.data.length, sha256(prefix), p.part))
      prefix = Buffer.concat([prefix, handEntry(p.meta, pax, p.data)])
    }
    if (end === 'incomplete') {
      prefix = Buffer.concat([prefix, globalFrame('BACKTORY.incomplete', [['BACKTORY.kind', 'incomplete'], ['BACKTORY.path', 'db.sql'],
        ['BACKTORY.reason', 'changed while being read'], ['BACKTORY.chain', sha256(prefix)]])])
    }
    return finish(prefix, pieces.length + 1)
  }
  const [p0, p1, p2] = dumpParts as [Buffer, Buffer, Buffer]
  const frameBad = (name: string, stream: Buffer, comment: string) => bad(name, 'frame failure', 'BT_FRAME', stream, comment)
  frameBad('capture_gap', runOf([piece('db.sql', 0, true, p0), piece('db.sql', 2, false, p2)]),
    'part 0 of "db.sql" says more follow, then part 2: part 1 is missing')
  frameBad('capture_wrong_order', runOf([piece('db.sql', 1, true, p1), piece('db.sql', 0, false, p0)]),
    'part 1 of "db.sql" before its part 0')
  frameBad('capture_path_change', runOf([piece('db.sql', 0, true, p0), piece('dc.sql', 1, false, p1)]),
    'part 0 of "db.sql", then part 1 of "dc.sql": the parts of a run share one path')
  frameBad('capture_part_after_last', runOf([piece('db.sql', 0, true, p0), piece('db.sql', 1, false, p1), piece('db.sql', 2, false, p2)]),
    'a part 2 of "db.sql" after its part 1, which had no BACKTORY.more')
  frameBad('capture_cut_by_trailer', runOf([piece('db.sql', 0, true, p0), piece('db.sql', 1, true, p1)]),
    'part 1 of "db.sql" says more follow, then the trailer, with right counts and chain')
  frameBad('capture_cut_by_entry', runOf([piece('db.sql', 0, true, p0), piece('db.sql', undefined, false, p1)]),
    'part 0 of "db.sql" says more follow, then an entry of the same path without BACKTORY.part')
  frameBad('capture_cut_by_incomplete', runOf([piece('db.sql', 0, true, p0)], 'incomplete'),
    'part 0 of "db.sql" says more follow, then an incomplete note')
  frameBad('capture_bad_more', runOf([{ ...piece('db.sql', 0, true, p0),
    records: (c) => encodePax(entryRecords(piece('db.sql', 0, true, p0).meta, p0.length, c, { index: 0, more: true }).map(([k, v]): [string, string | Buffer] => [k, k === 'BACKTORY.more' ? 'yes' : v])) },
  piece('db.sql', 1, false, p1)]), 'BACKTORY.more=yes: "1" is the only value')
  frameBad('capture_more_without_part', runOf([{ ...piece('db.sql', undefined, false, p0),
    records: (c) => recordsWith(piece('db.sql', undefined, false, p0).meta, p0.length, c, [['BACKTORY.more', '1']]) }]),
  'BACKTORY.more on an entry without BACKTORY.part')
  frameBad('capture_leading_zero_part', runOf([{ ...piece('db.sql', 0, true, p0),
    records: (c) => encodePax(entryRecords(piece('db.sql', 0, false, p0).meta, p0.length, c, { index: 0, more: false }).map(([k, v]): [string, string | Buffer] => [k, k === 'BACKTORY.part' ? '00' : v])) }]),
  'BACKTORY.part=00: decimal values have no leading zero')
  const symPart = meta('db.sql', 'symlink', { mode: 0o777, linkpath: 'z.txt' })
  frameBad('capture_on_symlink', runOf([{ meta: symPart, data: Buffer.alloc(0), records: (c) => encodePax(entryRecords(symPart, 0, c, { index: 0, more: false })) }]),
    'BACKTORY.part on a symbolic link: only a plain regular file is a part')
  frameBad('capture_in_diff', runOf([piece('db.sql', 0, false, p0)], 'trailer', DIFF_INFO),
    'a captured file in a differential, which stores every file as one entry')

  // Header failures.
  bad('empty_input', 'truncated', 'BT_TRUNCATED', Buffer.alloc(0), 'no bytes at all')
  const gnuTar = Buffer.concat([
    gnuHeader('0', 'hello.txt', 13), padded(Buffer.from('hello, world\n')),
    gnuHeader('5', 'dir/', 0), ZERO_BLOCK, ZERO_BLOCK,
  ])
  bad('not_a_stream', 'header failure', 'BT_NOT_STREAM', gnuTar, 'a plain GNU-format tar (magic "ustar  "), no header frame')
  const xRecords = encodePax([['path', 'hello.txt'], ['mtime', '1717243200.5']])
  bad('not_a_stream_pax', 'header failure', 'BT_NOT_STREAM', Buffer.concat([
    ustar('x', 'PaxHeaders/hello.txt', xRecords.length), padded(xRecords),
    ustar('0', 'hello.txt', 13), padded(Buffer.from('hello, world\n')), ZERO_BLOCK, ZERO_BLOCK,
  ]), 'a plain pax tar: it starts with a per-file pax header, not a global one')
  bad('not_a_stream_global', 'header failure', 'BT_NOT_STREAM', Buffer.concat([
    globalFrame('pax_global_header', [['comment', 'made by some tar']]),
    ustar('0', 'hello.txt', 13), padded(Buffer.from('hello, world\n')), ZERO_BLOCK, ZERO_BLOCK,
  ]), 'a pax tar whose global header is not backtory\'s (no BACKTORY.kind)')
  bad('not_a_stream_zeros', 'header failure', 'BT_NOT_STREAM', Buffer.alloc(2 * BLOCK), 'an empty tar archive: just the end-of-archive marker')
  bad('not_a_stream_garbage', 'header failure', 'BT_NOT_STREAM',
    Buffer.concat([Buffer.from('age-encryption.org/v1\n-> X25519 not-a-real-stanza\n--- mac\n'), noise(20, 1000)]),
    'an encrypted file, not a tar: the first block is not a ustar header')
  bad('starts_with_trailer', 'header failure', 'BT_NOT_STREAM', finish(Buffer.alloc(0), 0), 'a trailer frame where the header frame belongs')
  bad('unknown_version', 'header failure', 'BT_VERSION', encode(smallTree(), { ...INFO, version: '3' }).stream,
    'BACKTORY.v=3 in an otherwise valid stream (laid out as version 2); readers must refuse unknown versions')
  const noId = globalFrame('BACKTORY.header', encodeHeaderRecords(INFO).filter(([k]) => k !== 'BACKTORY.id'))
  bad('header_missing_field', 'header failure', 'BT_FRAME', finish(noId, 0), 'the header frame lacks BACKTORY.id')

  // Frame failures.
  const plain = Buffer.concat([ustar('0', 'plain.txt', 6, { mtime: T0 }), padded(Buffer.from('plain\n'))])
  bad('entry_without_pax', 'frame failure', 'BT_FRAME', finish(Buffer.concat([s.subarray(0, m.headerEnd), plain]), 1),
    'after the header frame, a tar entry with no pax header of its own')
  bad('unknown_frame_kind', 'frame failure', 'BT_FRAME', finish(Buffer.concat([upToLast,
    globalFrame('BACKTORY.snapshot', [['BACKTORY.kind', 'snapshot'], ['BACKTORY.chain', sha256(upToLast)]])]), 5),
  'a global frame of kind "snapshot", with a right chain; readers must refuse unknown kinds')
  bad('second_header', 'frame failure', 'BT_FRAME', finish(Buffer.concat([upToLast,
    globalFrame('BACKTORY.header', [...encodeHeaderRecords(INFO), ['BACKTORY.chain', sha256(upToLast)]])]), 5),
  'a second header frame before the trailer, with a right chain')
  const zMeta = meta('zz.txt', 'file', { size: 3 })
  bad('missing_chain', 'frame failure', 'BT_FRAME', finish(Buffer.concat([upToLast,
    handEntry(zMeta, encodePax(entryRecords(zMeta, 3, '').filter(([k]) => k !== 'BACKTORY.chain')), Buffer.from('zz\n'))]), 6),
  'an entry whose pax header lacks BACKTORY.chain')
  const lnMeta = meta('ln', 'symlink', { linkpath: 'z.txt' })
  bad('symlink_with_data', 'frame failure', 'BT_FRAME', finish(Buffer.concat([upToLast,
    handEntry(lnMeta, encodePax(entryRecords(lnMeta, 0, sha256(upToLast))), Buffer.from('0123456789'))]), 6),
  'a symlink entry that claims 10 bytes of data')
  const contig = meta('contiguous', 'file', { size: 3 })
  bad('unsupported_type', 'frame failure', 'BT_FRAME', finish(Buffer.concat([upToLast,
    handEntry(contig, encodePax(entryRecords(contig, 3, sha256(upToLast))), Buffer.from('ab\n'), { typeflag: '7' })]), 6),
  'an entry of tar type 7 (contiguous file), which backtory does not write')
  // "99 comment=x\n" is 13 bytes long, so the record runs past the end of the header.
  const overrun = Buffer.concat([encodePax(entryRecords(zMeta, 3, sha256(upToLast))), Buffer.from('99 comment=x\n')])
  bad('bad_pax_record', 'frame failure', 'BT_FRAME', finish(Buffer.concat([upToLast, handEntry(zMeta, overrun, Buffer.from('zz\n'))]), 6),
    'a pax record whose length runs past the end of its header')
  const sMeta = meta('bad.img', 'file', { size: 65536, sparse: [[0, 2000], [65536, 0]] })
  const sMap = encodeSparseMap([[0, 2000], [65536, 0]])
  bad('sparse_map_mismatch', 'frame failure', 'BT_FRAME', finish(Buffer.concat([upToLast,
    handEntry(sMeta, encodePax(entryRecords(sMeta, sMap.length + 1000, sha256(upToLast))), Buffer.concat([sMap, noise(12, 1000)]), { name: 'GNUSparseFile.0/bad.img' })]), 6),
  'a sparse entry whose map promises 2000 bytes of data but whose size holds 1000')
  const orphan = encodePax(entryRecords(zMeta, 3, sha256(upToLast)))
  bad('pax_then_eoa', 'frame failure', 'BT_FRAME', Buffer.concat([upToLast, ustar('x', 'PaxHeaders/zz.txt', orphan.length), padded(orphan), ZERO_BLOCK, ZERO_BLOCK]),
    'a pax header followed by the end-of-archive marker instead of its entry')
  bad('oversized_header', 'frame failure', 'BT_FRAME_SIZE', encode([
    { meta: meta('.', 'directory') },
    file('big-xattr', Buffer.from('x\n'), { xattrs: [['user.blob', Buffer.alloc(1 << 20)]] }),
  ]).stream, 'an entry whose pax header (a 1 MiB xattr) exceeds the default 1 MiB limit')
  bad('trailer_count_mismatch', 'frame failure', 'BT_FRAME', finish(upToLast, 5, { entries: 6 }),
    'the trailer counts 6 entries, the stream has 5; its chain and byte count are right')
  bad('trailer_bytes_mismatch', 'frame failure', 'BT_FRAME', finish(upToLast, 5, { bytes: m.trailer - 512 }),
    'the trailer counts 512 bytes too few; its chain and entry count are right')
  const negMeta = meta('negative', 'file', { size: 0 })
  bad('base256_negative', 'frame failure', 'BT_FRAME', finish(Buffer.concat([upToLast,
    handEntry(negMeta, encodePax(entryRecords(negMeta, 0, sha256(upToLast))), Buffer.alloc(0), {}, (b) => b.fill(0xff, 136, 148))]), 6),
  'an entry whose ustar mtime is -1 in GNU base-256: readers reject negative base-256 values')
  bad('leading_zero_uid', 'frame failure', 'BT_FRAME', finish(Buffer.concat([upToLast,
    handEntry(zMeta, encodePax(entryRecords(zMeta, 3, sha256(upToLast)).map(([k, v]): [string, string | Buffer] => [k, k === 'uid' ? '0300000' : v])),
      Buffer.from('zz\n'))]), 6),
  'uid=0300000: readers reject decimal values with a leading zero')
  const trailerPax = decodeUstar(s.subarray(m.trailer, m.trailer + BLOCK), 'trailer').size
  if (padding(trailerPax) === 0) throw new Error('the trailer pax header has no padding to spoil')
  bad('pax_padding_nonzero', 'frame failure', 'BT_FRAME', flip(s, m.trailer + BLOCK + trailerPax, 0x20),
    'a space in the padding after the trailer\'s pax records, which no digest covers')
  bad('bad_checksum', 'frame failure', 'BT_FRAME', flip(s, notes.ustar + 1),
    'a byte of the name in an entry\'s ustar header changed, so its checksum fails')

  // Digest failures.
  bad('digest_mismatch', 'digest failure', 'BT_DIGEST', flip(s, notes.data + 100),
    'one bit flipped in the data of "notes.txt", caught by the chain of the next frame')
  const host = s.indexOf('vectors.example')
  if (host === -1 || host > m.headerEnd) throw new Error('host not found in the header frame')
  bad('digest_mismatch_header', 'digest failure', 'BT_DIGEST', flip(s, host),
    'one bit flipped in BACKTORY.host of the header frame, caught by the chain of the first entry')
  bad('digest_uppercase', 'digest failure', 'BT_DIGEST', finish(Buffer.concat([upToLast,
    handEntry(zMeta, encodePax(entryRecords(zMeta, 3, sha256(upToLast).toUpperCase())), Buffer.from('zz\n'))]), 6),
  'the right chain digest in uppercase hex: readers compare it octet for octet')
  bad('digest_mismatch_at_trailer', 'digest failure', 'BT_DIGEST', flip(s, last.data + 1),
    'one bit flipped in the data of the last entry, caught by the trailer\'s chain')
  bad('digest_mismatch_sparse', 'digest failure', 'BT_DIGEST', flip(s, sparse.data + 999, 0x80),
    'one bit flipped in the data of the sparse file, caught by the chain of the next frame')

  // Truncation.
  const cut = (name: string, at: number, comment: string) => bad(name, 'truncated', 'BT_TRUNCATED', s.subarray(0, at), comment)
  cut('truncated_header_frame', 100, 'ends 100 bytes into the header frame\'s ustar block')
  cut('truncated_header_pax', BLOCK + 50, 'ends inside the pax records of the header frame')
  cut('truncated_after_header', m.headerEnd, 'ends right after the header frame')
  cut('truncated_entry_pax', notes.start + BLOCK + 20, 'ends inside the pax header of "notes.txt"')
  cut('truncated_entry_header', notes.ustar + 200, 'ends inside the ustar header of "notes.txt"')
  cut('truncated_file_data', notes.data + 300, 'ends inside the data of "notes.txt"')
  cut('truncated_padding', notes.dataEnd + 10, 'ends inside the block padding after "notes.txt"')
  cut('truncated_sparse_map', sparse.map + 100, 'ends inside the sparse map of "sparse.img"')
  cut('truncated_sparse_data', sparse.data + 500, 'ends inside the data of "sparse.img"')
  cut('truncated_before_trailer', m.trailer, 'ends at a frame boundary just before the trailer')
  cut('truncated_trailer', m.trailer + 600, 'ends inside the trailer\'s pax records')
  cut('truncated_no_eoa', m.eoa, 'ends right after the trailer frame: no end-of-archive marker')
  cut('truncated_eoa', m.eoa + BLOCK + 200, 'ends inside the second block of the end-of-archive marker')
  bad('missing_trailer', 'truncated', 'BT_TRUNCATED', Buffer.concat([upToLast, ZERO_BLOCK, ZERO_BLOCK]),
    'a well-formed tar that ends with the end-of-archive marker but has no trailer frame')

  // Trailing data.
  const trail = (name: string, extra: Buffer, comment: string) => bad(name, 'trailing data', 'BT_TRAILING', Buffer.concat([s, extra]), comment)
  trail('trailing_garbage', Buffer.from('garbage\n'), 'eight bytes of text after the end-of-archive marker')
  trail('trailing_newline', Buffer.from('\n'), 'one newline after the end-of-archive marker')
  trail('trailing_zero_block', Buffer.alloc(BLOCK), 'a third zero block after the end-of-archive marker (tar record padding is not allowed)')
  trail('concatenated_streams', s, 'two complete streams, one after the other')
  bad('trailer_then_garbage', 'trailing data', 'BT_TRAILING', Buffer.concat([s.subarray(0, m.eoa), Buffer.alloc(2 * BLOCK, 0x78)]),
    'non-zero bytes where the end-of-archive marker belongs')

  v2Vectors(ok, bad)
  ruleVectors(ok, bad, upToLast, hand)
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

export function vectorFiles(): Map<string, Buffer> {
  return new Map(generateVectors().map((v) => [`stream_${v.name}`, formatVector(v)]))
}

function main(argv: string[]): number {
  const check = argv[0] === '--check'
  const dir = argv[check ? 1 : 0]
  if (dir === undefined || argv.length > (check ? 2 : 1)) {
    process.stderr.write('usage: gen-vectors [--check] DIR\n')
    return 2
  }
  const files = vectorFiles()
  mkdirSync(dir, { recursive: true })
  const stale = readdirSync(dir).filter((f) => f.startsWith('stream_') && !files.has(f))
  const changed = [...files].filter(([name, bytes]) => !existsSync(join(dir, name)) || !readFileSync(join(dir, name)).equals(bytes))
  if (check) {
    for (const f of stale) process.stderr.write(`gen-vectors: stale ${f}\n`)
    for (const [f] of changed) process.stderr.write(`gen-vectors: differs ${f}\n`)
    return stale.length + changed.length === 0 ? 0 : 1
  }
  for (const f of stale) rmSync(join(dir, f))
  for (const [name, bytes] of changed) writeFileSync(join(dir, name), bytes)
  process.stderr.write(`gen-vectors: ${files.size} vectors, ${changed.length} written, ${stale.length} removed\n`)
  return 0
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2))
}
