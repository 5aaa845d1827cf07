// Issue 10, item 5: bt-delta killed mid-differential left its spool
// ($TMPDIR/bt-delta-*/spool) forever. And two unclear errors: ENOSPC said
// neither which directory (the state directory or TMPDIR) nor what to do, and
// a permission problem on the state directory was reported as damage ("use
// --rebuild-from").
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { BIN, isRoot, sh, xorshift } from '../helpers.js'

function noise(n: number, seed: number): Buffer {
  const rnd = xorshift(seed)
  const b = Buffer.alloc(n)
  for (let i = 0; i + 4 <= n; i += 4) b.writeUInt32LE(Math.floor(rnd() * 0x100000000), i)
  return b
}

/** A stored, confirmed full of `src` in `S`. */
function storedFull(t: Test, src: string, S: string): void {
  const r = sh(`bt-scan.js "${src}" | bt-delta.js -q --state "${S}" --full > /dev/null && bt-delta.js -q --state "${S}" --confirm > /dev/null`)
  t.equal(r.code, 0, r.stderr)
}

t.test('a spool left by a killed bt-delta is removed by the next run; a live one is not', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' }, tmp: {} })
  const S = `${dir}/state`
  const tmp = `${dir}/tmp`
  writeFileSync(`${dir}/src/big`, noise(6 << 20, 1))
  storedFull(t, `${dir}/src`, S)
  writeFileSync(`${dir}/src/big`, noise(6 << 20, 2))
  t.equal(sh(`bt-scan.js "${dir}/src" > "${dir}/scan.bt"`).code, 0)
  const scan = readFileSync(`${dir}/scan.bt`)

  const delta = spawn(process.execPath, [`${BIN}/bt-delta.js`, '--state', S], { stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, TMPDIR: tmp } })
  delta.stdin.on('error', () => undefined)
  const closed = new Promise((r) => delta.on('close', r))
  delta.stdin.write(scan.subarray(0, 3 << 20)) // mid-way through the changed file: its delta is being spooled
  const spooling = () => readdirSync(tmp).some((d) => {
    try {
      return statSync(`${tmp}/${d}/spool`).size > 0
    } catch {
      return false
    }
  })
  for (let i = 0; i < 1000 && !spooling() && delta.exitCode === null; i++) await new Promise((r) => setTimeout(r, 10))
  t.ok(spooling(), 'bt-delta is spooling')
  delta.kill('SIGKILL')
  await closed
  const left = readdirSync(tmp)
  t.equal(left.length, 1, `the killed run left its spool: ${left.join(' ')}`)

  // Another run's spool, alive (this test's own pid): left alone.
  const live = `bt-delta-${process.pid}-Abc123`
  mkdirSync(`${tmp}/${live}`)
  const next = sh(`bt-delta.js --state "${S}" < "${dir}/scan.bt" > /dev/null`, { TMPDIR: tmp })
  t.equal(next.code, 0, next.stderr)
  t.match(next.stderr, new RegExp(`bt-delta: removed ".*/tmp/${left[0]}", the spool of a run that was killed`))
  t.same(readdirSync(tmp), [live], 'only the live run\'s spool is left')
})

t.test('ENOSPC in the state directory names it and says what to do', { skip: !isRoot() && 'needs root to mount a tmpfs' }, async (t) => {
  const dir = t.testdir({ src: {} })
  for (let i = 0; i < 3000; i++) writeFileSync(`${dir}/src/file-with-a-longish-name-${i}`, `${i}\n`)
  t.equal(sh(`mkdir "${dir}/small" && mount -t tmpfs -o size=64k tmpfs "${dir}/small"`).code, 0)
  try {
    const S = `${dir}/small/state`
    const r = sh(`bt-scan.js "${dir}/src" | bt-delta.js --state "${S}" --full > /dev/null`)
    t.equal(r.code, 1, r.stderr)
    t.match(r.stderr, new RegExp(`bt-delta: error: cannot write the state file "${S}/\\.gen-[^"]*/index\\.jsonl": no space left on device \\(ENOSPC\\)`))
    t.match(r.stderr, new RegExp(`bt-delta: hint: the filesystem of the state directory "${S}" is full: free space there`))
    t.notMatch(r.stderr, /damaged|TMPDIR/)
    t.same(readdirSync(S).filter((n) => n !== 'delta.lock'), [], 'no half-written index is left')
  } finally {
    sh(`umount "${dir}/small"`)
  }
})

t.test('ENOSPC in TMPDIR names it and says what to do', { skip: !isRoot() && 'needs root to mount a tmpfs' }, async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' } })
  const S = `${dir}/state`
  writeFileSync(`${dir}/src/big`, noise(4 << 20, 3))
  storedFull(t, `${dir}/src`, S)
  writeFileSync(`${dir}/src/big`, noise(4 << 20, 4))
  t.equal(sh(`mkdir "${dir}/tmp" && mount -t tmpfs -o size=1m tmpfs "${dir}/tmp"`).code, 0)
  try {
    const r = sh(`bt-scan.js "${dir}/src" | bt-delta.js --state "${S}" > /dev/null`, { TMPDIR: `${dir}/tmp` })
    t.equal(r.code, 1, r.stderr)
    t.match(r.stderr, new RegExp(`bt-delta: error: cannot write bt-delta's temporary file in "${dir}/tmp" \\(TMPDIR\\): no space left on device \\(ENOSPC\\)`))
    t.match(r.stderr, /bt-delta: hint: TMPDIR's filesystem is full: .* set TMPDIR to a directory on a larger filesystem/)
    t.same(readdirSync(`${dir}/tmp`), [], 'the spool is removed')
  } finally {
    sh(`umount "${dir}/tmp"`)
  }
})

t.test('a state directory this user may not read: a permission error, not a broken state', { skip: !isRoot() && 'needs root to switch to another user' }, async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' } })
  const S = `${dir}/state`
  storedFull(t, `${dir}/src`, S)
  chmodSync(S, 0o755)
  // Without the test runner's NODE_OPTIONS: its coverage hook writes where nobody may not.
  const asNobody = (cmd: string) => sh(`setpriv --reuid=65534 --regid=65534 --clear-groups env -u NODE_OPTIONS sh -c '${cmd}'`)

  // Its lock files are root's: the refusal names the lock file.
  const locked = asNobody(`bt-scan.js --state "${S}" "${dir}/src" > /dev/null`)
  t.equal(locked.code, 1, locked.stderr)
  t.match(locked.stderr, /bt-scan: error: cannot lock the state directory: ".*\/state\/scan\.lock": permission denied \(EACCES\)/)
  t.match(locked.stderr, /hint: check the permissions/)
  t.notMatch(locked.stderr, /damaged|rebuild|processinfo/)

  // Lock files anyone may take, the index still root's own (0700): the refusal names the index.
  chmodSync(`${S}/scan.lock`, 0o666)
  chmodSync(`${S}/delta.lock`, 0o666)
  for (const cmd of [`bt-scan.js --state "${S}" "${dir}/src" > /dev/null`, `bt-scan.js "${dir}/src" | bt-delta.js --state "${S}" > /dev/null`]) {
    const r = asNobody(cmd)
    t.equal(r.code, 1, r.stderr)
    t.match(r.stderr, /error: cannot read the state file ".*\/state\/gen-[0-9a-f]{32}-[0-9a-f]{8}\/full\.json": permission denied \(EACCES\)/)
    t.match(r.stderr, /hint: a permission problem, not damage: run as the user who owns ".*\/state", or give this user access to it/)
    t.notMatch(r.stderr, /damaged|rebuild|processinfo/)
  }
})
