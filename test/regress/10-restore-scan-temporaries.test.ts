// Issue 10 (hardening): bt-scan never backs up bt-restore's own temporaries,
// its stage directories or its marker, which a killed restore can leave.
import t from 'tap'
import { runBin } from '../helpers.js'

t.test('bt-scan skips .bt-stage-PID, .bt-restore-PID-N and the marker', async (t) => {
  const dir = t.testdir({
    src: {
      '.backtory-restore.json': '{"full":"x","diff":null}\n',
      '.backtory-restore.json.tmp': '{}',
      '.bt-stage-4242': { journal: 'j', '0': 'staged' },
      '.bt-restore-4242-7': 'half a file',
      sub: { '.bt-restore-4242-8': 'half another', kept: 'k', '.bt-stage-notapid': 'a user file' },
      '.bt-stage-12x': 'a user file too',
      real: 'r',
    },
  })
  const r = await runBin('bt-scan', [`${dir}/src`])
  t.equal(r.code, 0, r.stderr)
  const ls = await runBin('bt-ls', ['--json'], r.stdout)
  const paths = ls.stdout.toString().trim().split('\n').map((l) => JSON.parse(l)).filter((f) => f.frame === 'entry').map((f) => f.path)
  t.same(paths.sort(), ['.', '.bt-stage-12x', 'real', 'sub', 'sub/.bt-stage-notapid', 'sub/kept'])
})

t.test('a restore target inside the scanned tree: its stage and marker are skipped there too', async (t) => {
  const dir = t.testdir({
    src: {
      check: {
        '.backtory-restore.json': '{"full":"x","diff":null}\n',
        '.bt-stage-4242': { journal: 'j', '0': { '0': 'staged' } },
        restored: 'r',
      },
    },
  })
  const r = await runBin('bt-scan', [`${dir}/src`])
  t.equal(r.code, 0, r.stderr)
  const ls = await runBin('bt-ls', ['--json'], r.stdout)
  const paths = ls.stdout.toString().trim().split('\n').map((l) => JSON.parse(l)).filter((f) => f.frame === 'entry').map((f) => f.path)
  t.same(paths.sort(), ['.', 'check', 'check/restored'])
})
