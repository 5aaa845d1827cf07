// The full-or-differential policy: each rule alone, and the rule no policy
// overrides (never a differential against a full the store lacks).
import t from 'tap'
import { type StoredBackup } from '../../../src/wrapper/catalog.js'
import { decide } from '../../../src/wrapper/policy.js'
import { formatBytes, formatDuration } from '../../../src/wrapper/values.js'

const DAY = 86400_000
const T0 = Date.parse('2026-11-01T03:00:00Z')

function row(kind: 'full' | 'diff', id: string, day: number, size: number, base: string | null = null, complete = true): StoredBackup {
  return { name: `www_${id}`, set: 'www', kind, id, base, time: new Date(T0 + day * DAY), size, volumes: 1, complete, baseMissing: false, stored: complete ? 1 : 0, firstVolume: complete }
}

const current = { id: 'F1', time: new Date(T0).toISOString() }
const stored = [row('full', 'F1', 0, 1000), row('diff', 'D1', 1, 100, 'F1'), row('diff', 'D2', 2, 300, 'F1')]
const now = new Date(T0 + 3 * DAY)

t.test('no confirmed full: a full, saying why', async (t) => {
  t.same(decide({ now, stored, policy: {} }), { kind: 'full', why: 'no full is confirmed stored yet' })
  t.same(decide({ now, stored, policy: {}, noCurrentWhy: 'the state directory is gone' }), { kind: 'full', why: 'the state directory is gone' })
})

t.test('a differential when no rule holds, against the stored full', async (t) => {
  const d = decide({ now, current, stored, policy: { everySeconds: 7 * 86400, afterDiffs: 6, diffShare: 0.5 } })
  t.equal(d.kind, 'diff')
  t.equal(d.base?.id, 'F1')
  t.equal(d.why, undefined)
})

t.test('the state\'s full missing or incomplete in the store: a full, whatever the policy', async (t) => {
  const d = decide({ now, current, stored: stored.slice(1), policy: {} })
  t.equal(d.kind, 'full')
  t.match(d.why, /does not hold the state's full F1 complete/)
  const partial = [row('full', 'F1', 0, 1000, null, false), ...stored.slice(1)]
  t.equal(decide({ now, current, stored: partial, policy: {} }).kind, 'full')
  const other = [row('full', 'F0', 0, 1000), ...stored.slice(1)]
  t.equal(decide({ now, current, stored: other, policy: {} }).kind, 'full', 'another full of the same set does not stand in')
})

t.test('full-every: the full\'s age', async (t) => {
  t.equal(decide({ now, current, stored, policy: { everySeconds: 4 * 86400 } }).kind, 'diff', '3 days < 4d')
  const d = decide({ now, current, stored, policy: { everySeconds: 3 * 86400 } })
  t.equal(d.kind, 'full', '3 days >= 3d')
  t.equal(d.why, 'full F1 is 3d old (full-every = 3d)')
})

t.test('full-after: differentials since the current full', async (t) => {
  t.equal(decide({ now, current, stored, policy: { afterDiffs: 3 } }).kind, 'diff')
  const d = decide({ now, current, stored, policy: { afterDiffs: 2 } })
  t.equal(d.kind, 'full')
  t.equal(d.why, '2 differentials since full F1 (full-after = 2)')
  const others = [...stored, row('diff', 'X', 2, 10, 'F0'), row('diff', 'Y', 2, 10, 'F1', false)]
  t.equal(decide({ now, current, stored: others, policy: { afterDiffs: 3 } }).kind, 'diff', 'only complete differentials of this full count')
  t.equal(decide({ now, current, stored, policy: { afterDiffs: 0 } }).kind, 'full', 'full-after = 0: every backup a full')
})

t.test('full-share: the last differential against its full', async (t) => {
  t.equal(decide({ now, current, stored, policy: { diffShare: 0.3 } }).kind, 'diff', '300 of 1000 is not above 30%')
  const d = decide({ now, current, stored, policy: { diffShare: 0.25 } })
  t.equal(d.kind, 'full')
  t.equal(d.why, 'the last differential is 30% of its full\'s size (full-share = 25%)')
  t.equal(decide({ now, current, stored: stored.slice(0, 1), policy: { diffShare: 0.01 } }).kind, 'diff', 'no differential yet')
})

t.test('words', async (t) => {
  t.equal(formatDuration(7 * 86400), '7d')
  t.equal(formatDuration(36 * 3600), '36h')
  t.equal(formatDuration(3 * 86400 + 5), '3d+')
  t.equal(formatDuration(59), '59s')
  t.equal(formatBytes(1742), '1.7 KiB')
  t.equal(formatBytes(12), '12 B')
  t.equal(formatBytes(300 * 1024 * 1024), '300 MiB')
})
