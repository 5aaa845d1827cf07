import t from 'tap'
import { showName, showText } from '../../../src/cli/escape.js'

t.test('showName: C-style escapes, one printable line, reversible', async (t) => {
  t.equal(showName('plain/name ünïcode 日本'), 'plain/name ünïcode 日本', 'printable text is left alone')
  t.equal(showName('a\nb\tc\rd\x07\b\f\v'), 'a\\nb\\tc\\rd\\a\\b\\f\\v')
  t.equal(showName('\x1b[31m\x00\x7f'), '\\x1b[31m\\x00\\x7f')
  t.equal(showName('back\\slash'), 'back\\\\slash', 'a backslash doubles, so every escape reads one way')
  t.equal(showName('\u0085\u202e\u2066\u200b\ufeff\u2028\u2029\ufffd'), '\\u{0085}\\u{202E}\\u{2066}\\u{200B}\\u{FEFF}\\u{2028}\\u{2029}\\u{FFFD}')
  t.equal(showName('\ud800x'), '\\u{D800}x', 'a lone surrogate')
  t.equal(showName('😀'), '😀', 'a whole surrogate pair is printable')
})

t.test('showText: the same, but a backslash (of a JSON-quoted name) stays', async (t) => {
  t.equal(showText('refusing "a\\nb": x\ny'), 'refusing "a\\nb": x\\ny')
  t.equal(showText('rtl \u202e'), 'rtl \\u{202E}')
})

t.test('an octet that is not UTF-8 shows as that octet', async (t) => {
  t.equal(showName('caf\udce9'), 'caf\\xe9', 'Latin-1 e-acute, as bt-scan carries it')
  t.equal(showName('d\udcff/x'), 'd\\xff/x')
  t.equal(showName('\ud800'), '\\u{D800}', 'any other lone surrogate keeps the code point form')
})
