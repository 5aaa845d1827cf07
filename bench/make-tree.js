#!/usr/bin/env node
// Builds a synthetic tree of small files for bench/scan-restore.sh.
//   node bench/make-tree.js DIR COUNT [SEED]
// COUNT regular files of 0..16 KiB (uniform), spread over 1000 directories
// (d0..d9/d00..d99). Content is sliced from a fixed AES-256-CTR keystream, so
// the same arguments give the same tree and the data does not compress.
// The tree is built as DIR.tmp-<pid> and renamed to DIR when complete, so a
// tree that exists was built whole.
import { createCipheriv, createHash } from 'node:crypto'
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs'

const [dir, countArg, seedArg = '1'] = process.argv.slice(2)
if (!dir || !/^[0-9]+$/.test(countArg ?? '')) {
  process.stderr.write('usage: node bench/make-tree.js DIR COUNT [SEED]\n')
  process.exit(2)
}
if (existsSync(dir)) {
  process.stderr.write(`make-tree: error: ${JSON.stringify(dir)} exists already\n`)
  process.exit(1)
}
const count = Number(countArg)
const MAX_SIZE = 16 * 1024
const POOL = 64 << 20

const key = createHash('sha256').update(`backtory-bench-${seedArg}`).digest()
const pool = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(POOL))

// mulberry32: a small seeded PRNG for sizes and offsets.
let state = key.readUInt32BE(0)
const rand = () => {
  state = (state + 0x6d2b79f5) >>> 0
  let t = state
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const tmp = `${dir}.tmp-${process.pid}`
for (let top = 0; top < 10; top++) {
  for (let sub = 0; sub < 100; sub++) mkdirSync(`${tmp}/d${top}/d${String(sub).padStart(2, '0')}`, { recursive: true })
}
let bytes = 0
for (let i = 0; i < count; i++) {
  const d = i % 1000
  const size = Math.floor(rand() * (MAX_SIZE + 1))
  const off = Math.floor(rand() * (POOL - size))
  const path = `${tmp}/d${Math.floor(d / 100)}/d${String(d % 100).padStart(2, '0')}/f${String(i).padStart(7, '0')}`
  writeFileSync(path, pool.subarray(off, off + size))
  bytes += size
}
renameSync(tmp, dir)
process.stdout.write(`${bytes}\n`)
