// The pure tar codec: ustar header blocks and pax extended-header records.
import t, { type Test } from 'tap'
import { InputError } from '../../../src/errors.js'
import {
  BLOCK, ZERO_BLOCK, type Ustar, checkPaxSize, decodePax, decodeUstar, encodePax, encodeUstar, isZeroBlock, padding, setChecksum,
} from '../../../src/format/tarblock.js'

const base: Ustar = {
  name: 'dir/file.txt', mode: 0o644, uid: 1000, gid: 100, size: 1234, mtime: 1717243200, typeflag: '0',
  linkname: '', uname: 'alice', gname: 'staff', devmajor: 0, devminor: 0,
}

const resum = setChecksum

const field = (b: Buffer, off: number, len: number) => b.toString('latin1', off, off + len)

function rejects(t: Test, fn: () => unknown, code: string, msg: string): void {
  try {
    fn()
    t.fail(`${msg}: did not throw`)
  } catch (err) {
    t.ok(err instanceof InputError, `${msg}: an InputError`)
    t.equal((err as InputError).code, code, `${msg}: ${code}`)
  }
}

t.test('ustar round trip', async (t) => {
  const cases: Ustar[] = [
    base,
    { ...base, name: 'd/', typeflag: '5', size: 0, mode: 0o2775 },
    { ...base, name: 'l', typeflag: '2', size: 0, linkname: '../target/of/the/link' },
    { ...base, name: 'h', typeflag: '1', size: 0, linkname: 'dir/file.txt' },
    { ...base, name: 'null', typeflag: '3', size: 0, devmajor: 1, devminor: 3, mode: 0o666 },
    { ...base, name: 'sda', typeflag: '4', size: 0, devmajor: 8, devminor: 1 },
    { ...base, name: 'p', typeflag: '6', size: 0, mode: 0o4755 },
    { ...base, name: 'PaxHeaders/x', typeflag: 'x', size: 77 },
    { ...base, name: 'BACKTORY.header', typeflag: 'g', size: 258, uname: '', gname: '' },
    { ...base, uid: 300000, gid: 300001, mtime: 0 },
    { ...base, name: 'naïve ☕.txt', uname: 'ünïcödé', gname: 'grüppe' },
  ]
  for (const h of cases) {
    const b = encodeUstar(h)
    t.equal(b.length, BLOCK)
    t.strictSame(decodeUstar(b, 'test'), h, `${h.typeflag} ${h.name}`)
  }
})

t.test('ustar layout', async (t) => {
  const b = encodeUstar(base)
  t.equal(field(b, 0, 13), 'dir/file.txt\0')
  t.equal(field(b, 100, 8), '0000644\0')
  t.equal(field(b, 108, 8), '0001750\0')
  t.equal(field(b, 124, 12), '00000002322\0')
  t.equal(field(b, 156, 1), '0')
  t.equal(field(b, 257, 8), 'ustar\x0000', 'POSIX magic and version')
  const stored = field(b, 148, 8)
  t.match(stored, /^[0-7]{6}\0 $/, 'chksum is six octal digits, NUL, space')
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i]!
  t.equal(parseInt(stored, 8), sum, 'chksum counts its own field as spaces')
})

t.test('ustar checksum mismatch', async (t) => {
  const good = encodeUstar(base)
  for (const at of [0, 5, 100, 108, 124, 136, 150, 156, 157, 257, 265, 329, 345, 500, 511]) {
    const b = Buffer.from(good)
    b[at] = b[at]! ^ 0x04
    rejects(t, () => decodeUstar(b, 'test'), 'BT_FRAME', `byte ${at} changed`)
  }
})

t.test('ustar magic', async (t) => {
  const v7 = encodeUstar(base)
  v7.fill(0, 257, 265)
  rejects(t, () => decodeUstar(resum(v7), 'test'), 'BT_FRAME', 'v7 header without magic')

  const gnu = encodeUstar({ ...base, name: 'short' })
  gnu.write('ustar  \0', 257, 8, 'binary')
  gnu.write('atime-and-ctime-live-here', 345, 'ascii') // GNU's use of the prefix area
  t.equal(decodeUstar(resum(gnu), 'test').name, 'short', 'GNU magic: the prefix area is not a prefix')
})

t.test('ustar prefix/name split', async (t) => {
  const a = 'a'.repeat(60)
  const b = 'b'.repeat(60)
  const c = 'c'.repeat(50)
  const long = `${a}/${b}/${c}`
  const h = encodeUstar({ ...base, name: long })
  t.equal(field(h, 0, 51), `${c}\0`, 'name holds the last component')
  t.equal(field(h, 345, 122), `${a}/${b}\0`, 'prefix holds the rest')
  t.equal(decodeUstar(h, 'test').name, long)

  const exactly100 = `${'x'.repeat(49)}/${'y'.repeat(50)}`
  t.equal(Buffer.byteLength(exactly100), 100)
  const h100 = encodeUstar({ ...base, name: exactly100 })
  t.equal(field(h100, 345, 1), '\0', 'a 100-byte name is not split')
  t.equal(decodeUstar(h100, 'test').name, exactly100, 'a name filling the field has no NUL and still decodes')

  const utf8 = `${'é'.repeat(40)}/${'ü'.repeat(40)}`
  t.equal(decodeUstar(encodeUstar({ ...base, name: utf8 }), 'test').name, utf8, 'split counts bytes, not characters')

  const dir = `${'a'.repeat(50)}/${'b'.repeat(99)}/`
  t.equal(decodeUstar(encodeUstar({ ...base, name: dir, typeflag: '5' }), 'test').name, dir, 'a directory keeps its slash')

  const unsplittable = [`${'n'.repeat(120)}`, `${'p'.repeat(160)}/x`, `${'d'.repeat(120)}/`, `short/${'n'.repeat(101)}`]
  for (const name of unsplittable) {
    const u = encodeUstar({ ...base, name })
    t.equal(field(u, 345, 1), '\0', `${name.length} bytes: no prefix`)
    t.equal(decodeUstar(u, 'test').name, name.slice(0, 100), 'the name field holds the first 100 bytes (pax has the rest)')
  }
})

t.test('ustar clamps what does not fit (pax carries the truth)', async (t) => {
  const big = encodeUstar({
    ...base, uid: 0o7777777 + 1, gid: 2 ** 40, size: 2 ** 33, mtime: 2 ** 34, devmajor: 2 ** 22, devminor: 2 ** 22,
  })
  t.equal(field(big, 108, 8), '7777777\0')
  t.equal(field(big, 124, 12), '77777777777\0')
  t.strictSame(decodeUstar(big, 'test'), {
    ...base, uid: 0o7777777, gid: 0o7777777, size: 0o77777777777, mtime: 0o77777777777, devmajor: 0o7777777, devminor: 0o7777777,
  })
  const small = decodeUstar(encodeUstar({ ...base, mtime: -5, uid: -1, mode: 0o107755, size: 1.9 }), 'test')
  t.equal(small.mtime, 0, 'negative mtime becomes 0')
  t.equal(small.uid, 0, 'negative id becomes 0')
  t.equal(small.mode, 0o7755, 'mode keeps the permission bits only')
  t.equal(small.size, 1, 'fractions are cut')
  const name = decodeUstar(encodeUstar({ ...base, uname: 'u'.repeat(40), linkname: 'l'.repeat(150) }), 'test')
  t.equal(name.uname, 'u'.repeat(32), 'uname is cut to its field')
  t.equal(name.linkname, 'l'.repeat(100), 'linkname is cut to its field')
})

t.test('ustar numeric fields as other tars write them', async (t) => {
  const b = encodeUstar(base)
  b[124] = 0x80 // GNU base-256: 9 GiB
  b.fill(0, 125, 136)
  b.writeUIntBE(9 * 2 ** 30, 130, 6)
  t.equal(decodeUstar(resum(b), 'test').size, 9 * 2 ** 30, 'base-256 size')

  const neg = encodeUstar(base)
  neg.fill(0xff, 136, 148) // -1 in base-256
  t.throws(() => decodeUstar(resum(neg), 'test'), { code: 'BT_FRAME', message: /negative/ }, 'negative base-256 is refused')

  const sp = encodeUstar(base)
  sp.write('  1750 \0', 108, 8, 'latin1')
  sp.write('\0\0\0\0\0\0\0\0', 116, 8, 'latin1')
  sp[156] = 0
  const d = decodeUstar(resum(sp), 'test')
  t.equal(d.uid, 0o1750, 'spaces around digits')
  t.equal(d.gid, 0, 'an empty field is 0')
  t.equal(d.typeflag, '0', 'typeflag NUL is a regular file')

  const bad = encodeUstar(base)
  bad.write('0001759\0', 108, 8, 'latin1')
  t.throws(() => decodeUstar(resum(bad), 'test'), { code: 'BT_FRAME', message: /uid is not octal/ })
})

t.test('zero blocks and padding', async (t) => {
  t.ok(isZeroBlock(Buffer.alloc(BLOCK)))
  t.ok(isZeroBlock(ZERO_BLOCK))
  t.notOk(isZeroBlock(encodeUstar(base)))
  const almost = Buffer.alloc(BLOCK)
  almost[511] = 1
  t.notOk(isZeroBlock(almost))
  t.strictSame([0, 1, 511, 512, 513, 1024, 2 ** 33 + 1].map(padding), [0, 511, 1, 0, 511, 0, 511])
})

t.test('pax records', async (t) => {
  t.equal(encodePax([['path', 'a']]).toString(), '9 path=a\n')
  t.equal(encodePax([]).length, 0)
  const recs: Array<[string, string]> = [['path', 'dir/naïve ☕'], ['uid', '300000'], ['mtime', '1717243200.000000001'], ['k', 'a=b=c']]
  const body = encodePax(recs)
  t.strictSame([...decodePax(body, 'test')].map(([k, v]) => [k, v.toString()]), recs)
  t.equal(decodePax(Buffer.from('11 k=a=b=c\n'), 'test').get('k')?.toString(), 'a=b=c', 'the key ends at the first "="')
  t.equal(decodePax(Buffer.from('9 path=a\n9 path=b\n'), 'test').get('path')?.toString(), 'b', 'a later record wins')
  t.equal(decodePax(Buffer.alloc(0), 'test').size, 0)
  t.equal(decodePax(Buffer.from('6 k=\n\n'), 'test').get('k')?.toString(), '\n', 'a value may be a newline')
})

t.test('pax record length crossing a power of ten', async (t) => {
  // A record is "<len> <key>=<value>\n" and <len> counts its own digits:
  // when adding them carries into one more digit, the length grows by one.
  const record = (vlen: number) => encodePax([['k', 'v'.repeat(vlen)]])
  t.equal(record(4).toString(), '9 k=vvvv\n')
  t.equal(record(5).toString(), '11 k=vvvvv\n', '9 -> 11, never 10')
  t.equal(record(93).length, 99)
  t.match(record(93).toString(), /^99 k=/)
  t.equal(record(94).length, 101, '"k=" + 94 bytes: 98 + 2 digits = 100 has 3 digits, so 101')
  t.match(record(94).toString(), /^101 k=/)
  t.equal(record(95).length, 102)
  t.match(record(992).toString(), /^999 k=/)
  t.match(record(993).toString(), /^1001 k=/)
  const lengths = new Set<number>()
  for (let n = 0; n <= 10_010; n++) {
    const r = record(n)
    const declared = Number(r.toString('latin1', 0, r.indexOf(0x20)))
    lengths.add(declared)
    if (declared !== r.length) t.fail(`value of ${n} bytes: declares ${declared}, is ${r.length}`)
    if (decodePax(r, 'test').get('k')?.length !== n) t.fail(`value of ${n} bytes does not decode`)
  }
  for (const impossible of [10, 100, 1000, 10000]) t.notOk(lengths.has(impossible), `no record is ${impossible} bytes long`)
})

t.test('pax values are bytes', async (t) => {
  const all = Buffer.alloc(256)
  for (let i = 0; i < 256; i++) all[i] = i
  const value = Buffer.concat([all, Buffer.from('\n=\n 12 x=y\n'), Buffer.from([0xff, 0xfe, 0])])
  const body = encodePax([['SCHILY.xattr.user.bin', value], ['BACKTORY.chain', 'c'.repeat(64)]])
  const got = decodePax(body, 'test')
  t.ok(got.get('SCHILY.xattr.user.bin')?.equals(value), 'binary value survives')
  t.equal(got.get('BACKTORY.chain')?.toString(), 'c'.repeat(64), 'the next record is intact')
  const multi = encodePax([['ключ', 'значение']])
  t.equal(Number(multi.toString('latin1', 0, multi.indexOf(0x20))), multi.length, 'length counts UTF-8 bytes')
})

t.test('malformed pax records', async (t) => {
  const cases: Array<[string, string | Buffer]> = [
    ['no length', 'path=a\n'],
    ['a length that is not a number', 'x9 path=a\n'],
    ['a leading zero', '09 path=a\n'],
    ['zero length', '0 path=a\n'],
    ['a negative length', '-9 path=a\n'],
    ['a length too long to be one', `${'1'.repeat(25)} path=a\n`],
    ['a length past the end', '20 path=a\n'],
    ['a length too short', '8 path=a\n'],
    ['no newline at the end', '9 path=ab'],
    ['no "="', '9 pathxa\n'],
    ['a record cut short after a good one', '9 path=a\n5 ab'],
    ['junk after the last record', '9 path=a\n\0\0\0'],
    ['the "=" after the newline', '5 ab\n=c\n'],
  ]
  for (const [what, body] of cases) {
    rejects(t, () => decodePax(Buffer.from(body), 'test'), 'BT_FRAME', what)
  }
})

t.test('pax size limit', async (t) => {
  t.doesNotThrow(() => checkPaxSize(1 << 20, 1 << 20), 'at the limit')
  t.throws(() => checkPaxSize((1 << 20) + 1, 1 << 20), { code: 'BT_FRAME_SIZE' })
  t.throws(() => checkPaxSize(1, 0), { code: 'BT_FRAME_SIZE' })
})
