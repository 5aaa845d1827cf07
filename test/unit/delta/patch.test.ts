// The in-memory patcher used by the tests and for small files.
import t from 'tap'
import { InputError } from '../../../src/errors.js'
import { applyOps } from '../../../src/delta/patch.js'

t.test('applies ops in order', async (t) => {
  const base = Buffer.from('0123456789')
  const got = applyOps([
    { kind: 'copy', offset: 5, length: 5 },
    { kind: 'literal', data: Buffer.from('-') },
    { kind: 'copy', offset: 0, length: 5 },
    { kind: 'copy', offset: 0, length: 10 },
  ], base)
  t.equal(got.toString(), '56789-012340123456789')
  t.equal(applyOps([], base).length, 0, 'no ops: empty output')
})

t.test('refuses copies outside the base', async (t) => {
  const base = Buffer.alloc(10)
  for (const op of [{ offset: 5, length: 6 }, { offset: -1, length: 1 }, { offset: 0, length: 0 }]) {
    try {
      applyOps([{ kind: 'copy', ...op }], base)
      t.fail(`${JSON.stringify(op)}: accepted`)
    } catch (err) {
      t.ok(err instanceof InputError && err.code === 'BT_BAD_DELTA', `${JSON.stringify(op)}: BT_BAD_DELTA`)
      t.match((err as Error).message, /does not fit the base of 10 bytes/)
    }
  }
})
