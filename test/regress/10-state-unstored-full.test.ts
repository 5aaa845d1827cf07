// Issue 10, item 1: a listed, "complete" differential whose base was never
// stored. bt-delta --auto recorded the full's index as the base as soon as its
// input ended; when the upload then failed (a full store disk, a kill), every
// later night stored a differential against a full the store never held, all
// stages exiting 0. Now a new full's index is pending until bt-put --state
// has stored the full whole, bt-put refuses a differential whose base is not
// stored whole, and bt-ls URL marks one whose base is missing.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { BIN, ROOT, isRoot, runBin, sh, xorshift } from '../helpers.js'
import { compareTrees } from '../tree.js'
import { putArchive } from '../../src/transport/put.js'
import { FileTransport } from '../../src/transport/file.js'
import { type Transport } from '../../src/transport/transport.js'
import { sshdMissing, startSshd } from '../servers/sshd.js'

const K = `${ROOT}test/fixtures/keys`
const SEAL = `bt-seal.js --compress none --set www --to ${K}/admin.pub --sign ${K}/host.key`
/** The documented nightly pipeline; its status is bt-put's (POSIX sh: the last stage's). */
const nightly = (src: string, S: string, url: string) =>
  `bt-scan.js --state "${S}" "${src}" | bt-delta.js --auto --state "${S}" | ${SEAL} | bt-put.js --state "${S}" ${url}`

function noise(n: number, seed: number): Buffer {
  const rnd = xorshift(seed)
  const b = Buffer.alloc(n)
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(Math.floor(rnd() * 0x100000000), i)
  return b
}

const kindOf = (name: string) => /_(full|diff)_/.exec(name)?.[1]

t.test('a store too small for the full: the next night makes a full, never a differential against it', { skip: !isRoot() && 'needs root to mount a tmpfs' }, async (t) => {
  const dir = t.testdir({ src: { small: 'one\n' }, state: {} })
  writeFileSync(`${dir}/src/big`, noise(3 << 20, 1))
  const S = `${dir}/state`
  const mnt = `${dir}/mnt`
  t.equal(sh(`mkdir "${mnt}" && mount -t tmpfs -o size=2m tmpfs "${mnt}"`).code, 0, 'a 2 MiB store disk')
  try {
    await nights(t, dir, S, mnt)
  } finally {
    sh(`umount "${mnt}"`)
  }
})

async function nights(t: Test, dir: string, S: string, mnt: string): Promise<void> {
  const url = `file://${mnt}/store`

  // The report's pipeline, as the documentation had it (bt-put without --state).
  const old = `bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js --auto --state "${S}" | ${SEAL} | bt-put.js ${url}`
  const first = sh(old)
  t.equal(first.code, 1, `the full does not fit: ${first.stderr}`)
  t.match(first.stderr, /no space left on device/)
  t.same(readdirSync(`${mnt}/store`), [], 'nothing stored')

  t.equal(sh(`mount -o remount,size=64m "${mnt}"`).code, 0, 'space freed')
  writeFileSync(`${dir}/src/small`, 'two\n')
  const second = sh(old)
  t.equal(second.code, 0, second.stderr)
  t.equal(kindOf(second.stdout.trim()), 'full', 'the next night stores a full again, not a differential against the lost one')
  t.match(second.stderr, /bt-delta: no stored full confirmed in .*: making a full/)
  t.match(sh(`bt-ls.js "${url}"`).stdout, /^[^\n]*\tfull\t[^\n]*\tcomplete\t[^\n]*\n$/, 'the store holds that one full')
  rmSync(`${mnt}/store`, { recursive: true })

  // The nightly pipeline as documented now: bt-put --state confirms each stored full.
  t.equal(sh(`mount -o remount,size=2m "${mnt}"`).code, 0)
  const third = sh(nightly(`${dir}/src`, S, url))
  t.equal(third.code, 1, 'the full does not fit again')
  t.equal(sh(`mount -o remount,size=64m "${mnt}"`).code, 0)
  const fourth = sh(nightly(`${dir}/src`, S, url))
  t.equal(fourth.code, 0, fourth.stderr)
  t.equal(kindOf(fourth.stdout.trim()), 'full', 'a full again')

  writeFileSync(`${dir}/src/small`, 'three\n')
  const fifth = sh(nightly(`${dir}/src`, S, url))
  t.equal(fifth.code, 0, fifth.stderr)
  t.equal(kindOf(fifth.stdout.trim()), 'diff', 'then differentials against the stored full')
  const ls = sh(`bt-ls.js --json "${url}"`)
  // Sorted by kind: two runs within one second list in name order.
  const rows = ls.stdout.trim().split('\n').map((l) => JSON.parse(l)).sort((a, b) => (a.kind === 'full' ? -1 : b.kind === 'full' ? 1 : 0))
  t.same(rows.map((r) => [r.kind, r.complete, r.base_missing]), [['full', true, false], ['diff', true, false]])
  t.equal(rows[1].base, rows[0].id, 'the differential names the stored full')

  const open = `bt-open.js --key ${K}/admin.key --verify ${K}/host.pub`
  const r = sh(`bt-get.js "${url}/${rows[0].name}" | ${open} | bt-restore.js "${dir}/r" && bt-get.js "${url}/${rows[1].name}" | ${open} | bt-restore.js "${dir}/r"`)
  t.equal(r.code, 0, r.stderr)
  t.same(compareTrees(`${dir}/src`, `${dir}/r`), [], 'the full and the differential restore the tree')
}

t.test('bt-put killed during a full: the next run makes a full', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' }, state: {} })
  writeFileSync(`${dir}/src/big`, noise(2 << 20, 2))
  const S = `${dir}/state`
  const store = `${dir}/store`
  const made = sh(`bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js --auto --state "${S}" | ${SEAL} > "${dir}/full.bts"`)
  t.equal(made.code, 0, made.stderr)
  const archive = readFileSync(`${dir}/full.bts`)
  const put = spawn(process.execPath, [`${BIN}/bt-put.js`, '--volume-size', '256K', '--state', S, store], { stdio: ['pipe', 'ignore', 'ignore'] })
  put.stdin.on('error', () => undefined) // it dies with bytes still unread
  const closed = new Promise((r) => put.on('close', r))
  put.stdin.write(archive.subarray(0, archive.length - 100_000))
  for (let i = 0; i < 1000 && (!existsSync(store) || readdirSync(store).length === 0) && put.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10))
  t.equal(put.exitCode, null, 'bt-put is uploading')
  put.kill('SIGKILL')
  await closed

  writeFileSync(`${dir}/src/a`, 'beta\n')
  const next = sh(nightly(`${dir}/src`, S, store))
  t.equal(next.code, 0, next.stderr)
  t.equal(kindOf(next.stdout.trim()), 'full', 'a full, not a differential against the full that was never stored')
  t.match(next.stderr, /never confirmed stored/)
})

t.test('the explicit flow: --full, then a differential only once the full is confirmed stored', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' } })
  const S = `${dir}/state`
  const store = `${dir}/store`
  t.equal(sh(`bt-scan.js "${dir}/src" | bt-delta.js --state "${S}" --full > "${dir}/full.bt"`).code, 0)
  writeFileSync(`${dir}/src/a`, 'beta\n')
  const early = sh(`bt-scan.js "${dir}/src" | bt-delta.js --state "${S}" -o "${dir}/d.bt"`)
  t.equal(early.code, 1, 'no differential against an unconfirmed full')
  t.match(early.stderr, /bt-delta: error: the only index in .* is of full [0-9a-f]{32}, which no store has confirmed holding/)
  t.match(early.stderr, /bt-delta: hint: store that full with bt-put --state .* bt-delta --state .* --confirm [0-9a-f]{32}/)
  t.notOk(existsSync(`${dir}/d.bt`))

  // bt-put --state stores it and confirms it.
  const id = JSON.parse(readFileSync(`${S}/pending/full.json`, 'utf8')).id
  const put = sh(`${SEAL} < "${dir}/full.bt" | bt-put.js --state "${S}" "${store}"`)
  t.equal(put.code, 0, put.stderr)
  t.match(put.stderr, new RegExp(`bt-put: confirmed full ${id} in `))
  t.notOk(existsSync(`${S}/pending`), 'nothing pending')
  t.equal(JSON.parse(readFileSync(`${S}/current/full.json`, 'utf8')).id, id)
  const d = sh(`bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js --state "${S}" | ${SEAL} | bt-put.js --state "${S}" "${store}"`)
  t.equal(d.code, 0, d.stderr)
  t.equal(kindOf(d.stdout.trim()), 'diff')

  // A full stored by other means is confirmed by hand; --confirm prints what it confirmed.
  t.equal(sh(`bt-scan.js "${dir}/src" | bt-delta.js --state "${S}" --full > "${dir}/full2.bt"`).code, 0)
  const id2 = JSON.parse(readFileSync(`${S}/pending/full.json`, 'utf8')).id
  const wrong = sh(`bt-delta.js --state "${S}" --confirm ${'0'.repeat(32)}`)
  t.equal(wrong.code, 1)
  t.match(wrong.stderr, new RegExp(`cannot confirm full 0{32} in .*: it awaits full ${id2}`))
  const c = sh(`bt-delta.js --state "${S}" --confirm ${id2}`)
  t.equal(c.code, 0, c.stderr)
  t.equal(c.stdout, `${id2}\n`)
  t.match(c.stderr, new RegExp(`bt-delta: confirmed full ${id2} \\(2 entries, made `))
  t.equal(readdirSync(S).filter((n) => n.startsWith('gen-')).length, 1, 'the superseded index is removed')
})

t.test('--auto with a confirmed full and a newer unconfirmed one: a differential against the confirmed one', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' }, state: {} })
  const S = `${dir}/state`
  const store = `${dir}/store`
  t.equal(sh(nightly(`${dir}/src`, S, store)).code, 0)
  const stored = JSON.parse(readFileSync(`${S}/current/full.json`, 'utf8')).id
  t.equal(sh(`bt-scan.js "${dir}/src" | bt-delta.js --state "${S}" --full > /dev/null`).code, 0, 'a full that is never stored')
  writeFileSync(`${dir}/src/a`, 'beta\n')
  const r = sh(nightly(`${dir}/src`, S, store))
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout.trim(), new RegExp(`_diff_[0-9a-f]{32}_${stored}$`), 'against the stored full')
  t.match(r.stderr, new RegExp(`bt-delta: full [0-9a-f]{32} was never confirmed stored: making a differential against the stored full ${stored}`))
})

/** A sealed differential against a full that `S` holds confirmed but no store holds. */
function orphanDiff(dir: string): { full: Buffer; diff: Buffer; base: string } {
  const S = `${dir}/ostate`
  t.equal(sh(`bt-scan.js "${dir}/src" | bt-delta.js -q --state "${S}" --full | ${SEAL} > "${dir}/o-full.bts" && bt-delta.js -q --state "${S}" --confirm`).code, 0)
  writeFileSync(`${dir}/src/a`, `changed ${Math.random()}\n`)
  t.equal(sh(`bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js -q --state "${S}" | ${SEAL} > "${dir}/o-diff.bts"`).code, 0)
  return { full: readFileSync(`${dir}/o-full.bts`), diff: readFileSync(`${dir}/o-diff.bts`), base: JSON.parse(readFileSync(`${S}/current/full.json`, 'utf8')).id }
}

t.test('bt-put refuses a differential whose base is not stored whole; bt-ls flags one', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n', b: 'b'.repeat(200_000) } })
  const { full, diff, base } = orphanDiff(dir)
  const store = `${dir}/store`

  const r = await runBin('bt-put', [`file://${store}`], diff)
  t.equal(r.code, 4, r.stderr)
  t.match(r.stderr, new RegExp(`bt-put: error: refusing diff [0-9a-f]{32}: its base, full ${base}, is not stored whole in ${store}`))
  t.match(r.stderr, /bt-put: hint: store that full there first .*\n.*bt-put: hint: or make a new full with bt-delta --full/)
  t.same(readdirSync(store), [], 'nothing stored, not even a temporary')

  // A base stored in part is no base either.
  const f = await runBin('bt-put', ['--volume-size', '64K', store], full)
  t.equal(f.code, 0, f.stderr)
  const vols = readdirSync(store).sort()
  rmSync(`${store}/${vols[1]}`)
  t.equal((await runBin('bt-put', [store], diff)).code, 4, 'refused beside an incomplete full')

  // With the full whole, it is stored; with the full then lost, bt-ls flags it.
  rmSync(store, { recursive: true })
  t.equal((await runBin('bt-put', [store], full)).code, 0)
  const d = await runBin('bt-put', [store], diff)
  t.equal(d.code, 0, d.stderr)
  for (const v of readdirSync(store).filter((n) => n.includes('_full_'))) rmSync(`${store}/${v}`)
  const text = await runBin('bt-ls', [store])
  t.equal(text.code, 0)
  t.match(text.stdout.toString(), new RegExp(`\\tdiff\\t[0-9a-f]{32}\\t${base}\\t\\d+\\t1/1\\tBASE-MISSING\\t`))
  t.match(text.stderr, /1 differential listed as BASE-MISSING: its base full is not stored whole here/)
  const json = JSON.parse((await runBin('bt-ls', ['--json', store])).stdout.toString())
  t.equal(json.base_missing, true)
  t.equal(json.complete, true, 'its own volumes are all there')
})

t.test('the refusal is the transport-independent engine\'s: through the Transport interface', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' } })
  const { diff, base } = orphanDiff(dir)
  const opts = {
    volumeSize: 1 << 20, window: 1 << 20, verify: [], staleMs: 0, now: Date.now,
    retry: { retries: 0, delayMs: 10, maxDelayMs: 10, notice: () => undefined },
  }
  const listed: string[] = []
  // A backend that only records what it is asked: whatever the scheme, the check is a list().
  const file = new FileTransport(`${dir}/store`)
  const spy: Transport = {
    display: 'spy://store', canResume: false,
    prepare: () => file.prepare(), stat: (n) => file.stat(n), load: (n, i, o) => file.load(n, i, o),
    rename: (a, b) => file.rename(a, b), remove: (n) => file.remove(n), close: () => file.close(),
    list: async () => {
      listed.push('list')
      return file.list()
    },
    save: async (n, d, o) => {
      listed.push(`save ${n}`)
      return file.save(n, d, o)
    },
  }
  const err = await putArchive(Readable.from([diff]), spy, opts).then(() => undefined, (e: unknown) => e)
  t.match(err, { code: 'BT_BASE_MISSING', exit: 4 })
  t.match((err as Error).message, new RegExp(`base, full ${base}, is not stored whole in spy://store`))
  t.notOk(listed.some((l) => l.startsWith('save')), 'refused before any byte is uploaded')
})

t.test('over sftp:// too: a real server, the same refusal and the same confirmation', { skip: sshdMissing() }, async (t) => {
  const srv = await startSshd()
  t.teardown(() => srv.stop())
  const dir = t.testdir({ src: { a: 'alpha\n' }, state: {} })
  writeFileSync(`${dir}/id`, srv.identity, { mode: 0o600 })
  const d = srv.dir('orphan')
  const url = `sftp://${srv.user}@127.0.0.1:${srv.port}${d.dir}`
  const put = `bt-put.js -i "${dir}/id" --known-hosts "${srv.knownHostsFile}"`
  const { diff, base } = orphanDiff(dir)
  writeFileSync(`${dir}/o-diff.bts`, diff)
  const r = sh(`${put} ${url} < "${dir}/o-diff.bts"`)
  t.equal(r.code, 4, r.stderr)
  t.match(r.stderr, new RegExp(`its base, full ${base}, is not stored whole in sftp://`))
  t.same(readdirSync(d.localDir), [], 'nothing stored')
  // The nightly pipeline against it: a full, confirmed, then a differential stored beside it.
  const S = `${dir}/state`
  const pipe = `bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js --auto --state "${S}" | ${SEAL} | ${put} --state "${S}" ${url}`
  const first = sh(pipe)
  t.equal(first.code, 0, first.stderr)
  t.match(first.stderr, /bt-put: confirmed full /)
  writeFileSync(`${dir}/src/a`, 'beta\n')
  const second = sh(pipe)
  t.equal(second.code, 0, second.stderr)
  t.equal(kindOf(second.stdout.trim()), 'diff')
})

t.test('a full stored while its state cannot be written: the name is on stdout, the error says how to confirm', { skip: !isRoot() && 'needs root to mount a tmpfs' }, async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' } })
  const S = `${dir}/state`
  t.equal(sh(`mkdir "${S}" && mount -t tmpfs -o size=8m tmpfs "${S}"`).code, 0, 'the state on its own file system')
  try {
    const made = sh(`bt-scan.js --state "${S}" "${dir}/src" | bt-delta.js --auto --state "${S}" | ${SEAL} > "${dir}/full.bts"`)
    t.equal(made.code, 0, made.stderr)
    t.equal(sh(`mount -o remount,ro "${S}"`).code, 0, 'the state turns read-only')
    const put = sh(`bt-put.js --state "${S}" "file://${dir}/store" < "${dir}/full.bts"`)
    t.equal(put.code, 1, put.stderr)
    t.match(put.stdout, /^www_\S+_full_[0-9a-f]{32}\n$/, 'the stored name is printed all the same')
    const id = /_full_([0-9a-f]{32})/.exec(put.stdout)![1]!
    t.match(put.stderr, new RegExp(`full ${id} is stored as ${put.stdout.trim()}, but not confirmed in`))
    t.match(put.stderr, new RegExp(`hint: then confirm it: bt-delta --state ${S} --confirm ${id}`))
    t.equal(sh(`mount -o remount,rw "${S}"`).code, 0)
    const confirm = sh(`bt-delta.js --state "${S}" --confirm ${id}`)
    t.equal(confirm.code, 0, `the hint's command works: ${confirm.stderr}`)
    writeFileSync(`${dir}/src/a`, 'beta\n')
    const next = sh(nightly(`${dir}/src`, S, `file://${dir}/store`))
    t.equal(next.code, 0, next.stderr)
    t.equal(kindOf(next.stdout.trim()), 'diff', 'the next night is a differential against the confirmed full')
  } finally {
    sh(`umount "${S}"`)
  }
})
