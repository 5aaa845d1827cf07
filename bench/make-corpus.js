#!/usr/bin/env node
// Builds and changes the server-like corpus of bench/peers.sh.
//   node bench/make-corpus.js day1 DIR [SEED]   build DIR (must not exist)
//   node bench/make-corpus.js day2 DIR [SEED]   change DIR in place, as a day on a server would
// Knobs (environment): SYS_TREES (system directories copied in, space-separated;
// default "/usr/share/doc /usr/share/perl5 /usr/lib/python3 /etc"), LOG_MB (20),
// DATA_FILES (40 files of 256 KiB to 4 MiB), DB_MB (64: a file of 8 KiB pages).
// Day 2 appends 1 MiB to the log, rewrites 1% of the database's pages, edits
// 2% of the copied text files, deletes 1% of the copied files, moves a quarter
// of the data files to another directory and adds 5 new ones. Bytes of the
// data files come from an AES-256-CTR keystream and every choice from a PRNG
// seeded by SEED, so the same arguments give the same corpus (the copied
// system trees are whatever this machine has).
import { createCipheriv, createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync,
  writeFileSync, writeSync, lstatSync } from 'node:fs'
import { join } from 'node:path'

const [mode, dir, seed = '1'] = process.argv.slice(2)
if ((mode !== 'day1' && mode !== 'day2') || !dir) {
  process.stderr.write('usage: node bench/make-corpus.js day1|day2 DIR [SEED]\n')
  process.exit(2)
}
const env = (k, d) => process.env[k] ?? d
const SYS_TREES = env('SYS_TREES', '/usr/share/doc /usr/share/perl5 /usr/lib/python3 /etc').split(/\s+/).filter(Boolean)
const LOG_MB = Number(env('LOG_MB', '20'))
const DATA_FILES = Number(env('DATA_FILES', '40'))
const DB_MB = Number(env('DB_MB', '64'))

const key = createHash('sha256').update(`backtory-corpus-${seed}-${mode}`).digest()
const stream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16))
const bytes = (n) => stream.update(Buffer.alloc(n))
let state = key.readUInt32BE(0)
const rand = () => { // mulberry32
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = (n) => Math.floor(rand() * n)

function logLines(mb, from) {
  const lines = []
  let size = 0
  for (let i = from; size < mb << 20; i++) {
    const l = `2026-12-07T${String(i % 24).padStart(2, '0')}:00:${String(i % 60).padStart(2, '0')}Z app[${1000 + (i % 97)}]: request ${i} path=/api/v1/items/${pick(100000)} status=${[200, 200, 200, 304, 404, 500][pick(6)]} ms=${pick(900)}\n`
    lines.push(l)
    size += l.length
  }
  return lines.join('')
}

/** Regular files under d, sorted, as paths relative to root. */
function files(root, d = '') {
  const out = []
  for (const n of readdirSync(join(root, d)).sort()) {
    const p = d ? `${d}/${n}` : n
    const st = lstatSync(join(root, p))
    if (st.isDirectory()) out.push(...files(root, p))
    else if (st.isFile()) out.push(p)
  }
  return out
}

if (mode === 'day1') {
  if (existsSync(dir)) {
    process.stderr.write(`make-corpus: error: ${JSON.stringify(dir)} exists already\n`)
    process.exit(1)
  }
  const tmp = `${dir}.tmp-${process.pid}`
  mkdirSync(`${tmp}/sys`, { recursive: true })
  for (const t of SYS_TREES) {
    if (!existsSync(t)) continue
    const into = join(tmp, 'sys', t.replace(/^\/+/, '').replace(/\//g, '_'))
    // Unreadable or special files of a live /etc are skipped: the corpus is a copy, not the system.
    try { execFileSync('cp', ['-a', t, into], { stdio: ['ignore', 'ignore', 'ignore'] }) } catch { /* partial copies are fine */ }
  }
  mkdirSync(`${tmp}/log`)
  writeFileSync(`${tmp}/log/app.log`, logLines(LOG_MB, 0))
  mkdirSync(`${tmp}/data/in`, { recursive: true })
  for (let i = 0; i < DATA_FILES; i++) writeFileSync(`${tmp}/data/in/blob-${String(i).padStart(3, '0')}.bin`, bytes((256 << 10) + pick(4 << 20)))
  mkdirSync(`${tmp}/db`)
  const fd = openSync(`${tmp}/db/pages.db`, 'w')
  for (let i = 0; i < DB_MB; i++) writeSync(fd, bytes(1 << 20))
  closeSync(fd)
  renameSync(tmp, dir)
} else {
  appendFileSync(`${dir}/log/app.log`, logLines(1, 1e7))
  const fd = openSync(`${dir}/db/pages.db`, 'r+')
  const pages = (DB_MB << 20) / 8192
  for (let i = 0; i < pages / 100; i++) writeSync(fd, bytes(8192), 0, 8192, pick(pages) * 8192)
  closeSync(fd)
  const sys = files(`${dir}/sys`)
  for (const p of sys) {
    const r = rand()
    const path = `${dir}/sys/${p}`
    if (r < 0.01) rmSync(path)
    else if (r < 0.03 && lstatSync(path).size < (1 << 20) && !readFileSync(path).includes(0)) appendFileSync(path, `# edited on day 2 (${pick(1e6)})\n`)
  }
  mkdirSync(`${dir}/data/archive`, { recursive: true })
  const data = readdirSync(`${dir}/data/in`).sort()
  for (let i = 0; i < data.length; i += 4) renameSync(`${dir}/data/in/${data[i]}`, `${dir}/data/archive/${data[i]}`)
  for (let i = 0; i < 5; i++) writeFileSync(`${dir}/data/in/new-${i}.bin`, bytes((256 << 10) + pick(4 << 20)))
}
