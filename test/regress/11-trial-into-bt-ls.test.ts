// Issue 11, item 4: a trial run of the nightly pipeline into bt-ls instead of a
// store "silently recorded a full index". Since issue 10 a new full's index is
// only pending until bt-put --state has stored that full whole, so a trial
// makes nothing current: the next real run makes a full again, and never a
// differential against the full that only bt-ls saw. This test holds that.
import t from 'tap'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { ROOT, sh } from '../helpers.js'

const K = `${ROOT}test/fixtures/keys`
const SEAL = `bt-seal.js --compress none --set www --to ${K}/admin.pub --sign ${K}/host.key`

t.test('a trial into bt-ls leaves no current full; the first real run is a full', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' }, state: {} })
  const S = `${dir}/state`
  const trial = sh(`bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js --auto --state "${S}" | bt-ls.js`)
  t.equal(trial.code, 0, trial.stderr)
  t.match(trial.stdout, /\ba\n/, 'bt-ls listed the stream')
  t.notOk(existsSync(`${S}/current`), 'no current full')
  const trialId = JSON.parse(readFileSync(`${S}/pending/full.json`, 'utf8')).id as string

  // Sealed, into bt-ls, it is refused: still nothing current.
  const sealed = sh(`bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js --auto --state "${S}" | ${SEAL} | bt-ls.js`)
  t.not(sealed.code, 0, 'bt-ls does not read a sealed archive')
  t.notOk(existsSync(`${S}/current`), 'no current full')

  writeFileSync(`${dir}/src/a`, 'beta\n')
  const real = sh(`bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js --auto --state "${S}" | ${SEAL} | bt-put.js --state "${S}" "${dir}/store"`)
  t.equal(real.code, 0, real.stderr)
  t.match(real.stdout, /_full_/, 'the first stored backup is a full')
  t.match(real.stderr, /never confirmed stored\): making a full/)
  const current = JSON.parse(readFileSync(`${S}/current/full.json`, 'utf8')).id as string
  t.not(current, trialId, 'the current full is the stored one, not the trial')
  t.match(real.stdout, new RegExp(`_full_${current}\\n$`))
})
