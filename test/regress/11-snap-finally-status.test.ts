// Issue 11, item 4: bt-snap --finally's BT_STATUS "reflects the scan, not
// whether the backup was stored". bt-snap cannot know what the stages after
// it did, so this is what BT_STATUS means: bt-snap's own status. bt-snap(1)
// now says so plainly (the old text, "0 or 3 mean the stream is complete",
// read as if it spoke of the backup). This test holds both the behaviour and
// the words.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { ROOT, sh } from '../helpers.js'

t.test('BT_STATUS is bt-snap\'s own status, whatever the later stages did', async (t) => {
  // More than a pipe holds, so a reader that exits at once is gone before the stream is out.
  const dir = t.testdir({ src: { a: 'alpha\n', big: 'x'.repeat(1 << 20) } })
  const fin = `--finally 'echo "$BT_STATUS" > "${dir}/status"'`
  // The store fails after reading the whole stream: bt-snap's part succeeded.
  const r = sh(`bt-snap.js --path "${dir}/src" ${fin} | { cat > /dev/null; exit 1; }`)
  t.equal(r.code, 1, 'the pipeline failed')
  t.equal(readFileSync(`${dir}/status`, 'utf8'), '0\n', 'BT_STATUS 0: the stream was written whole')
  // A reader that went away early: bt-snap's stream did not go out whole.
  const early = sh(`bt-snap.js --path "${dir}/src" ${fin} | true`)
  t.equal(early.code, 0)
  t.equal(readFileSync(`${dir}/status`, 'utf8'), '141\n', 'BT_STATUS 141: the reader went away')

  const man = readFileSync(`${ROOT}man/bt-snap.1`, 'utf8').replace(/\n\.(?:Xr|Nm|Fl|Sx|Ic) ?/g, ' ').replace(/\n/g, ' ')
  t.match(man, /It says nothing of the stages after\s+in the pipeline/, 'bt-snap(1) says what BT_STATUS does not cover')
  t.match(man, /backtory backup\s*run the finally actions of its configuration: it runs them with the status of the whole pipeline/)
})
