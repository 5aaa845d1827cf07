// bt-rm's engine: what a removal plan holds and in which order, every refusal
// before anything is removed, and a store's retention (BT_LOCKED, as an S3
// Object Lock refuses a DELETE) skipping a backup and the full it needs.
import t from 'tap'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BtError, EXIT } from '../../../src/errors.js'
import { FileTransport } from '../../../src/transport/file.js'
import { catalog, volumeName } from '../../../src/transport/names.js'
import { planRemoval, removeBackups } from '../../../src/transport/remove.js'

const F1 = 'www_20261101T030000Z_full_f1'
const D1 = 'www_20261102T030000Z_diff_d1_f1'
const D2 = 'www_20261103T030000Z_diff_d2_f1'
const I1 = 'www_20261101T030000Z_index_f1'
const F2 = 'www_20261108T030000Z_full_f2'
const D3 = 'www_20261109T030000Z_diff_d3_f2'

/** Object names of `backup` with `count` volumes, of which `missing` are gone. */
const vols = (backup: string, count: number, missing: number[] = []) =>
  Array.from({ length: count }, (_, i) => i + 1).filter((v) => !missing.includes(v)).map((v) => volumeName(backup, v, count))

const store = (...names: string[][]) => catalog(names.flat().map((name) => ({ name, size: 1 })))
const opts = { force: false, ignoreMissing: false, where: 'the store' }

async function code(f: () => unknown): Promise<string> {
  try {
    await f()
    return 'resolved'
  } catch (err) {
    return (err as BtError).code
  }
}

t.test('the plan: differentials first, a full\'s index just before it, each kind oldest first', async (t) => {
  const c = store(vols(F1, 3), vols(I1, 1), vols(D1, 1), vols(D2, 1), vols(F2, 2), vols(D3, 1))
  const p = planRemoval(c, [F2, F1, D3, D2, D1], opts)
  t.same(p.backups.map((b) => b.name), [D1, D2, D3, I1, F1, F2])
  t.same(p.orphaned, [])
})

t.test('refusals remove nothing: unknown names, volume names, a full whose differential stays', async (t) => {
  const c = store(vols(F1, 3), vols(D1, 1), vols(D2, 1, [1]))
  t.equal(await code(() => planRemoval(c, [D1, 'www_20200101T000000Z_full_00'], opts)), 'BT_REMOTE_NOT_FOUND')
  t.equal(await code(() => planRemoval(c, [vols(F1, 3)[0]!], opts)), 'BT_USAGE')
  t.equal(await code(() => planRemoval(c, ['not a name'], opts)), 'BT_USAGE')
  let err: BtError | undefined
  try {
    planRemoval(c, [F1], opts)
  } catch (e) {
    err = e as BtError
  }
  t.equal(err?.code, 'BT_BASE_IN_USE')
  t.equal(err?.exit, EXIT.FAILURE)
  t.match(err?.message, new RegExp(`1 complete differential is based on it .*: ${D1}$`), 'the incomplete differential does not count')
  t.same(planRemoval(c, [F1, D1], opts).backups.map((b) => b.name), [D1, F1], 'named together, they go')
  const forced = planRemoval(c, [F1], { ...opts, force: true })
  t.same(forced.orphaned.map((b) => b.name), [D1], '--force says which differential it orphans')
  const skipped = planRemoval(c, [D1, 'www_20200101T000000Z_full_00'], { ...opts, ignoreMissing: true })
  t.same(skipped.missing, ['www_20200101T000000Z_full_00'])
  t.same(skipped.backups.map((b) => b.name), [D1])
})

t.test('an incomplete full (a cut removal) is finished even though its differentials stay', async (t) => {
  const c = store(vols(F1, 3, [1]), vols(D1, 1))
  t.same(planRemoval(c, [F1], opts).backups.map((b) => b.name), [F1])
})

t.test('retention: a locked differential stays, and so does its full; the rest goes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bt-rm-'))
  const all = [vols(F1, 2), vols(I1, 1), vols(D1, 1), vols(D2, 1), vols(F2, 1)].flat()
  for (const n of all) writeFileSync(join(dir, n), 'x')
  const file = new FileTransport(dir)
  // The file store refuses like an S3 bucket with Object Lock: before anything of the object goes.
  const locked = new Set([vols(D2, 1)[0]!])
  const tx = Object.assign(Object.create(file) as FileTransport, {
    remove: async (name: string) => {
      if (locked.has(name)) throw new BtError('BT_LOCKED', EXIT.FAILURE, `${name} is under retention until 2027-01-01T00:00:00Z`)
      return file.remove(name)
    },
  })
  const plan = planRemoval(catalog(await file.list()), [F1, D1, D2, F2], opts)
  const r = await removeBackups(tx, plan)
  t.same(r.removed.map((b) => b.name), [D1, F2])
  t.same(r.locked.map((l) => [l.backup.name, l.reason.code]), [[D2, 'BT_LOCKED']])
  t.same(r.held.map((b) => b.name), [I1, F1], 'the full its locked differential needs stays, with its index')
  t.same(readdirSync(dir).sort(), [...vols(F1, 2), ...vols(I1, 1), ...vols(D2, 1)].sort())
})

t.test('a failure halfway through a backup names it and says to run again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bt-rm-'))
  for (const n of vols(F1, 3)) writeFileSync(join(dir, n), 'x')
  const file = new FileTransport(dir)
  const tx = Object.assign(Object.create(file) as FileTransport, {
    remove: async (name: string) => {
      if (name.includes('.0002-of-')) throw new BtError('BT_REMOTE_PERM', EXIT.FAILURE, `cannot remove ${name}`)
      return file.remove(name)
    },
  })
  let err: BtError | undefined
  try {
    await removeBackups(tx, planRemoval(catalog(await file.list()), [F1], opts))
  } catch (e) {
    err = e as BtError
  }
  t.equal(err?.code, 'BT_REMOTE_PERM')
  t.match(err?.message, `backup ${F1} is now incomplete: 1 of its volumes removed`)
  t.match(err?.hints, ['run the same bt-rm again to finish it'])
  t.equal(catalog(await file.list()).backups[0]!.complete, false, 'listed incomplete')
})
