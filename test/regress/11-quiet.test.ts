// Issue 11, item 4: bt-put and bt-snap printed success notices and had no
// -q, so the nightly job mailed its admin every night. With -q (bt-put,
// bt-snap, bt-scan) a successful run prints nothing at all; warnings and
// errors still do, and still set the exit code.
import t from 'tap'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { ROOT, sh } from '../helpers.js'

const K = `${ROOT}test/fixtures/keys`
const SEAL = `bt-seal.js --compress none --set www --to ${K}/admin.pub --sign ${K}/host.key`

t.test('the nightly pipeline with -q prints nothing on success, first run and later', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' }, state: {} })
  // A socket in the tree: bt-scan says it skipped it, every night, unless -q.
  // Bound by a relative name: the test directory's path is longer than a socket address holds.
  t.equal(sh(`cd "${dir}/src" && python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('sock')"`).code, 0, 'a socket')
  t.ok(statSync(`${dir}/src/sock`).isSocket())
  const S = `${dir}/state`
  const job = `bt-snap.js -q --path "${dir}/src" --state "${S}" | bt-delta.js -q --auto --state "${S}" | ${SEAL} | bt-put.js -q --state "${S}" --index-key ${K}/host.key "${dir}/store"`
  for (const night of ['full', 'diff']) {
    writeFileSync(`${dir}/src/a`, `${night}\n`)
    const r = sh(job)
    t.equal(r.code, 0, r.stderr)
    t.equal(r.stdout, '', `${night}: nothing on standard output`)
    t.equal(r.stderr, '', `${night}: nothing on standard error`)
  }
  t.match(sh(`bt-ls.js "${dir}/store"`).stdout, /\tfull\t.*\tcomplete\+index\t[^\n]*\n.*\tdiff\t/s, 'both stored, the full with its index')
  const scan = sh(`bt-scan.js -q --state "${S}" "${dir}/src" > /dev/null`)
  t.equal(scan.code, 0)
  t.equal(scan.stderr, '', 'bt-scan -q: no notice of the socket')
  t.match(sh(`bt-scan.js --state "${S}" "${dir}/src" > /dev/null`).stderr, /skipped socket "sock"/, 'without -q it is told')
})

t.test('-q keeps warnings and errors, and their exit codes', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' }, state: {} })
  const S = `${dir}/state`
  // A full stored by bt-put --state whose state awaits no full: nothing to confirm and no index to store, a warning.
  const r = sh(`bt-scan.js "${dir}/src" | bt-delta.js -q --full --state "${dir}/other" | ${SEAL} | bt-put.js -q --state "${S}" --index-key ${K}/host.key "${dir}/store"`)
  t.equal(r.code, 3, 'exit 3: stored, with a warning')
  t.equal(r.stdout, '')
  t.match(r.stderr, /^bt-put: warning: no index of full [0-9a-f]{32} in ".*state", so none was stored beside it/)
  const e = sh(`echo junk | bt-put.js -q "${dir}/store"`)
  t.equal(e.code, 4)
  t.match(e.stderr, /bt-put: error: /)
  const snap = sh(`bt-snap.js -q --path "${dir}/nowhere" > /dev/null`)
  t.not(snap.code, 0)
  t.match(snap.stderr, /bt-snap: error: /)
  t.match(readFileSync(`${ROOT}man/bt-put.1`, 'utf8'), /Fl q , Fl -quiet/, 'documented')
})
