// What a backup run reports: the bounded message log, the summary line, the
// JSON object and the node_exporter textfile (a failed run keeps the last success).
import t from 'tap'
import { readFileSync, readdirSync } from 'node:fs'
import { BoundedLog } from '../../../src/wrapper/bounded-log.js'
import { type RunReport, reportJson, summaryLine, writeTextfile } from '../../../src/wrapper/summary.js'

t.test('the log keeps its start and its end, and counts what it left out', async (t) => {
  const log = new BoundedLog(10, 20)
  log.add('0123456789abc')
  for (let i = 0; i < 10; i++) log.add(`line ${i}\n`)
  const text = log.text()
  t.ok(text.startsWith('0123456789\n[... '), 'the first bytes')
  t.match(text, /\[\.\.\. 53 bytes of messages left out \.\.\.\]\n/)
  t.ok(text.endsWith('line 8\nline 9\n'), 'the last bytes')
  t.equal(text.length - text.indexOf('...]\n') - 5, 20)
  const small = new BoundedLog()
  small.add('all of it\n')
  t.equal(small.text(), 'all of it\n')
})

const ok: RunReport = {
  set: 'www', status: 0, stored: true, kind: 'full', name: 'www_20261201T031700Z_full_abc', bytes: 1_500_000, seconds: 12.34,
  why: 'no full is confirmed stored yet', started: new Date('2026-12-01T03:17:00Z'),
}

t.test('summary and JSON', async (t) => {
  t.equal(summaryLine(ok), 'set www: full www_20261201T031700Z_full_abc, 1.4 MiB in 12.3 s; full because no full is confirmed stored yet')
  t.equal(summaryLine({ ...ok, status: 1, stored: false, failed: 'bt-put exited 1' }), 'set www: no backup stored (bt-put exited 1)')
  t.same(JSON.parse(reportJson(ok)), {
    set: 'www', status: 0, stored: true, kind: 'full', name: ok.name, bytes: 1_500_000, seconds: 12.34,
    why_full: ok.why, failed: null, started: '2026-12-01T03:17:00.000Z',
  })
})

t.test('the textfile: written whole, the last success kept through a failure', async (t) => {
  const dir = t.testdir({})
  const file = writeTextfile(dir, ok, 4242)
  t.equal(file, `${dir}/backtory_www.prom`)
  const first = readFileSync(file, 'utf8')
  t.match(first, /^backtory_last_success_timestamp_seconds\{set="www"\} 1796095032\.340$/m)
  t.match(first, /^backtory_last_exit_status\{set="www"\} 0$/m)
  t.match(first, /^backtory_last_bytes\{set="www"\} 1500000$/m)
  t.match(first, /^backtory_last_full\{set="www"\} 1$/m)
  writeTextfile(dir, { ...ok, status: 1, stored: false, started: new Date('2026-12-02T03:17:00Z') }, 4242)
  const second = readFileSync(file, 'utf8')
  t.match(second, /^backtory_last_success_timestamp_seconds\{set="www"\} 1796095032\.340$/m, 'the success of the day before')
  t.match(second, /^backtory_last_run_timestamp_seconds\{set="www"\} 1796181432\.340$/m)
  t.match(second, /^backtory_last_exit_status\{set="www"\} 1$/m)
  t.match(second, /^backtory_last_bytes\{set="www"\} 0$/m)
  t.same(readdirSync(dir), ['backtory_www.prom'], 'no temporary left')
})
