// Review of issue 10's restore engine, from outside: what a rerun after a
// kill in the commit phase finishes must be what the rerun asks for.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { BIN, killInCommit, runBin } from '../helpers.js'
import { INFO, makeStream } from '../stream.js'

const full = () => makeStream([
  { meta: { path: '.', type: 'directory' } },
  { meta: { path: 'a', type: 'directory' } },
  { meta: { path: 'a/one', type: 'file' }, data: 'one\n' },
  { meta: { path: 'a/three', type: 'file' }, data: 'three\n' },
  { meta: { path: 'b', type: 'directory' } },
  { meta: { path: 'b/two', type: 'file' }, data: 'two\n' },
])

t.test('a restore of PATTERN killed in its commit phase, rerun for the whole full: the whole full is restored', async (t) => {
  const dir = t.testdir({})
  t.ok((await killInCommit([`${dir}/r`, 'a/**'], full(), 1)).paused, 'killed in the commit of a/**')
  const r = await runBin('bt-restore', [`${dir}/r`], full())
  t.equal(r.code, 0, r.stderr)
  t.ok(existsSync(`${dir}/r/b/two`), 'b/two, which the killed run did not select, is restored')
  t.equal(readFileSync(`${dir}/r/a/one`, 'utf8'), 'one\n')
  t.same(JSON.parse(readFileSync(`${dir}/r/.backtory-restore.json`, 'utf8')), { full: INFO.id, diff: null }, 'the marker: the target holds the full')
  t.same(readdirSync(`${dir}/r`).filter((n) => n.startsWith('.bt-')), [], 'no stage left')
})

t.test('a full killed in its commit phase whose stage is gone is restored again by a rerun, with the stale stages of dead runs', async (t) => {
  const dir = t.testdir({})
  t.ok((await killInCommit([`${dir}/r`], full(), 1)).paused, 'killed in the commit of the full')
  const marker = JSON.parse(readFileSync(`${dir}/r/.backtory-restore.json`, 'utf8'))
  rmSync(`${dir}/r/${marker.pending.stage}`, { recursive: true })
  mkdirSync(`${dir}/r/.bt-stage-999999999`) // a dead run's stage, as a kill in the plan phase leaves it
  const r = await runBin('bt-restore', [`${dir}/r`], full())
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(`${dir}/r/b/two`, 'utf8'), 'two\n')
  t.same(JSON.parse(readFileSync(`${dir}/r/.backtory-restore.json`, 'utf8')), { full: INFO.id, diff: null })
  t.same(readdirSync(`${dir}/r`).filter((n) => n.startsWith('.bt-')), [], 'no stage left')
})

t.test('a rerun that finishes a killed commit also removes the stages dead runs left', async (t) => {
  const dir = t.testdir({})
  t.ok((await killInCommit([`${dir}/r`], full(), 1)).paused, 'killed in the commit of the full')
  mkdirSync(`${dir}/r/.bt-stage-999999999`)
  const r = await runBin('bt-restore', [`${dir}/r`], full())
  t.equal(r.code, 0, r.stderr)
  t.same(readdirSync(`${dir}/r`).filter((n) => n.startsWith('.bt-')), [], 'no stage left')
})

/** Starts bt-restore -v and stops it (SIGSTOP) once it has put its first path in place. */
function stopInCommit(args: string[], input: Buffer): Promise<{ child: ReturnType<typeof spawn>; done: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${BIN}/bt-restore.js`, '-v', ...args], { stdio: ['pipe', 'ignore', 'pipe'] })
    const done = new Promise<number | null>((r) => child.on('close', (code) => r(code)))
    let err = ''
    let stopped = false
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString()
      if (!stopped && /^many\//m.test(err)) {
        stopped = true
        child.kill('SIGSTOP')
        resolve({ child, done })
      }
    })
    child.on('error', reject)
    child.stdin!.on('error', () => undefined)
    child.stdin!.end(input)
  })
}

t.test('a second bt-restore into a target that a live one is restoring is refused, and removes nothing of it', async (t) => {
  const dir = t.testdir({})
  const many = makeStream([
    { meta: { path: '.', type: 'directory' } },
    { meta: { path: 'many', type: 'directory' } },
    ...Array.from({ length: 400 }, (_, i) => ({ meta: { path: `many/f${i}`, type: 'file' as const }, data: `${i}\n` })),
  ])
  const other = makeStream([
    { meta: { path: '.', type: 'directory' } },
    { meta: { path: 'other', type: 'file' }, data: 'other\n' },
  ], { ...INFO, id: 'e'.repeat(32) })
  const a = await stopInCommit([`${dir}/r`], many)
  let b
  try {
    b = await runBin('bt-restore', [`${dir}/r`], other)
  } finally {
    a.child.kill('SIGCONT')
  }
  const codeA = await a.done
  t.equal(b.code, 1, `the second restore is refused: ${b.stderr}`)
  t.match(b.stderr, /bt-restore.*is restoring into/)
  t.equal(codeA, 0, 'the first one finishes')
  t.equal(readdirSync(`${dir}/r/many`).length, 400, 'every file of the first restore is in place')
  t.notOk(existsSync(`${dir}/r/other`), 'nothing of the refused one')
  t.same(JSON.parse(readFileSync(`${dir}/r/.backtory-restore.json`, 'utf8')), { full: INFO.id, diff: null })
})
