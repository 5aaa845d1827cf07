// A first full piped as the man pages show it, `bt-delta --full --state S |
// bt-seal | bt-put --state S URL`, could be refused by bt-put for a missing
// state directory: bt-put looked for S when it started, and the bt-delta
// beside it, started at the same moment, makes S only when it runs. Which one
// won was up to the machine's scheduler. bt-put now looks for S when the
// archive's header arrives, before it stores a byte: by then the bt-delta that
// wrote the stream has made it, and a mistyped path is still refused with
// nothing stored.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { BIN, ROOT, sh } from '../helpers.js'

const K = `${ROOT}test/fixtures/keys`
const SEAL = `bt-seal.js --compress none --set www --to ${K}/admin.pub --sign ${K}/host.key`

t.test('bt-put --state waits for the header to look for the state directory', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n', b: 'beta\n' } })
  const S = `${dir}/state`
  // The sealed first full, as bt-delta --full would send it, made beforehand with its own state.
  const made = sh(`bt-scan.js "${dir}/src" | bt-delta.js --full --state "${dir}/made" | ${SEAL} > "${dir}/full.sealed"`)
  t.equal(made.code, 0, made.stderr)

  // bt-put starts with S missing and its input still empty, like a bt-put whose bt-delta has not run yet.
  const put = spawn(process.execPath, [`${BIN}/bt-put.js`, '--state', S, `${dir}/store`], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  let stdout = ''
  put.stderr.on('data', (c: Buffer) => (stderr += c))
  put.stdout.on('data', (c: Buffer) => (stdout += c))
  const exited = new Promise<number | null>((resolve) => put.on('close', (code) => resolve(code)))
  let gone: number | null | undefined
  void exited.then((c) => (gone = c))
  // It has started and opened the store (file:// makes the directory) and now waits for its input.
  for (let i = 0; i < 600 && gone === undefined && !existsSync(`${dir}/store`); i++) await sleep(100)
  t.equal(gone, undefined, `bt-put waits for its input instead of refusing at start: ${stderr}`)
  if (gone !== undefined) return

  mkdirSync(S) // what bt-delta --full does before its first output byte
  put.stdin.end(readFileSync(`${dir}/full.sealed`))
  t.equal(await exited, 0, stderr)
  t.match(stdout, /_full_/, 'the full is stored')
  // The state was made by another bt-delta: this S awaits no full, which bt-put says, changing nothing.
  t.match(stderr, /awaits no full: the state is unchanged/)
})

t.test('a mistyped --state is still refused before a byte is stored', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' }, store: {} })
  const r = sh(`bt-scan.js "${dir}/src" | bt-delta.js --full --state "${dir}/real" | ${SEAL} | bt-put.js --state "${dir}/statte" "${dir}/store"`)
  t.equal(r.code, 2, 'exit 2')
  t.match(r.stderr, /no state directory ".*\/statte"/)
  t.same(readdirSync(`${dir}/store`), [], 'nothing stored, not even a temporary')
  t.notOk(existsSync(`${dir}/statte`))
})
