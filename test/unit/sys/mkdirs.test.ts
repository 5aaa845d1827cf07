import t from 'tap'
import { statSync, writeFileSync } from 'node:fs'
import { mkdirs } from '../../../src/sys/mkdirs.js'

t.test('mkdirs makes missing parents, accepts an existing directory', async (t) => {
  const dir = t.testdir({})
  mkdirs(`${dir}/a/b/c`)
  t.ok(statSync(`${dir}/a/b/c`).isDirectory())
  mkdirs(`${dir}/a/b/c`)
  mkdirs(dir)
})

t.test('mkdirs fails with an errno error naming the step, never loops', async (t) => {
  const dir = t.testdir({})
  writeFileSync(`${dir}/f`, 'x')
  t.throws(() => mkdirs(`${dir}/f`), { code: 'ENOTDIR', path: `${dir}/f` }, 'a file where the directory belongs')
  t.throws(() => mkdirs(`${dir}/f/x/y`), { code: 'ENOTDIR' }, 'a file on the way')
  // /proc answers ENOENT for a directory it will not make although its parent exists:
  // Node's own recursive mkdir loops forever there.
  t.throws(() => mkdirs('/proc/backtory-x/y'), { code: 'ENOENT', path: '/proc/backtory-x' })
})
