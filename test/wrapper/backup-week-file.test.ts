// Issue 11: a week of `backtory backup` to a file:// store, each day restored by hand and compared (week.ts).
import t from 'tap'
import { sandbox } from './setup.js'
import { week } from './backup-days.js'

t.test('a week of backups on file://, each day restored exactly', async (t) => {
  const s = sandbox(t.testdir({}))
  await week(t, s, { url: `file://${s.T}/store/`, conf: [], args: '' })
})
