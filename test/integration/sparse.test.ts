// A 10 GiB sparse file round-trips, stays sparse, and its holes are never read.
import t from 'tap'
import { closeSync, openSync, readSync, statSync, writeSync } from 'node:fs'
import { sh } from '../helpers.js'

t.test('a 10 GiB sparse file round-trips and stays sparse', async (t) => {
  const dir = t.testdir({ src: {} })
  const size = 10 * 1024 ** 3
  const marks: Array<[number, string]> = [[0, 'head'], [3 * 1024 ** 3 + 12345, 'middle'], [size - 4, 'tail']]
  sh(`truncate -s ${size} "${dir}/src/huge"`)
  const fd = openSync(`${dir}/src/huge`, 'r+')
  for (const [off, text] of marks) writeSync(fd, Buffer.from(text), 0, text.length, off)
  closeSync(fd)
  const r = sh(`bt-scan.js "${dir}/src" > "${dir}/s.bt" && bt-restore.js "${dir}/dst" < "${dir}/s.bt"`)
  t.equal(r.code, 0, r.stderr)
  t.ok(statSync(`${dir}/s.bt`).size < 1024 * 1024, 'the stream stores data, not holes')
  const st = statSync(`${dir}/dst/huge`)
  t.equal(st.size, size)
  t.ok(st.blocks * 512 < 1024 * 1024, `restored file stays sparse (${st.blocks} blocks)`)
  t.match(sh(`du -k "${dir}/dst/huge"`).stdout, /^\d{1,4}\s/, 'du shows kilobytes, not gigabytes')
  const back = openSync(`${dir}/dst/huge`, 'r')
  for (const [off, text] of marks) {
    const b = Buffer.alloc(text.length + 8)
    const n = readSync(back, b, 0, b.length, off - 4 < 0 ? off : off - 4)
    const got = b.subarray(0, n).toString('latin1').replace(/\0/g, '')
    t.equal(got, text, `data at ${off}`)
  }
  closeSync(back)
  const gnu = sh(`mkdir "${dir}/gnu" && tar -C "${dir}/gnu" --warning=no-unknown-keyword -xf "${dir}/s.bt" && stat -c '%s %b' "${dir}/gnu/huge"`)
  t.equal(gnu.code, 0, gnu.stderr)
  const [gsize, gblocks] = gnu.stdout.trim().split(' ').map(Number)
  t.equal(gsize, size, 'GNU tar restores the full size from the sparse map')
  t.ok(gblocks! * 512 < 1024 * 1024, 'and keeps it sparse')
})
