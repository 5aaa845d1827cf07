// backtory prune (issue 11): a month of real nightly backups (bt-scan |
// bt-delta | bt-seal | bt-put on a small tree that changes every day, a full
// every Friday), pruned by keep rules. A prune killed (SIGKILL) in the middle
// of removing a full leaves no differential listed complete whose full is
// gone, the next prune finishes it, and then every kept backup still restores
// (bt-get | bt-open | bt-restore) to exactly its day's tree.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { BIN, ROOT, runBin, sh, xorshift } from '../helpers.js'

const K = `${ROOT}test/fixtures/keys`
const CLOCK = `file://${ROOT}dist/test/clock.js`
const DAYS = 31
const FIRST = Date.parse('2027-01-01T03:00:00Z') // a Friday: fulls on the 1st, 8th, 15th, 22nd and 29th

const dayOf = (i: number) => new Date(FIRST + i * 86400_000).toISOString().replace(/\.000Z$/, 'Z')

/** The tree of day `i`: one file rewritten, one appended to, one made each day and removed three days later, a big one. */
function treeAt(i: number): Record<string, string> {
  const files: Record<string, string> = { today: `day ${i}\n`, log: Array.from({ length: i + 1 }, (_, k) => `night ${k}\n`).join('') }
  for (let k = Math.max(0, i - 2); k <= i; k++) files[`new/f${k}`] = `made on day ${k}\n`
  return files
}

function noise(n: number, seed: number): Buffer {
  const rnd = xorshift(seed)
  const b = Buffer.alloc(n)
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(Math.floor(rnd() * 0x100000000), i)
  return b
}

function write(dir: string, i: number): void {
  rmSync(`${dir}/new`, { recursive: true, force: true })
  mkdirSync(`${dir}/new`, { recursive: true })
  for (const [p, c] of Object.entries(treeAt(i))) writeFileSync(`${dir}/${p}`, c)
}

/** The regular files under `dir`, as path → content (big checked apart). */
function read(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {}
  for (const e of readdirSync(`${dir}/${rel}`)) {
    const p = rel ? `${rel}/${e}` : e
    if (statSync(`${dir}/${p}`).isDirectory()) Object.assign(out, read(dir, p))
    else if (p !== 'big' && p !== '.backtory-restore.json') out[p] = readFileSync(`${dir}/${p}`, 'utf8') // big is compared apart; the marker is bt-restore's
  }
  return out
}

interface Row { name: string; kind: string; id: string; base: string | null; time: string; complete: boolean; base_missing: boolean; first_volume: boolean }

// About 50 pipelines of real processes: minutes on a loaded machine, beyond tap's default per-file timeout.
t.setTimeout(3_600_000)
t.test('a month of backups pruned by keep rules: a cut prune orphans nothing, every kept backup restores', { timeout: 3_600_000 }, async (t) => {
  const dir = t.testdir({ src: {}, conf: {}, data: {} })
  const big = noise(200_000, 11)
  writeFileSync(`${dir}/src/big`, big)
  const S = `${dir}/state`
  mkdirSync(S, { recursive: true }) // bt-put --state refuses a missing state directory
  const url = `file://${dir}/store`
  const env = { BT_CONFIG_DIR: `${dir}/conf`, BT_DATA_DIR: `${dir}/data` }
  const conf = (keep: string) => `source = ${dir}/src\nstore = ${url}\nrecipient = ${K}/admin.pub\nsign-key = ${K}/host.key\n${keep}`
  writeFileSync(`${dir}/conf/www.conf`, conf('keep-daily = 7\nkeep-weekly = 3\nkeep-monthly = 2\n'))
  writeFileSync(`${dir}/conf/bare.conf`, conf(''))

  const names: string[] = []
  for (let i = 0; i < DAYS; i++) {
    write(`${dir}/src`, i)
    const full = i % 7 === 0 // a full reads everything: bt-scan without --state
    const r = sh(`BT_TEST_CLOCK=${dayOf(i)} NODE_OPTIONS=--import=${CLOCK} bt-scan.js ${full ? '' : `--state "${S}"`} "${dir}/src" |
      bt-delta.js -q ${full ? '--full' : ''} --state "${S}" |
      bt-seal.js --compress none --set www --to ${K}/admin.pub --sign ${K}/host.key |
      bt-put.js --volume-size 64k --state "${S}" ${url}`)
    if (r.code !== 0 || !/^www_\d{8}T\d{6}Z_(full|diff)_\S+\n$/.test(r.stdout)) return t.fail(`day ${i}: ${r.stdout} ${r.stderr}`)
    names.push(r.stdout.trim())
  }
  t.same(names.map((n) => /_(full|diff)_/.exec(n)![1]), Array.from({ length: DAYS }, (_, i) => (i % 7 === 0 ? 'full' : 'diff')), 'a full every 7 nights')
  t.equal(names[30]!.slice(0, 20), 'www_20270131T030000Z', 'stamped with the nights of January 2027')

  const bare = await runBin('backtory', ['prune', 'bare'], undefined, env)
  t.equal(bare.code, 2, 'a set without keep rules is refused')
  t.match(bare.stderr, /set bare has no keep rules .*: prune would delete every backup but the newest/)

  // daily 7: 25th-31st; weekly 3: the 31st, 24th, 17th (ISO weeks end on Sunday); monthly: the 31st;
  // with their fulls: the 15th (for the 17th), the 22nd, the 29th.
  const keptDays = [15, 17, 22, 24, 25, 26, 27, 28, 29, 30, 31]
  const kept = keptDays.map((d) => names[d - 1]!)
  const doomed = names.filter((n) => !kept.includes(n))

  const dry = await runBin('backtory', ['prune', '--dry-run', 'www'], undefined, env)
  t.equal(dry.code, 0, dry.stderr)
  const lines = dry.stdout.toString().trim().split('\n')
  t.same(lines.filter((l) => l.startsWith('# keep ')).map((l) => /^# keep +(\S+):/.exec(l)![1]), kept, 'keeps the days the rules say')
  t.same(lines.filter((l) => l.startsWith('# delete ')).map((l) => /^# delete (\S+):/.exec(l)![1]).sort(), [...doomed].sort())
  t.match(lines.find((l) => l.startsWith(`# keep   ${names[16]}:`)), /weekly 2027-W02/)
  t.match(lines.find((l) => l.startsWith(`# keep   ${names[14]}:`)), new RegExp(`the full of kept differential ${names[16]}`))
  const cmd = lines.at(-1)!
  t.equal(cmd, `bt-rm ${url} ${doomed.filter((n) => n.includes('_diff_')).join(' ')} ${doomed.filter((n) => n.includes('_full_')).join(' ')}`,
    'the bt-rm line: differentials first, then the fulls')
  t.equal((await runBin('bt-ls', ['--json', url])).stdout.toString().trim().split('\n').length, DAYS, '--dry-run deletes nothing')

  // Killed after the 18 differentials and the first full's volume 0001.
  const cut = await new Promise<{ paused: boolean; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [`${BIN}/backtory.js`, 'prune', 'www'], { env: { ...process.env, ...env, BT_TEST_PAUSE_RM: '20' } })
    let err = ''
    let killed = false
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString()
      const m = /paused before removing object 20 .*, pid (\d+)/.exec(err)
      if (m && !killed) {
        killed = true
        process.kill(Number(m[1]), 'SIGKILL')
        child.kill('SIGKILL')
      }
    })
    child.on('error', reject)
    child.on('close', () => resolve({ paused: /paused before removing object 20/.test(err), stderr: err }))
  })
  t.ok(cut.paused, cut.stderr)
  const ls = async () => (await runBin('bt-ls', ['--json', '--all', url])).stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Row)
  const half = await ls()
  t.same(half.filter((r) => r.complete && r.base_missing), [], 'no differential listed complete without its full')
  t.same(half.filter((r) => !r.complete).map((r) => [r.name, r.first_volume]), [[names[0], false]], 'the full being removed is incomplete, without its volume 0001')
  t.equal(half.filter((r) => r.kind === 'diff' && doomed.includes(r.name)).length, 0, 'every doomed differential went first')

  const again = await runBin('backtory', ['prune', 'www'], undefined, env)
  t.equal(again.code, 0, again.stderr)
  t.match(again.stdout.toString(), new RegExp(`deleted ${names[0]}: a removal that was cut \\(its volume 0001 is gone\\)`))
  t.match(again.stdout.toString(), new RegExp(`deleted ${names[7]}: no keep rule holds it`))
  const after = await ls()
  t.same(after.map((r) => r.name), kept, 'the next prune finishes: exactly the kept backups stay')
  t.same(after.filter((r) => !r.complete || r.base_missing), [], 'all complete, none without its full')

  const nothing = await runBin('backtory', ['prune', '-q', 'www'], undefined, env)
  t.equal(nothing.code, 0)
  t.equal(nothing.stdout.length + nothing.stderr.length, 0, 'nothing left to do, quietly')
  const json = await runBin('backtory', ['prune', '--json', '--dry-run', 'www'], undefined, env)
  const objs = json.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { name?: string; action?: string; reasons?: string[]; command?: string | null })
  t.same(objs.at(-1), { command: null })
  t.ok(objs.slice(0, -1).every((o) => o.action === 'keep' && o.reasons!.length > 0), '--json: each kept backup with its reasons')

  const open = `bt-open.js --key ${K}/admin.key --verify ${K}/host.pub`
  for (const [k, name] of kept.entries()) {
    const i = keptDays[k]! - 1
    const row = after.find((r) => r.name === name)!
    const target = `${dir}/restore-${i}`
    const chain = row.base === null ? [name] : [after.find((r) => r.kind === 'full' && r.id === row.base)!.name, name]
    const r = sh(chain.map((n) => `bt-get.js "${url}/${n}" | ${open} | bt-restore.js "${target}"`).join(' && '))
    t.equal(r.code, 0, `${name} restores: ${r.stderr}`)
    t.same(read(target), treeAt(i), `day ${i + 1}: exactly that day's tree`)
    t.ok(readFileSync(`${target}/big`).equals(big))
  }
})
