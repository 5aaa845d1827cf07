// A week of backups made by the real filter pipeline, one a "day" (a second
// apart, since names carry the time to the second), with a weekly full by
// bt-delta --full, and a copy of the tree as it was on each day to compare
// restores with. The days edit, append, delete, rename and change types.
import { appendFileSync, chmodSync, linkSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { ROOT, sh, xorshift } from '../helpers.js'

export const K = `${ROOT}test/fixtures/keys`

export interface Day {
  name: string
  kind: 'full' | 'diff'
  /** The time in the backup's name. */
  time: Date
  /** A copy (cp -a) of the tree as that day's backup saw it. */
  tree: string
}

function noise(n: number, seed: number): Buffer {
  const rnd = xorshift(seed)
  const b = Buffer.alloc(n)
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(Math.floor(rnd() * 0x100000000), i)
  return b
}

/** What each day does to the tree before its backup; a true `full` makes that day's backup a full. */
const DAYS: Array<{ full: boolean; change: (p: (rel: string) => string) => void }> = [
  { full: true, change: (p) => {
    mkdirSync(p('etc/nginx'), { recursive: true })
    mkdirSync(p('sub/deep'), { recursive: true })
    writeFileSync(p('etc/nginx/nginx.conf'), 'worker_processes 1;\n')
    writeFileSync(p('a.txt'), 'alpha\n')
    writeFileSync(p('b.txt'), 'bravo\n')
    linkSync(p('b.txt'), p('b-hardlink'))
    writeFileSync(p('sub/c.txt'), 'charlie\n')
    writeFileSync(p('sub/deep/d.bin'), noise(300_000, 1))
    symlinkSync('a.txt', p('a-link'))
    writeFileSync(p('t1'), 'becomes a directory\n')
    writeFileSync(p('t2'), 'becomes a symlink\n')
    writeFileSync(p('gone.txt'), 'deleted on day 1\n')
  } },
  { full: false, change: (p) => {
    writeFileSync(p('etc/nginx/nginx.conf'), 'worker_processes 4;\n')
    appendFileSync(p('sub/deep/d.bin'), noise(5000, 2))
    rmSync(p('gone.txt'))
  } },
  { full: false, change: (p) => {
    renameSync(p('sub/c.txt'), p('sub/c-renamed.txt'))
    rmSync(p('t1'))
    mkdirSync(p('t1'))
    writeFileSync(p('t1/inner'), 'inside\n')
    writeFileSync(p('new.txt'), 'new on day 2\n')
  } },
  { full: true, change: (p) => {
    writeFileSync(p('etc/nginx/nginx.conf'), 'worker_processes 8;\n')
    rmSync(p('t2'))
    symlinkSync('sub', p('t2'))
  } },
  { full: false, change: (p) => {
    rmSync(p('sub/deep'), { recursive: true })
    chmodSync(p('a.txt'), 0o600)
    writeFileSync(p('etc/nginx/nginx.conf'), 'worker_processes 16;\n')
  } },
  { full: false, change: (p) => {
    writeFileSync(p('b.txt'), 'bravo, edited through its name\n')
    mkdirSync(p('late'))
    writeFileSync(p('late/file'), 'day 5\n')
  } },
]

export const SEAL = `bt-seal.js --compress none --set www --to ${K}/admin.pub --sign ${K}/host.key`

/**
 * Runs the week at `url` (bt-put's store options in `putArgs`), the tree in
 * `dir`/src, the state in `dir`/state, the day copies in `dir`/days/N.
 */
export async function makeWeek(dir: string, url: string, putArgs = '', days = DAYS.length): Promise<Day[]> {
  const src = `${dir}/src`
  const S = `${dir}/state`
  mkdirSync(src, { recursive: true })
  mkdirSync(`${dir}/days`, { recursive: true })
  mkdirSync(S, { recursive: true }) // bt-put --state refuses a missing state directory
  const out: Day[] = []
  for (const [i, day] of DAYS.slice(0, days).entries()) {
    day.change((rel) => `${src}/${rel}`)
    if (i > 0) await new Promise((r) => setTimeout(r, 1100)) // a new second: a new name, a new point in time
    const front = day.full ? `bt-scan.js "${src}" | bt-delta.js -q --full --state "${S}"` : `bt-scan.js --state "${S}" "${src}" | bt-delta.js -q --auto --state "${S}"`
    const r = sh(`${front} | ${SEAL} | bt-put.js --state "${S}" ${putArgs} "${url}"`)
    if (r.code !== 0) throw new Error(`day ${i}: the backup failed: ${r.stderr}`)
    const name = r.stdout.trim()
    const m = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z_(full|diff)_/.exec(name)
    if (!m) throw new Error(`day ${i}: bt-put printed ${JSON.stringify(r.stdout)}`)
    const tree = `${dir}/days/${i}`
    const cp = sh(`cp -a "${src}" "${tree}"`)
    if (cp.code !== 0) throw new Error(cp.stderr)
    out.push({ name, kind: m[7] as 'full' | 'diff', time: new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`), tree })
  }
  return out
}

/** A set config for the week's store. */
export function writeConfig(cfgDir: string, src: string, url: string, extra = ''): void {
  mkdirSync(cfgDir, { recursive: true })
  writeFileSync(`${cfgDir}/www.conf`, `source = ${src}\nstore = ${url}\nrecipient = ${K}/admin.pub\nsign-key = ${K}/host.key\n${extra}`)
}
