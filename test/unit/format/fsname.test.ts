// Names that are not UTF-8 survive as strings by the surrogateescape mapping,
// one to one both ways (backtory-stream(5), CONVENTIONS).
import t from 'tap'
import { fsToName, isBinaryName, nameBytes, nameToFs } from '../../../src/format/fsname.js'
import { splitName } from '../../../src/format/tarblock.js'

t.test('valid UTF-8 is plain text; every other octet is U+DC80 + octet', async (t) => {
  t.equal(fsToName(Buffer.from('naïve ☕ 日本語')), 'naïve ☕ 日本語')
  t.equal(fsToName(Buffer.from([0x63, 0x61, 0x66, 0xe9])), 'caf\udce9', 'latin-1 é')
  t.equal(fsToName(Buffer.from([0xed, 0xa0, 0x80])), '\udced\udca0\udc80', 'an encoded surrogate is not UTF-8')
  t.equal(fsToName(Buffer.from([0xc0, 0xaf])), '\udcc0\udcaf', 'an overlong "/" is not UTF-8')
  t.equal(fsToName(Buffer.from([0xf4, 0x90, 0x80, 0x80])), '\udcf4\udc90\udc80\udc80', 'above U+10FFFF')
  t.equal(fsToName(Buffer.from([0xe2, 0x98])), '\udce2\udc98', 'a cut sequence')
  t.equal(fsToName(Buffer.from([0xff, 0x61, 0xe2, 0x98, 0x95])), '\udcffa☕', 'mixed')
})

t.test('nameToFs gives the octets back, and the string itself when it can', async (t) => {
  t.equal(nameToFs('plain/é'), 'plain/é')
  t.strictSame(nameToFs('caf\udce9'), Buffer.from([0x63, 0x61, 0x66, 0xe9]))
  t.ok(isBinaryName('caf\udce9'))
  t.notOk(isBinaryName('café'))
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(Array.from({ length: 1 + (i % 9) }, (_, k) => (i * 7919 + k * 104729) % 256))
    t.ok(nameBytes(fsToName(b)).equals(b), `round trip ${b.toString('hex')}`)
  }
})

t.test('a long name splits at the leftmost slash that fits', async (t) => {
  const a = 'a'.repeat(60)
  const [prefix, name] = splitName(`${a}/${a}/${a}`)
  t.equal(prefix.toString(), `${a}/${a}`, 'at 60 the rest (121 octets) does not fit; at 121 it does')
  t.equal(name.toString(), a)
  const [p1, n1] = splitName(`${'d'.repeat(10)}/${'e'.repeat(95)}/f`)
  t.equal(p1.toString(), 'd'.repeat(10), 'the leftmost slash whose rest fits: the name is as long as it can be')
  t.equal(n1.toString(), `${'e'.repeat(95)}/f`)
  const [p2, n2] = splitName(`${'b'.repeat(120)}/x`)
  t.equal(p2.length, 120)
  t.equal(n2.toString(), 'x')
  const [p3, n3] = splitName(`${'c'.repeat(160)}/x`)
  t.equal(p3.length, 0, 'no slash qualifies: no prefix')
  t.equal(n3.length, 162, 'the whole name; the field keeps its first 100 octets')
})
