// Issue 11: backtory backup's promises beyond the week (week.ts): a killed
// upload means a full again, one run per set, cron mode, --dry-run as a
// pipeline sh can run, finally's BT_STATUS, and config errors by file:line.
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { sh } from '../helpers.js'
import { compareTrees } from '../tree.js'
import { backtory, listing, sandbox, startBacktory, writeSet, type Sandbox } from './setup.js'

function tree(dir: string, mib = 0): void {
  mkdirSync(`${dir}/sub`, { recursive: true })
  writeFileSync(`${dir}/a.txt`, 'alpha\n')
  writeFileSync(`${dir}/sub/b.txt`, 'beta\n')
  if (mib > 0) writeFileSync(`${dir}/big.bin`, randomBytes(mib * 1024 * 1024))
}

function setup(t: Test, lines: string[] = [], mib = 0): Sandbox & { src: string; store: string } {
  const s = sandbox(t.testdir({}))
  const src = `${s.T}/src`
  tree(src, mib)
  const store = `file://${s.T}/store/`
  writeSet(s, 'www', [`source = ${src}`, `store = ${store}`, ...lines])
  return { ...s, src, store }
}

/** The pid of the bt-put this sandbox's backup runs, once it is uploading. */
async function uploadingPut(storeDir: string): Promise<number> {
  for (let i = 0; i < 3000; i++) {
    const uploading = existsSync(storeDir) && readdirSync(storeDir).some((n) => n.startsWith('.bt-tmp.'))
    if (uploading) {
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        let cmd = ''
        try {
          cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        } catch {
          continue
        }
        if (cmd.includes('bt-put.js') && cmd.includes(storeDir)) return Number(pid)
      }
    }
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error('bt-put never started uploading')
}

t.test('an upload killed during a full: the next run makes a full again, and no listed backup lacks its base', async (t) => {
  const s = setup(t, ['volume-size = 1M'], 48)
  const run = startBacktory(s, ['backup', '--json', 'www'])
  let err = ''
  run.stderr.on('data', (b: Buffer) => { err += b.toString() })
  const pid = await uploadingPut(`${s.T}/store`)
  process.kill(pid, 'SIGKILL')
  const code = await new Promise<number | null>((r) => run.on('close', r))
  t.not(code, 0, 'the killed run fails')
  t.match(err, /no backup stored \(bt-put exited 137\)/, 'and says which stage failed')
  t.same(listing(s.store).filter((b) => b.kind === 'full'), [], 'no full is listed')
  const again = await backtory(s, ['backup', '--json', 'www'])
  t.equal(again.code, 0, again.stderr)
  const r = JSON.parse(again.stdout.toString()) as { kind: string; why_full: string }
  t.equal(r.kind, 'full', 'the next run makes a full')
  t.match(r.why_full, /was never stored whole|no full is confirmed stored yet/, 'and says why')
  writeFileSync(`${s.src}/a.txt`, 'changed\n')
  const diff = await backtory(s, ['backup', '--json', 'www'])
  t.equal(JSON.parse(diff.stdout.toString()).kind, 'diff', 'then a differential against it')
  const rows = listing(s.store)
  t.equal(rows.length, 2)
  t.same(rows.filter((b) => !b.complete || b.base_missing), [], 'every listed backup is whole and has its base')
})

t.test('two backups of one set at once: the second exits at once, naming the first', async (t) => {
  const s = setup(t, [`pre = sleep 4`])
  const first = startBacktory(s, ['backup', 'www'])
  const lock = `${s.data}/www/backup.lock`
  for (let i = 0; i < 500 && !(existsSync(lock) && readFileSync(lock, 'utf8').includes('pid')); i++) await new Promise((r) => setTimeout(r, 20))
  const second = await backtory(s, ['backup', 'www'])
  t.equal(second.code, 1)
  t.match(second.stderr, new RegExp(`backtory backup: error: set "www" is being backed up already, by backtory backup www \\(pid ${first.pid}, started `))
  t.match(second.stderr, /hint: this run did nothing/)
  t.equal(await new Promise((r) => first.on('close', r)), 0, 'the first run goes on and succeeds')
  const third = await backtory(s, ['backup', 'www'])
  t.equal(third.code, 0, 'the lock went with its run')
})

t.test('cron mode: nothing on success, everything on failure', async (t) => {
  const s = setup(t)
  const ok = await backtory(s, ['backup', '-q', 'www'])
  t.equal(ok.code, 0)
  t.equal(ok.stderr, '', 'silent')
  t.equal(ok.stdout.toString(), '')
  const loud = await backtory(s, ['backup', 'www'])
  t.match(loud.stderr, /^backtory backup: set www: diff www_\S+, \S+ \S+ in [\d.]+ s\n$/, 'without -q: one summary line')
  writeFileSync(`${s.T}/afile`, '')
  writeSet(s, 'www', [`source = ${s.src}`, `store = file://${s.T}/afile/store/`])
  const bad = await backtory(s, ['backup', '-q', 'www'])
  t.equal(bad.code, 1)
  t.match(bad.stderr, /bt-ls: error: .*afile/, 'the failing stage\'s own message')
  t.match(bad.stderr, /bt-ls: hint: /, 'with its hints')
  t.match(bad.stderr, /backtory backup: set www: no backup stored \(cannot list the store .*: bt-ls exited 1\)\n$/, 'and the summary last')
  rmSync(`${s.data}/www/state`, { recursive: true })
  const put = await backtory(s, ['backup', '-q', 'www'])
  t.equal(put.code, 1)
  t.match(put.stderr, /bt-put: error: .*afile/, 'without a full to diff against, bt-put is the stage that fails, and says so')
  t.match(put.stderr, /backtory backup: set www: no backup stored \(bt-put exited 1\)\n$/)
})

t.test('--dry-run prints the pipeline; run by sh, it makes the same backup', async (t) => {
  const s = setup(t, ['exclude = *.tmp', 'compress = gzip'])
  writeFileSync(`${s.src}/skip.tmp`, 'x')
  const dry = await backtory(s, ['backup', '--dry-run', 'www'])
  t.equal(dry.code, 0, dry.stderr)
  t.same(readdirSync(s.data), [], 'changes nothing')
  t.notOk(existsSync(`${s.T}/store`))
  const text = dry.stdout.toString()
  t.match(text, /^# backtory backup www: a full, because no full is confirmed stored yet\n/)
  t.match(text, /\nbt-scan --exclude '\*\.tmp' \S+\/src \| bt-delta -q --full --state \S+ \| bt-seal --to \S+ --sign \S+ --compress gzip --set www \| bt-put /)
  const r = sh(text, { PATH: `${s.bin}:${process.env.PATH}` })
  t.equal(r.code, 0, r.stderr)
  const rows = listing(s.store)
  t.equal(rows.length, 1)
  t.equal(rows[0]!.kind, 'full')
  writeFileSync(`${s.src}/a.txt`, 'changed by hand\n')
  const next = await backtory(s, ['backup', '--dry-run', 'www'])
  t.match(next.stdout.toString(), new RegExp(`^# backtory backup www: a differential against full ${rows[0]!.id}\\n`), 'the full by hand is the confirmed base')
  t.equal(sh(next.stdout.toString(), { PATH: `${s.bin}:${process.env.PATH}` }).code, 0)
  const rows2 = listing(s.store)
  t.equal(rows2[1]?.base, rows[0]!.id)
  const target = `${s.T}/r`
  const get = (n: string) => `bt-get.js '${s.store}${n}' | bt-open.js --key ${s.keys.admin} --verify ${s.keys.hostPub} | bt-restore.js ${target}`
  t.equal(sh(`set -e; ${get(rows2[0]!.name)}; ${get(rows2[1]!.name)}`).code, 0)
  rmSync(`${s.src}/skip.tmp`)
  t.same(compareTrees(s.src, target, { rootMeta: false }), [], 'the sh-made backups restore the tree, excludes applied (the root lost skip.tmp since)')
})

t.test('finally sees BT_STATUS of the stored result', async (t) => {
  const s = setup(t)
  const out = `${s.T}/finally.out`
  const hooks = [`pre = echo "pre $BT_SET" >> ${out}`, `post = echo "post $BT_KIND $BT_NAME" >> ${out}`,
    `finally = echo "finally $BT_STATUS $BT_KIND $BT_NAME" >> ${out}`]
  writeSet(s, 'www', [`source = ${s.src}`, `store = ${s.store}`, ...hooks])
  const ok = await backtory(s, ['backup', '--json', 'www'])
  t.equal(ok.code, 0, ok.stderr)
  const name = JSON.parse(ok.stdout.toString()).name as string
  t.equal(readFileSync(out, 'utf8'), `pre www\npost full ${name}\nfinally 0 full ${name}\n`)
  rmSync(out)
  writeFileSync(`${s.T}/afile`, '')
  writeSet(s, 'www', [`source = ${s.src}`, `store = file://${s.T}/afile/`, ...hooks])
  const bad = await backtory(s, ['backup', 'www'])
  t.equal(bad.code, 1)
  t.equal(readFileSync(out, 'utf8'), 'pre www\nfinally 1  \n', 'a store that cannot be listed: no backup, no post, finally with the failure')
  rmSync(out)
  writeSet(s, 'www', [`source = ${s.src}`, `store = ${s.store}`, 'pre = exit 7', ...hooks.slice(1)])
  const pre = await backtory(s, ['backup', 'www'])
  t.equal(pre.code, 1)
  t.match(pre.stderr, /the backup was skipped/)
  t.equal(readFileSync(out, 'utf8'), 'finally 1  \n', 'a failed pre: no backup, finally still runs')
})

t.test('a lost state directory: rebuilt from the index object beside the full, with the host key only', async (t) => {
  const s = setup(t)
  t.equal((await backtory(s, ['backup', 'www'])).code, 0)
  const stored = readdirSync(s.store.replace(/^file:\/\//, ''))
  t.equal(stored.filter((n) => n.includes('_index_')).length, 1, 'the full\'s index object is stored beside it')
  rmSync(`${s.data}/www/state`, { recursive: true })
  writeFileSync(`${s.src}/after-loss`, 'new\n')
  const r = await backtory(s, ['backup', '--json', 'www'])
  t.equal(r.code, 0, r.stderr)
  t.ok(existsSync(`${s.data}/www/state/current`), 'the state holds a confirmed full again')
  t.equal(JSON.parse(r.stdout.toString()).kind, 'diff', 'a differential against the stored full, not a new full')
})

t.test('a lost state directory and no index object: a full, saying why', async (t) => {
  const s = setup(t)
  t.equal((await backtory(s, ['backup', 'www'])).code, 0)
  const dir = s.store.replace(/^file:\/\//, '')
  for (const n of readdirSync(dir).filter((n) => n.includes('_index_'))) rmSync(`${dir}/${n}`)
  rmSync(`${s.data}/www/state`, { recursive: true })
  const r = await backtory(s, ['backup', '--json', 'www'])
  t.equal(r.code, 0, r.stderr)
  const j = JSON.parse(r.stdout.toString())
  t.equal(j.kind, 'full')
  t.match(j.why_full, /the state directory \S+ is missing, though the store holds full \S+ and no index object beside it to rebuild it from/)
})

t.test('a config error names file and line; no backup is tried', async (t) => {
  const s = setup(t)
  writeFileSync(`${s.cfg}/www.conf`, `source = ${s.src}\nstore = ${s.store}\nfull-evry = 7d\n`)
  const r = await backtory(s, ['backup', 'www'])
  t.equal(r.code, 2)
  t.match(r.stderr, new RegExp(`backtory backup: error: ${s.cfg}/www.conf:3: unknown key "full-evry"`))
  t.notOk(existsSync(`${s.T}/store`))
  const none = await backtory(s, ['backup', 'nosuch'])
  t.equal(none.code, 2)
  t.match(none.stderr, /no config for set "nosuch": .*nosuch\.conf does not exist/)
  t.match(none.stderr, /hint: make it with: backtory init nosuch/)
})

t.test('the embedded default: a bare directory, keys made once, the admin key flagged', async (t) => {
  const s = sandbox(t.testdir({}))
  const src = `${s.T}/mydata`
  tree(src)
  const first = await backtory(s, ['backup', src])
  t.equal(first.code, 0, first.stderr)
  t.match(first.stderr, /warning: \S+\/default\/admin\.key decrypts every backup: copy it off this host/)
  t.match(first.stderr, /the backups are stored in \S+\/default\/store/)
  t.match(first.stderr, /set mydata: full mydata_/)
  const second = await backtory(s, ['backup', src])
  t.match(second.stderr, /^backtory backup: set mydata: diff mydata_\S+, .* \(store \S+\/default\/store\)\n$/, 'no key notices the second time')
  const rows = listing(`file://${s.data}/default/store/`)
  t.equal(rows.length, 2)
  const target = `${s.T}/r`
  const get = (n: string) => `bt-get.js 'file://${s.data}/default/store/${n}' | bt-open.js --key ${s.data}/default/admin.key --verify ${s.data}/default/host.pub | bt-restore.js ${target}`
  t.equal(sh(`set -e; ${get(rows[0]!.name)}; ${get(rows[1]!.name)}`).code, 0)
  t.same(compareTrees(src, target), [])
})
