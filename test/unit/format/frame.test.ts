// The typed frame layer: BACKTORY.* and entry pax records to and from Frame values.
import t from 'tap'
import { InputError } from '../../../src/errors.js'
import {
  type EntryMeta, type EntryType, STREAM_VERSION, chainOf, decodeEntry,
  entryRecords, formatTime, parseTime, storedSize, typeflagOf,
} from '../../../src/format/frame.js'
import { decodeGlobal, encodeHeaderRecords, encodeIncompleteRecords, encodeTrailerRecords } from '../../../src/format/control.js'
import { type PaxRecords, type Ustar, decodePax, encodePax } from '../../../src/format/tarblock.js'

const pax = (records: Array<[string, string | Buffer]>): PaxRecords => decodePax(encodePax(records), 'test')

const INFO = {
  version: '1', producer: 'backtory test', host: 'h', source: '/src', stream: 'full', time: '2024-06-01T12:00:00.000Z', id: 'ab',
}

function ustar(typeflag: string, more: Partial<Ustar> = {}): Ustar {
  return {
    name: 'f', mode: 0o644, uid: 7, gid: 8, size: 0, mtime: 1000, typeflag, linkname: '', uname: 'u', gname: 'g',
    devmajor: 0, devminor: 0, ...more,
  }
}

t.test('formatTime and parseTime', async (t) => {
  t.equal(formatTime({ sec: 1717243200, nsec: 0 }), '1717243200')
  t.equal(formatTime({ sec: 1, nsec: 5 }), '1.000000005')
  t.equal(formatTime({ sec: 0, nsec: 999999999 }), '0.999999999')
  t.equal(formatTime({ sec: 0, nsec: 0 }), '0')
  t.strictSame(parseTime('1717243200', 'test'), { sec: 1717243200, nsec: 0 })
  t.strictSame(parseTime('1.5', 'test'), { sec: 1, nsec: 500000000 })
  t.strictSame(parseTime('1.000000001', 'test'), { sec: 1, nsec: 1 })
  t.strictSame(parseTime('1.1234567899', 'test'), { sec: 1, nsec: 123456789 }, 'digits past the ninth are cut, not rounded')
  t.strictSame(parseTime('7.0', 'test'), { sec: 7, nsec: 0 })
  for (const nsec of [0, 1, 10, 999, 123456789, 999999999]) {
    for (const sec of [0, 1, 1717243200, 2 ** 33 + 5]) {
      t.strictSame(parseTime(formatTime({ sec, nsec }), 'test'), { sec, nsec }, `${sec}.${nsec} round trips`)
    }
  }
  for (const bad of ['', ' 1', '1 ', '1.', '.5', '1e9', '1.5x', '--1', '+1', '0x10', '1,5', '1.-5', '01', '-01.5', '1'.repeat(17)]) {
    t.throws(() => parseTime(bad, 'test'), { code: 'BT_FRAME' }, `${JSON.stringify(bad)} is refused`)
  }
})

// Time is a timespec: sec is the floor, 0 <= nsec < 1e9 (see scan/meta.ts timeOf).
// A pax time is a decimal number of seconds (POSIX pax, GNU tar code_timespec):
// -1.5 s is { sec: -2, nsec: 500000000 } and is written "-1.5", never "-2.5".
t.test('negative times follow pax decimal semantics', async (t) => {
  t.equal(formatTime({ sec: -1, nsec: 0 }), '-1')
  t.strictSame(parseTime('-1', 'test'), { sec: -1, nsec: 0 })
  t.strictSame(parseTime('-86400', 'test'), { sec: -86400, nsec: 0 })
  for (const sec of [-1, -2, -86400]) {
    for (const nsec of [1, 500000000, 999999999]) {
      t.strictSame(parseTime(formatTime({ sec, nsec }), 'test'), { sec, nsec }, `${sec}+${nsec}ns round trips`)
    }
  }
  t.equal(formatTime({ sec: -2, nsec: 500000000 }), '-1.500000000', '-1.5 s is written as -1.5')
  t.equal(formatTime({ sec: -1, nsec: 750000000 }), '-0.250000000', '-0.25 s is written as -0.25')
  t.strictSame(parseTime('-1.5', 'test'), { sec: -2, nsec: 500000000 }, '"-1.5" (GNU tar, bsdtar) is -1.5 s')
  t.strictSame(parseTime('-0.25', 'test'), { sec: -1, nsec: 750000000 }, '"-0.25" is -0.25 s, not +0.25 s')
})

t.test('typeflags', async (t) => {
  const types: Record<EntryType, string> = {
    file: '0', hardlink: '1', symlink: '2', chardev: '3', blockdev: '4', directory: '5', fifo: '6',
  }
  for (const [type, flag] of Object.entries(types)) t.equal(typeflagOf(type as EntryType), flag, type)
})

t.test('header, incomplete and trailer frames', async (t) => {
  t.equal(STREAM_VERSION, '2')
  t.strictSame(decodeGlobal(pax(encodeHeaderRecords(INFO)), 'test'), { kind: 'header', info: INFO })
  t.strictSame(encodeHeaderRecords(INFO).map(([k]) => k), [
    'BACKTORY.kind', 'BACKTORY.v', 'BACKTORY.producer', 'BACKTORY.host', 'BACKTORY.source', 'BACKTORY.stream',
    'BACKTORY.time', 'BACKTORY.id',
  ], 'header records in a fixed order')
  const trailer = { entries: 3, incomplete: 1, bytes: 12800, chain: 'c'.repeat(64) }
  t.strictSame(decodeGlobal(pax(encodeTrailerRecords(trailer)), 'test'), { kind: 'trailer', ...trailer })
  t.strictSame(decodeGlobal(pax(encodeIncompleteRecords('a/b', 'changed while being read', 'd'.repeat(64))), 'test'),
    { kind: 'incomplete', path: 'a/b', reason: 'changed while being read' })
  t.equal(chainOf(pax(encodeIncompleteRecords('a', 'r', 'e'.repeat(64)))), 'e'.repeat(64))
  t.equal(chainOf(pax(encodeHeaderRecords(INFO))), undefined, 'the header frame has no chain')

  const large = { entries: 2 ** 40, incomplete: 0, bytes: 2 ** 50, chain: 'f'.repeat(64) }
  t.strictSame(decodeGlobal(pax(encodeTrailerRecords(large)), 'test'), { kind: 'trailer', ...large }, 'counts past 2^32')
})

t.test('bad global frames', async (t) => {
  const header = encodeHeaderRecords(INFO)
  const v3 = header.map(([k, v]): [string, string] => [k, k === 'BACKTORY.v' ? '3' : v])
  t.throws(() => decodeGlobal(pax(v3), 'test'), { code: 'BT_VERSION' }, 'unknown version')
  const v2 = header.map(([k, v]): [string, string] => [k, k === 'BACKTORY.v' ? '2' : v])
  t.throws(() => decodeGlobal(pax(v2), 'test'), { code: 'BT_FRAME' }, 'a version 2 header in a g frame')
  for (const v of ['', '01', '1.0', '0']) {
    const h = header.map(([k, val]): [string, string] => [k, k === 'BACKTORY.v' ? v : val])
    t.throws(() => decodeGlobal(pax(h), 'test'), { code: 'BT_VERSION' }, `version ${JSON.stringify(v)}`)
  }
  for (const [key] of header.slice(1)) {
    t.throws(() => decodeGlobal(pax(header.filter(([k]) => k !== key)), 'test'), { code: /^BT_(FRAME|VERSION)$/ }, `header without ${key}`)
  }
  t.throws(() => decodeGlobal(pax([['comment', 'x']]), 'test'), { code: 'BT_FRAME', message: /without BACKTORY.kind/ })
  t.throws(() => decodeGlobal(pax([['BACKTORY.kind', 'snapshot']]), 'test'), { code: 'BT_FRAME', message: /unknown frame kind "snapshot"/ })
  t.throws(() => decodeGlobal(pax([['BACKTORY.kind', 'incomplete'], ['BACKTORY.path', 'x']]), 'test'), { code: 'BT_FRAME' })
  t.throws(() => decodeGlobal(pax([['BACKTORY.kind', 'trailer'], ['BACKTORY.entries', '1']]), 'test'), { code: 'BT_FRAME' }, 'trailer without chain')
  for (const n of ['-1', '1.0', '0x10', '', ' 1', '99999999999999999999']) {
    const recs = encodeTrailerRecords({ entries: 1, incomplete: 0, bytes: 0, chain: 'c' }).map(([k, v]): [string, string] =>
      [k, k === 'BACKTORY.entries' ? n : v])
    t.throws(() => decodeGlobal(pax(recs), 'test'), { code: 'BT_FRAME' }, `entries ${JSON.stringify(n)}`)
  }
  const missing = decodeGlobal(pax([['BACKTORY.kind', 'trailer'], ['BACKTORY.chain', 'c']]), 'test')
  t.match(missing, { entries: -1, bytes: -1 }, 'absent counts can never match a stream')
})

function file(more: Partial<EntryMeta> = {}): EntryMeta {
  return {
    path: 'dir/f', type: 'file', mode: 0o640, uid: 300000, gid: 300001, uname: 'alice', gname: 'staff',
    mtime: { sec: 1717243200, nsec: 123456789 }, size: 10, xattrs: [], ...more,
  }
}

t.test('entry records', async (t) => {
  const m = file({
    ctime: { sec: 1717243201, nsec: 5 }, dev: '2049', ino: '131073',
    xattrs: [['user.a', Buffer.from('1')], ['security.capability', Buffer.from([0, 1, 10, 61, 255])]],
  })
  const r = entryRecords(m, 10, 'c'.repeat(64))
  t.strictSame(r.map(([k]) => k), [
    'path', 'uid', 'gid', 'mtime', 'BACKTORY.ctime', 'BACKTORY.dev', 'BACKTORY.ino', 'SCHILY.xattr.user.a',
    'SCHILY.xattr.security.capability', 'BACKTORY.chain',
  ], 'fixed order, chain last')
  const get = (k: string) => r.find(([key]) => key === k)?.[1]?.toString()
  t.equal(get('uid'), '300000')
  t.equal(get('mtime'), '1717243200.123456789')
  t.equal(get('BACKTORY.ctime'), '1717243201.000000005')
  t.notOk(r.some(([k]) => k === 'size'), 'no size record while ustar holds it')
  t.notOk(r.some(([k]) => k === 'uname' || k === 'gname'), 'names that fit ustar get no record')

  const big = entryRecords(file({ size: 2 ** 33 }), 2 ** 33, 'c')
  t.equal(big[0]?.[0], 'size')
  t.equal(big[0]?.[1], String(2 ** 33), 'a size of 8 GiB gets a pax record')
  t.notOk(entryRecords(file({ size: 2 ** 33 - 1 }), 2 ** 33 - 1, 'c').some(([k]) => k === 'size'), '8 GiB - 1 fits ustar')

  const long = entryRecords(file({ uname: 'u'.repeat(32), gname: 'g'.repeat(31) }), 10, 'c')
  t.ok(long.some(([k]) => k === 'uname'), 'a 32-byte uname gets a record')
  t.notOk(long.some(([k]) => k === 'gname'), 'a 31-byte gname fits')

  const sparse = entryRecords(file({ size: 9 * 2 ** 30, sparse: [[0, 10]] }), 522, 'c')
  t.strictSame(sparse.slice(0, 4), [
    ['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0'], ['GNU.sparse.name', Buffer.from('dir/f')], ['GNU.sparse.realsize', String(9 * 2 ** 30)],
  ], 'GNU sparse 1.0 records')
  t.notOk(sparse.some(([k]) => k === 'path'), 'a sparse entry has no path record')
})

t.test('entry decoding', async (t) => {
  const everything = file({
    ctime: { sec: 1, nsec: 2 }, dev: '3', ino: '4', xattrs: [['user.bin', Buffer.from([0, 10, 61, 255])], ['user.t', Buffer.from('ü')]],
    uname: 'a-very-long-user-name-from-an-ldap-directory', gname: 'g',
  })
  t.strictSame(decodeEntry(ustar('0', { size: 10, mode: 0o640 }), pax(entryRecords(everything, 10, 'c')), 'test'), everything, 'a file, all fields')

  const types: Array<[EntryType, Partial<EntryMeta>]> = [
    ['directory', { path: 'a/dir' }], ['directory', { path: '.' }], ['symlink', { linkpath: '../x' }], ['hardlink', { linkpath: 'dir/f' }],
    ['fifo', {}], ['chardev', { devmajor: 1, devminor: 3 }], ['blockdev', { devmajor: 259, devminor: 65536 }],
  ]
  for (const [type, more] of types) {
    const m = file({ type, size: 0, ...more })
    const u = ustar(typeflagOf(type), { mode: m.mode, uname: m.uname, gname: m.gname, devmajor: m.devmajor ?? 0, devminor: m.devminor ?? 0, linkname: m.linkpath ?? '' })
    t.strictSame(decodeEntry(u, pax(entryRecords(m, 0, 'c')), 'test'), m, `${type} ${m.path}`)
  }

  const plain = decodeEntry(ustar('0', { name: 'from/ustar', size: 5, uid: 7, mtime: 99 }), new Map(), 'test')
  t.strictSame(plain, {
    path: 'from/ustar', type: 'file', mode: 0o644, uid: 7, gid: 8, uname: 'u', gname: 'g', mtime: { sec: 99, nsec: 0 }, size: 5, xattrs: [],
  }, 'without pax, ustar fields are used')
  t.equal(decodeEntry(ustar('5', { name: 'd///' }), new Map(), 'test').path, 'd', 'trailing slashes go')
  t.equal(decodeEntry(ustar('5', { name: './' }), new Map(), 'test').path, '.', '"./" is the root')
  t.equal(decodeEntry(ustar('5', { name: 'x' }), pax([['path', 'a/b/']]), 'test').path, 'a/b', 'pax path wins over ustar')
  t.equal(decodeEntry(ustar('0', { size: 1 }), new Map(), 'test').size, 1)
  t.equal(decodeEntry(ustar('2', { linkname: 'short' }), pax([['linkpath', 'l'.repeat(200)]]), 'test').linkpath, 'l'.repeat(200))
  t.equal(decodeEntry(ustar('2', { linkname: 'from-ustar' }), new Map(), 'test').linkpath, 'from-ustar')
  t.equal(decodeEntry(ustar('0', { size: 2 ** 33 - 1 }), pax([['size', String(9 * 2 ** 30)]]), 'test').size, 9 * 2 ** 30, 'pax size beyond 8 GiB')
  t.equal(storedSize(ustar('0', { size: 5 }), pax([['size', String(2 ** 40)]]), 'test'), 2 ** 40)
  t.equal(storedSize(ustar('0', { size: 5 }), new Map(), 'test'), 5)

  const sp = decodeEntry(ustar('0', { name: 'GNUSparseFile.0/f', size: 1024 }),
    pax(entryRecords(file({ size: 9 * 2 ** 30 + 7, sparse: [[0, 10]] }), 522, 'c')), 'test')
  t.equal(sp.path, 'dir/f', 'a sparse entry is named by GNU.sparse.name')
  t.equal(sp.size, 9 * 2 ** 30 + 7, 'and sized by GNU.sparse.realsize')
  t.strictSame(sp.sparse, [], 'its map comes from the data')
})

t.test('xattr names with "=" and "%" are escaped in the key, as GNU tar does', async (t) => {
  const names = ['user.a=b', 'user.100%', 'user.%3D', 'user.=%=%']
  const m = file({ xattrs: names.map((n, i): [string, Buffer] => [n, Buffer.from([i, 61, 10])]) })
  const r = entryRecords(m, 10, 'c')
  const keys = r.map(([k]) => k).filter((k) => k.startsWith('SCHILY.xattr.'))
  t.strictSame(keys, ['SCHILY.xattr.user.a%3Db', 'SCHILY.xattr.user.100%25', 'SCHILY.xattr.user.%253D', 'SCHILY.xattr.user.%3D%25%3D%25'])
  t.ok(keys.every((k) => !k.includes('=')), 'no key holds "="')
  t.strictSame(decodeEntry(ustar('0', { size: 10, mode: 0o640, uname: 'alice', gname: 'staff' }), pax(r), 'test').xattrs, m.xattrs, 'names come back unescaped')
})

t.test('bad entries', async (t) => {
  const bad: Array<[string, Ustar, Array<[string, string]>]> = [
    ['unsupported typeflag 7', ustar('7'), []],
    ['GNU long name typeflag', ustar('L'), []],
    ['symlink without a target', ustar('2'), []],
    ['hardlink without a target', ustar('1'), []],
    ['uid not a number', ustar('0'), [['uid', 'root']]],
    ['negative uid', ustar('0'), [['uid', '-1']]],
    ['uid with a leading zero', ustar('0'), [['uid', '0300000']]],
    ['gid past 2^53', ustar('0'), [['gid', '9007199254740993']]],
    ['size not a number', ustar('0'), [['size', '1e3']]],
    ['bad mtime', ustar('0'), [['mtime', 'yesterday']]],
    ['bad ctime', ustar('0'), [['BACKTORY.ctime', '1.2.3']]],
    ['sparse major 0', ustar('0'), [['GNU.sparse.major', '0'], ['GNU.sparse.minor', '1']]],
    ['sparse 1.1', ustar('0'), [['GNU.sparse.major', '1'], ['GNU.sparse.minor', '1']]],
    ['bad realsize', ustar('0'), [['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0'], ['GNU.sparse.realsize', 'big']]],
  ]
  for (const [what, u, recs] of bad) {
    try {
      decodeEntry(u, pax(recs), 'test')
      t.fail(`${what}: accepted`)
    } catch (err) {
      t.ok(err instanceof InputError && err.code === 'BT_FRAME', what)
    }
  }
})
