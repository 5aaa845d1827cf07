// Shared test plumbing: run the built bins, feed streams in odd-sized slices.
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const BIN = `${ROOT}bin`

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: Buffer
  stderr: string
}

/** Runs bin/<tool>.js with `args`, feeding `input` on stdin. */
export function runBin(tool: string, args: string[], input?: Buffer | string, env: NodeJS.ProcessEnv = {}, o: { cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${BIN}/${tool}.js`, ...args], {
      env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'], cwd: o.cwd,
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.on('error', reject)
    child.stdin.on('error', () => undefined) // the tool may exit before reading all of it; its exit code tells
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }))
    child.stdin.end(input)
  })
}

/** Runs a shell command line (POSIX sh) with bin/ on PATH. */
export function sh(cmd: string, env: NodeJS.ProcessEnv = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', cmd], {
    env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, ...env }, encoding: 'utf8', maxBuffer: 1 << 28,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

export const SLICES = [0, 1, 2, 3, 7, 15, 100, 10000, 200000]

/** Splits `buf` into pieces of `n` bytes (n = 0: the whole buffer at once). */
export async function* chunked(buf: Buffer, n: number): AsyncGenerator<Buffer> {
  if (n === 0) {
    yield buf
    return
  }
  for (let i = 0; i < buf.length; i += n) yield buf.subarray(i, i + n)
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0
}

/** A seeded PRNG (xorshift32) giving floats in [0, 1): fuzz loops that replay exactly. */
export function xorshift(seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x100000000
  }
}

/**
 * Spawns bt-restore with BT_TEST_PAUSE_COMMIT=after, waits until it says it
 * paused inside its commit phase, and kills it with SIGKILL there.
 */
export function killInCommit(args: string[], input: Buffer, after: number): Promise<{ paused: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`${BIN}/bt-restore.js`, ...args], {
      env: { ...process.env, BT_TEST_PAUSE_COMMIT: String(after) }, stdio: ['pipe', 'ignore', 'pipe'],
    })
    let err = ''
    let paused = false
    child.stderr.on('data', (b: Buffer) => {
      err += b.toString()
      if (!paused && /paused in the commit phase/.test(err)) {
        paused = true
        child.kill('SIGKILL')
      }
    })
    child.on('error', reject)
    child.stdin.on('error', () => undefined) // killed before reading it all: the exit tells
    child.on('close', () => resolve({ paused, stderr: err }))
    child.stdin.end(input)
  })
}
