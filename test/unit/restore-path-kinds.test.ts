import t from 'tap'
import { PathKinds } from '../../src/restore/path-kinds.js'

t.test('PathKinds keeps the last kind declared at each path through growth', async (t) => {
  const k = new PathKinds()
  const n = 50_000
  for (let i = 0; i < n; i++) k.set(`d${i % 97}/f${i}`, i % 3 === 0 ? 'file' : i % 3 === 1 ? 'symlink' : 'dir')
  k.set('d0/f0', 'other')
  let wrong = 0
  for (let i = 1; i < n; i++) if (k.get(`d${i % 97}/f${i}`) !== (i % 3 === 0 ? 'file' : i % 3 === 1 ? 'symlink' : 'dir')) wrong++
  t.equal(wrong, 0, 'every path answers its kind')
  t.equal(k.get('d0/f0'), 'other', 'a later declaration wins')
  t.equal(k.get('never/declared'), undefined)
})
