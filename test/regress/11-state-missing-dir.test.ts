// Issue 11, item 4: a mistyped --state path silently made a full. bt-scan,
// bt-snap and bt-delta --auto took a directory that did not exist for a first
// run (and made it), so a typo in a cron line cost a full every night with
// nothing failing. Now a missing state directory is refused, before anything
// is read or stored; an existing empty one is a first run, and bt-delta
// --full (and the rebuilds) make the directory.
import t from 'tap'
import { existsSync, readdirSync } from 'node:fs'
import { ROOT, sh } from '../helpers.js'

const K = `${ROOT}test/fixtures/keys`
const SEAL = `bt-seal.js --compress none --set www --to ${K}/admin.pub --sign ${K}/host.key`
const REFUSED = /error: no state directory ".*\/statte"; create it with mkdir, or make the first full with --full/

t.test('a missing state directory is refused by every tool that reads it, and is not made', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' }, store: {} })
  const S = `${dir}/statte`
  const runs: Array<[string, string]> = [
    ['bt-scan --state', `bt-scan.js --state "${S}" "${dir}/src" > /dev/null`],
    ['bt-scan with BT_STATE', `BT_STATE="${S}" bt-scan.js "${dir}/src" > /dev/null`],
    ['bt-snap --state', `bt-snap.js --path "${dir}/src" --state "${S}" > /dev/null`],
    ['bt-delta --auto', `bt-scan.js "${dir}/src" | bt-delta.js --auto --state "${S}" > /dev/null`],
    ['bt-delta (differential)', `bt-scan.js "${dir}/src" | bt-delta.js --state "${S}" > /dev/null`],
    ['bt-delta --confirm', `bt-delta.js --state "${S}" --confirm`],
  ]
  for (const [what, cmd] of runs) {
    const r = sh(cmd)
    t.equal(r.code, 2, `${what}: exit 2`)
    t.match(r.stderr, REFUSED, what)
    t.match(r.stderr, /hint: a first run: mkdir -p .*statte/, `${what}: says how to start`)
    t.notOk(existsSync(S), `${what}: the directory is not made`)
  }
  // bt-put refuses before it stores anything: a full stored but never confirmed would make a full every night.
  const put = sh(`bt-scan.js "${dir}/src" | bt-delta.js --full --state "${dir}/real" | ${SEAL} | bt-put.js --state "${S}" "${dir}/store"`)
  t.equal(put.code, 2, 'bt-put --state: exit 2')
  t.match(put.stderr, REFUSED)
  t.same(readdirSync(`${dir}/store`), [], 'nothing stored')
  t.notOk(existsSync(S))
})

t.test('first runs: an empty directory makes a full; bt-delta --full makes the directory', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' }, empty: {} })
  const auto = sh(`bt-scan.js --state "${dir}/empty" "${dir}/src" | bt-delta.js --auto --state "${dir}/empty" | ${SEAL} | bt-put.js --state "${dir}/empty" "${dir}/store"`)
  t.equal(auto.code, 0, auto.stderr)
  t.match(auto.stdout, /_full_/, 'an empty state directory: a full')
  t.ok(existsSync(`${dir}/empty/current/full.json`), 'and confirmed')

  const full = sh(`bt-scan.js "${dir}/src" | bt-delta.js --full --state "${dir}/new/state" > /dev/null`)
  t.equal(full.code, 0, full.stderr)
  t.ok(existsSync(`${dir}/new/state/pending/full.json`), '--full makes the directory')
})
