// Compression of the sealed payload, as async-generator transforms with
// bounded output: zstd level 1 (zstd-napi, the default), gzip level 1
// (node:zlib) or none. Both are what a stock `zstd -d` / `gzip -d` reads.
import { createGunzip, createGzip } from 'node:zlib'
import { Readable, type Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import zstd from 'zstd-napi/binding.js'
import { SealPayloadError } from '../errors.js'
import { type Compression } from './header.js'

export type Transformer = (source: AsyncIterable<Buffer>) => AsyncGenerator<Buffer>

const OUT = 1 << 17
/** Deflate expands at most 1032-fold, so a 4 KiB slice yields at most about 4 MiB at once. */
const GZIP_SLICE = 1 << 12

function* slices(b: Buffer, n: number): Generator<Buffer> {
  for (let i = 0; i < b.length; i += n) yield b.subarray(i, i + n)
}

async function* zstdCompress(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const cctx = new zstd.CCtx()
  cctx.setParameter(zstd.CParameter.compressionLevel, 1)
  // One worker thread compresses while the main thread verifies, encrypts and hashes; output stays deterministic.
  cctx.setParameter(zstd.CParameter.nbWorkers, 1)
  // zstd's smallest job (512 KiB) instead of its default for level 1: the worker's
  // job buffers are what made bt-seal's peak RSS (96 -> 77 MiB on 300 MB of
  // small files), for 0.1% more output and the same frames any zstd -d reads.
  cctx.setParameter(zstd.CParameter.jobSize, 512 << 10)
  // One output buffer, reused; what it produced is copied out at its own size, so
  // no 128 KiB buffer stays alive for a few bytes (peak RSS).
  const dst = Buffer.allocUnsafe(OUT)
  const run = function* (input: Buffer, op: number): Generator<Buffer> {
    for (;;) {
      const [ret, produced, consumed] = cctx.compressStream2(dst, input, op)
      if (produced > 0) yield Buffer.from(dst.subarray(0, produced))
      input = input.subarray(consumed)
      if (input.length === 0 && (op === zstd.EndDirective.continue || ret === 0)) return
    }
  }
  for await (const chunk of source) yield* run(chunk, zstd.EndDirective.continue)
  yield* run(Buffer.alloc(0), zstd.EndDirective.end)
}

async function* zstdDecompress(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const dctx = new zstd.DCtx()
  let inFrame = false
  let seen = false
  const dst = Buffer.allocUnsafe(OUT)
  for await (let chunk of source) {
    seen ||= chunk.length > 0
    for (;;) {
      let r: [number, number, number]
      try {
        r = dctx.decompressStream(dst, chunk)
      } catch (err) {
        throw new SealPayloadError(`it does not decompress as zstd (${(err as Error).message})`)
      }
      const [ret, produced, consumed] = r
      if (produced > 0) yield Buffer.from(dst.subarray(0, produced))
      chunk = chunk.subarray(consumed)
      inFrame = ret !== 0
      if (chunk.length === 0 && produced < dst.length) break
    }
  }
  if (inFrame || !seen) throw new SealPayloadError('it ends inside a zstd frame')
}

/** Runs a zlib transform over `source` with backpressure; pipeline destroys `z` on any error, so it surfaces here. */
async function* throughZlib(source: AsyncIterable<Buffer>, z: Transform): AsyncGenerator<Buffer> {
  const feeding = pipeline(Readable.from(source), z)
  feeding.catch(() => undefined) // the same error ends the iteration of z below, and is rethrown there
  try {
    yield* z
  } finally {
    z.destroy()
  }
  await feeding
}

async function* gzipCompress(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield* throughZlib(source, createGzip({ level: 1 }))
}

async function* gzipDecompress(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const sliced = async function* () {
    for await (const c of source) yield* slices(c, GZIP_SLICE)
  }
  try {
    yield* throughZlib(sliced(), createGunzip())
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code?.startsWith('Z_')) {
      throw new SealPayloadError(`it does not decompress as gzip (${(err as Error).message})`)
    }
    throw err
  }
}

async function* identity(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  yield* source
}

export function compressor(c: Compression): Transformer {
  return c === 'zstd' ? zstdCompress : c === 'gzip' ? gzipCompress : identity
}

export function decompressor(c: Compression): Transformer {
  return c === 'zstd' ? zstdDecompress : c === 'gzip' ? gzipDecompress : identity
}
