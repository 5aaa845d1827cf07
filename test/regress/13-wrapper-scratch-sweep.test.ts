// `backtory verify --restore-test` restores a whole backup into a directory
// under TMPDIR and removes it when it ends; killed with -9 it cannot, and the
// next runs left every such tree behind, filling /tmp night after night. The
// scratch directories now carry their process id, and each run removes those
// of processes that are gone (and only those).
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { BIN } from '../helpers.js'
import { backtory, sandbox, writeSet } from '../wrapper/setup.js'

t.setTimeout(600_000)

t.test('a verify killed during its trial restore leaves a tree that the next run removes', async (t) => {
  const s = sandbox(t.testdir({}))
  const src = `${s.T}/src`
  mkdirSync(src)
  const big = Buffer.alloc(48 << 20)
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE((i * 2654435761) >>> 0, i)
  writeFileSync(`${src}/big`, big)
  writeFileSync(`${src}/small`, 'small\n')
  writeSet(s, 'www', [`source = ${src}`, `store = file://${s.T}/store/`])
  const b = await backtory(s, ['backup', 'www'])
  t.equal(b.code, 0, b.stderr.toString())

  const tmp = `${s.T}/tmp`
  mkdirSync(tmp)
  s.env.TMPDIR = tmp
  // A live process's scratch directory is never touched: this test's own pid stands for one.
  const live = `${tmp}/backtory-verify.${process.pid}.AbCdEf`
  mkdirSync(live)
  const args = ['verify', 'www', '--restore-test', '--key', s.keys.admin]
  const run = spawn(process.execPath, [`${BIN}/backtory.js`, ...args], { env: { ...process.env, ...s.env }, stdio: 'ignore', detached: true })
  const ended = new Promise((resolve) => run.on('close', resolve))
  let left: string[] = []
  for (let i = 0; i < 3000 && left.length === 0; i++) {
    left = readdirSync(tmp).filter((n) => n.startsWith('backtory-verify.') && `${tmp}/${n}` !== live)
    if (left.length === 0) await sleep(10)
  }
  t.equal(left.length, 1, 'the trial restore made its directory')
  process.kill(-run.pid!, 'SIGKILL') // the wrapper and the pipeline it runs
  await ended
  await sleep(200)
  t.ok(readdirSync(tmp).includes(left[0]!), 'a run killed with -9 leaves it behind')

  const again = await backtory(s, args)
  t.equal(again.code, 0, again.stderr.toString())
  t.same(readdirSync(tmp).sort(), [live.slice(tmp.length + 1)], 'the next run removed the dead run\'s tree and its own, and kept the live one')
})
