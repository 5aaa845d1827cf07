// Truncated and bit-flipped streams: bt-restore must exit 4 with a clear
// error, never crash or hang, and leave no half-written or unverified file.
import t from 'tap'
import { mkdirSync, readFileSync, readdirSync, lstatSync, writeFileSync } from 'node:fs'
import { runBin, sh, xorshift } from '../helpers.js'
import { leftovers } from '../tree.js'

/** Files in `dst` that are not byte-identical to their source in `src`. */
function unfaithful(src: string, dst: string, rel = ''): string[] {
  const out: string[] = []
  for (const name of readdirSync(`${dst}${rel}`)) {
    const p = `${rel}/${name}`
    const st = lstatSync(`${dst}${p}`)
    if (st.isDirectory()) out.push(...unfaithful(src, dst, p))
    else if (st.isFile() && !readFileSync(`${dst}${p}`).equals(readFileSync(`${src}${p}`))) out.push(p)
  }
  return out
}

const files: Record<string, string | Record<string, string>> = {
  'a.txt': 'alpha\n'.repeat(50),
  'b.bin': 'b'.repeat(300_000),
  sub: { 'c.txt': 'gamma\n', 'd.txt': 'delta\n'.repeat(2000) },
  'z.txt': 'last\n',
}

t.test('truncation at many offsets is always exit 4 and loses nothing', async (t) => {
  const dir = t.testdir({ src: files })
  t.equal(sh(`bt-scan.js "${dir}/src" > "${dir}/s.bt"`).code, 0)
  const bytes = readFileSync(`${dir}/s.bt`)
  const rnd = xorshift(42)
  const offsets = new Set([0, 1, 511, 512, 1024, bytes.length - 1025, bytes.length - 1024, bytes.length - 512, bytes.length - 1])
  while (offsets.size < 40 && bytes.length > 1000) offsets.add(Math.floor(rnd() * bytes.length))
  for (const off of offsets) {
    const dst = `${dir}/t${off}`
    mkdirSync(dst)
    const r = await runBin('bt-restore', [dst], bytes.subarray(0, off))
    t.equal(r.code, 4, `truncated at ${off}: exit 4 (${r.stderr.trim().split('\n')[0]})`)
    t.match(r.stderr, /^bt-restore: error: (stream is truncated|input is not a backtory stream)/m)
    t.match(r.stderr, /^bt-restore: hint: /m)
    t.same(leftovers(dst), [], 'no temporary files left')
    t.same(unfaithful(`${dir}/src`, dst), [], 'every file in place is complete and correct')
  }
})

t.test('a flipped byte anywhere is exit 4 and loses nothing', async (t) => {
  const dir = t.testdir({ src: files })
  sh(`bt-scan.js "${dir}/src" > "${dir}/s.bt"`)
  const bytes = readFileSync(`${dir}/s.bt`)
  const rnd = xorshift(7)
  for (let i = 0; i < 40; i++) {
    const off = Math.floor(rnd() * bytes.length)
    const bad = Buffer.from(bytes)
    bad[off] = bad[off]! ^ (1 << Math.floor(rnd() * 8))
    const dst = `${dir}/f${i}`
    mkdirSync(dst)
    const r = await runBin('bt-restore', [dst], bad)
    t.equal(r.code, 4, `flip at ${off}: exit 4 (${r.stderr.trim().split('\n')[0]})`)
    t.same(leftovers(dst), [], 'no temporary files left')
    t.same(unfaithful(`${dir}/src`, dst), [], 'every file in place is complete and correct')
  }
})

t.test('a flipped byte in file data is named as a digest mismatch, and nothing is put in place', async (t) => {
  const dir = t.testdir({ src: files })
  sh(`bt-scan.js "${dir}/src" > "${dir}/s.bt"`)
  const bytes = readFileSync(`${dir}/s.bt`)
  const at = bytes.indexOf('b'.repeat(1000)) + 500
  const bad = Buffer.from(bytes)
  bad[at] = 0x63
  writeFileSync(`${dir}/bad.bt`, bad)
  const r = sh(`bt-restore.js "${dir}/dst" < "${dir}/bad.bt"`)
  t.equal(r.code, 4)
  t.match(r.stderr, /chain digest mismatch/)
  t.throws(() => lstatSync(`${dir}/dst/a.txt`), 'a refused stream changes nothing: not even the files before the damage')
  t.throws(() => lstatSync(`${dir}/dst/b.bin`), 'the damaged file is not put in place')
})

t.test('data after the trailer and a missing trailer are refused by every reader', async (t) => {
  const dir = t.testdir({ src: files })
  sh(`bt-scan.js "${dir}/src" > "${dir}/s.bt"`)
  const bytes = readFileSync(`${dir}/s.bt`)
  for (const tool of ['bt-ls', 'bt-restore']) {
    const args = tool === 'bt-restore' ? [`${dir}/${tool}-x`] : []
    const trailing = await runBin(tool, args, Buffer.concat([bytes, Buffer.from('garbage')]))
    t.equal(trailing.code, 4, `${tool}: trailing data`)
    t.match(trailing.stderr, /data after the end of the stream/)
    const doubled = await runBin(tool, args, Buffer.concat([bytes, bytes]))
    t.equal(doubled.code, 4, `${tool}: two streams concatenated`)
    const cut = await runBin(tool, args, bytes.subarray(0, bytes.length - 2048))
    t.equal(cut.code, 4, `${tool}: trailer cut off`)
    t.match(cut.stderr, /truncated/)
  }
})
