// Throughput and delta size of the pure delta engine (src/delta) on one core.
//
//   npx tsc -p . && node bench/delta-engine.js
//
// For each block size: signature size and build speed over a 1 GiB random base,
// the delta of a fully changed file, of an identical file, and of the base with
// 1% of its 8 KiB pages rewritten (delta bytes against the bytes really changed).
// The data lives in memory (the base) and is fed in 1 MiB chunks, as bt-delta
// would read it. Knobs: BENCH_SIZE_MB (1024), BENCH_BLOCKS (1,2,4,8,16,32,64 KiB),
// BENCH_CHUNK_KB (1024), BENCH_JSON=1 for machine-readable output.
import { randomFillSync } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { SignatureBuilder, blockSizeFor } from '../dist/src/delta/signature.js'
import { DeltaEncoder } from '../dist/src/delta/match.js'

const MiB = 1 << 20
const SIZE = Number(process.env.BENCH_SIZE_MB ?? 1024) * MiB
const BLOCKS = (process.env.BENCH_BLOCKS ?? '1,2,4,8,16,32,64').split(',').map((k) => Number(k) * 1024)
const CHUNK = Number(process.env.BENCH_CHUNK_KB ?? 1024) * 1024
const PAGE = 8192

function busy() {
  try {
    return execFileSync('pgrep', ['-fa', 'scan-restore|seal-open'], { encoding: 'utf8' }).trim()
  } catch {
    return '' // pgrep exits 1 when nothing matches
  }
}

function rss() {
  return process.resourceUsage().maxRSS * 1024
}

function fill(buf) {
  for (let off = 0; off < buf.length; off += 64 * MiB) randomFillSync(buf, off, Math.min(64 * MiB, buf.length - off))
  return buf
}

const base = fill(Buffer.allocUnsafe(SIZE))
// Fully changed: a pool of fresh random bytes, fed over and over. Matching is
// against the base only, so repeats inside the new file change nothing.
const pool = fill(Buffer.allocUnsafe(64 * MiB))
// 1% of the 8 KiB pages, page-aligned, as a database rewrites them.
const pages = SIZE / PAGE
const changed = new Map()
{
  let s = 0x2545f491
  while (changed.size < Math.round(pages / 100)) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0
    const p = s % pages
    if (!changed.has(p)) changed.set(p, fill(Buffer.allocUnsafe(PAGE)))
  }
}
const scratch = Buffer.allocUnsafe(CHUNK)
const baseline = rss()

function* identical() {
  for (let off = 0; off < SIZE; off += CHUNK) yield base.subarray(off, Math.min(SIZE, off + CHUNK))
}
function* different() {
  for (let off = 0; off < SIZE; off += CHUNK) {
    const n = Math.min(CHUNK, SIZE - off)
    const at = off % pool.length
    yield pool.subarray(at, at + n)
  }
}
function* rewritten() {
  for (let off = 0; off < SIZE; off += CHUNK) {
    const n = Math.min(CHUNK, SIZE - off)
    base.copy(scratch, 0, off, off + n)
    for (let p = off / PAGE; p < (off + n) / PAGE; p++) changed.get(p)?.copy(scratch, p * PAGE - off)
    yield scratch.subarray(0, n)
  }
}

function mbps(bytes, ms) {
  return bytes / MiB / (ms / 1000)
}

// The engine is one thread, so the CPU time it used is its time on one core.
// On a shared machine that is steadier than the wall clock, which also counts
// the time another process held the core; both are kept.
function clock() {
  const t = performance.now()
  const c = process.cpuUsage()
  return () => {
    const u = process.cpuUsage(c)
    return { wall: performance.now() - t, ms: (u.user + u.system) / 1000 }
  }
}

function signature(B) {
  const stop = clock()
  const sb = new SignatureBuilder(B)
  for (const c of identical()) sb.update(c)
  const sig = sb.finish()
  return { sig, ...stop() }
}

function delta(sig, source) {
  const stop = clock()
  const enc = new DeltaEncoder(sig)
  let bytes = 0
  for (const c of source()) for (const b of enc.update(c)) bytes += b.length
  for (const b of enc.finish()) bytes += b.length
  return { bytes, ...stop(), stats: enc.stats }
}

const other = busy()
const rows = []
for (const B of BLOCKS) {
  const { sig, ms: sigMs, wall: sigWall } = signature(B)
  const sigBytes = 24 + sig.weak.length * 20
  const diff = delta(sig, different)
  const same = delta(sig, identical)
  const pg = delta(sig, rewritten)
  rows.push({
    block: B, sigBytes, sigMBs: mbps(SIZE, sigMs), changedMBs: mbps(SIZE, diff.ms), changedDelta: diff.bytes,
    identicalMBs: mbps(SIZE, same.ms), identicalDelta: same.bytes, pagesMBs: mbps(SIZE, pg.ms), pagesDelta: pg.bytes,
    wallMBs: { sig: mbps(SIZE, sigWall), changed: mbps(SIZE, diff.wall), identical: mbps(SIZE, same.wall), pages: mbps(SIZE, pg.wall) },
    pagesCopyOps: pg.stats.copyOps, pagesLiteralOps: pg.stats.literalOps,
    // Strong checksums on the fully changed file are all weak-checksum false alarms.
    changedBytesPerAlarm: diff.stats.strongChecks ? SIZE / diff.stats.strongChecks : Infinity,
  })
  if (!process.env.BENCH_JSON) process.stderr.write(`block ${B} done\n`)
}
const changedBytes = changed.size * PAGE
const peak = rss()
if (process.env.BENCH_JSON) {
  console.log(JSON.stringify({ size: SIZE, chunk: CHUNK, changedBytes, baseline, peak, other, rows }))
} else {
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`
  console.log(`delta engine, ${SIZE / MiB} MiB files, ${CHUNK / 1024} KiB chunks, node ${process.version}, one core`)
  console.log('MB/s = MiB of input per CPU second of this one thread (wall-clock figures: BENCH_JSON=1)')
  console.log(`blockSizeFor(${SIZE}) = ${blockSizeFor(SIZE)}`)
  console.log(`1% pages: ${changed.size} pages of 8 KiB rewritten = ${changedBytes} bytes really changed`)
  if (other) console.log(`NOTE: another benchmark was running: ${other}`)
  console.log('')
  console.log('| block | signature | sig MB/s | changed MB/s | bytes per false alarm | identical MB/s | identical delta | 1% pages delta | delta/changed | 1% pages MB/s |')
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    console.log(`| ${kib(r.block)} | ${kib(r.sigBytes)} | ${r.sigMBs.toFixed(0)} | ${r.changedMBs.toFixed(0)} | ${r.changedBytesPerAlarm.toFixed(0)} | ${r.identicalMBs.toFixed(0)} | ${r.identicalDelta} B | ${kib(r.pagesDelta)} | ${(r.pagesDelta / changedBytes).toFixed(3)} | ${r.pagesMBs.toFixed(0)} |`)
  }
  console.log('')
  console.log('wall clock, MB/s: ' + rows.map((r) => `${kib(r.block)} sig ${r.wallMBs.sig.toFixed(0)} changed ${r.wallMBs.changed.toFixed(0)} identical ${r.wallMBs.identical.toFixed(0)} pages ${r.wallMBs.pages.toFixed(0)}`).join('; '))
  console.log(`peak RSS ${(peak / MiB).toFixed(0)} MiB, of which the benchmark's own data (${SIZE / MiB} MiB base, 64 MiB pool, pages) ${(baseline / MiB).toFixed(0)} MiB: engine and signatures ${((peak - baseline) / MiB).toFixed(0)} MiB`)
}
