// A week of nightly `backtory backup` runs on a generated tree that changes
// every day (edits in place, appends, deletes, renames, type changes, new
// files), with a full after six differentials. After each day, that day's
// backup restored by hand with the filters (bt-get | bt-open | bt-restore:
// its full, then the differential) must equal that day's tree exactly.
import { type Test } from 'tap'
import { appendFileSync, mkdirSync, openSync, closeSync, renameSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs'
import { isRoot, sh } from '../helpers.js'
import { buildTree, compareTrees } from '../tree.js'
import { type Sandbox, backtory, listing, writeSet } from './setup.js'

function change(dir: string, day: number): void {
  const p = (r: string) => `${dir}/${r}`
  const fd = openSync(p('big.bin'), 'r+')
  writeSync(fd, Buffer.alloc(4096, day), 0, 4096, day * 100_003)
  closeSync(fd)
  if (day < 6) appendFileSync(p('deep/er/still/deeper/leaf'), `day ${day}\n`)
  writeFileSync(p(`new-${day}.txt`), `made on day ${day}\n`.repeat(day + 1))
  if (day >= 3) rmSync(p(`new-${day - 2}.txt`))
  if (day === 2) renameSync(p('space name'), p('renamed space'))
  if (day === 3) {
    rmSync(p('deep/rel-symlink'))
    mkdirSync(p('deep/rel-symlink'))
    writeFileSync(p('deep/rel-symlink/now-a-dir'), 'was a symlink\n')
  }
  if (day === 4) {
    rmSync(p('emptydir'), { recursive: true })
    writeFileSync(p('emptydir'), 'was a directory\n')
  }
  if (day === 5) symlinkSync('hello.txt', p('new-link'))
  if (day === 6) rmSync(p('deep/er'), { recursive: true })
  if (day === 7) writeFileSync(p('hello.txt'), 'rewritten\n')
}

export interface WeekStore {
  url: string
  /** backtory.conf lines that reach the store (password file, pin). */
  conf: string[]
  /** The same for bt-get and bt-ls, as shell words. */
  args: string
  /** Differentials between the two fulls (default 6: a week). */
  fullAfter?: number
}

export async function week(t: Test, s: Sandbox, store: WeekStore): Promise<void> {
  const src = `${s.T}/src`
  mkdirSync(src)
  buildTree(src, { root: isRoot() })
  // A full, then full-after differentials, then the next full.
  const after = store.fullAfter ?? 6
  writeSet(s, 'www', [`source = ${src}`, `store = ${store.url}`, ...store.conf, `full-after = ${after}`, 'full-every = 30d', 'volume-size = 1M'])
  const kinds: string[] = []
  for (let day = 0; day <= after + 1; day++) {
    if (day > 0) change(src, day)
    const r = await backtory(s, ['backup', '-q', '--json', 'www'])
    t.equal(r.code, 0, `day ${day}: backup\n${r.stderr}`)
    t.equal(r.stderr, '', `day ${day}: -q prints nothing on success`)
    const report = JSON.parse(r.stdout.toString()) as { kind: string; name: string; why_full: string | null }
    kinds.push(report.kind)
    const rows = listing(store.url, store.args)
    const me = rows.find((x) => x.name === report.name)!
    t.ok(me?.complete, `day ${day}: ${report.name} is listed complete`)
    const full = me.kind === 'full' ? me : rows.find((x) => x.kind === 'full' && x.id === me.base)!
    const target = `${s.T}/restore-${day}`
    const get = (name: string) => `bt-get.js ${store.args} '${store.url}${name}' | bt-open.js --key ${s.keys.admin} --verify ${s.keys.hostPub} | bt-restore.js ${target}`
    const steps = [get(full.name), ...(me.kind === 'diff' ? [get(me.name)] : [])]
    const res = sh(`set -e; ${steps.join('; ')}`)
    t.equal(res.code, 0, `day ${day}: restore\n${res.stderr}`)
    t.same(compareTrees(src, target), [], `day ${day}: the restored ${me.kind} equals the day's tree`)
    rmSync(target, { recursive: true, force: true })
  }
  t.same(kinds, ['full', ...Array<string>(after).fill('diff'), 'full'], `a full, ${after} differentials, then a full (full-after = ${after})`)
  t.same(listing(store.url, store.args, true).filter((x) => !x.complete || x.base_missing), [], 'nothing incomplete, no differential without its base')
}
