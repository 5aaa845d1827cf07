// The wrapper does nothing a filter cannot: every flow is a pipeline of the
// same bt-* processes an admin would type, run here with pipefail semantics,
// and printed by --dry-run as the exact sh line that does the same.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type Readable, type Writable } from 'node:stream'
import { EXIT } from '../errors.js'

/** One process of a pipeline: a bt-* tool (or any program on PATH) and its arguments. */
export interface Stage {
  tool: string
  args: string[]
}

export interface StageResult {
  tool: string
  code: number
}

export interface PipelineResult {
  /** The pipeline's status: the first stage that failed for a reason of its own (see blame()). */
  code: number
  /** The stage that status came from, when one failed. */
  failed?: string
  stages: StageResult[]
  /** The last stage's standard output, when `capture` was asked. */
  stdout: string
}

export interface RunOptions {
  env: NodeJS.ProcessEnv
  /** Where the stages' messages go (our stderr, or a buffer for quiet cron runs). */
  stderr: Writable
  /** The first stage's input; /dev/null when absent. */
  stdin?: Readable
  /**
   * The last stage's output; captured into the result when absent. 'inherit'
   * gives it our own standard output, 'ignore' /dev/null (a check whose bytes
   * nobody reads): either way the bytes never pass through this process.
   */
  stdout?: Writable | 'inherit' | 'ignore'
  signal: AbortSignal
}

const BIN_DIR = fileURLToPath(new URL('../../../bin/', import.meta.url))

/**
 * The Node flags a launcher's #! line gives its tool, which spawning Node
 * directly would lose: bt-restore's many short-lived objects per entry grow V8's
 * young generation past the memory goal on large trees (104 MiB at 100k files;
 * 81 MiB with 4 MiB semi-spaces, for about 2% more time); bt-ls's the same
 * way (112 MiB at 100k entries, 93 MiB with them).
 */
const NODE_FLAGS: Record<string, string[]> = { 'bt-restore': ['--max-semi-space-size=4'], 'bt-ls': ['--max-semi-space-size=4'] }

/** The program and argv that run `stage`: our own tools by their launcher, with this very Node. */
export function command(stage: Stage): { file: string; argv: string[] } {
  if (/^(bt-[a-z]+|backtory)$/.test(stage.tool)) {
    return { file: process.execPath, argv: [...(NODE_FLAGS[stage.tool] ?? []), `${BIN_DIR}${stage.tool}.js`, ...stage.args] }
  }
  return { file: stage.tool, argv: stage.args }
}

/** Quotes a word for sh, only when it needs it. */
export function shQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word
  return `'${word.replace(/'/g, `'\\''`)}'`
}

/** The sh line that runs the pipeline by hand, with the tools taken from PATH. */
export function render(stages: Stage[], env: Record<string, string> = {}): string {
  const prefix = Object.entries(env).map(([k, v]) => `${k}=${shQuote(v)} `).join('')
  return prefix + stages.map((s) => [s.tool, ...s.args].map(shQuote).join(' ')).join(' | ')
}

/**
 * Which stage's status stands for the pipeline. A stage that fails makes its
 * neighbours fail too: the next one sees a truncated stream (4), the one
 * before it a closed pipe (141, SIGPIPE). So the first stage that failed, not
 * counting those that only lost their reader, is the cause.
 */
export function blame(results: StageResult[]): StageResult | undefined {
  const failed = results.filter((r) => r.code !== EXIT.OK)
  return failed.find((r) => r.code !== EXIT.EPIPE) ?? failed[0]
}

export async function runPipeline(stages: Stage[], o: RunOptions): Promise<PipelineResult> {
  const children: ChildProcess[] = []
  let out = ''
  const waits: Promise<StageResult>[] = []
  for (const [i, stage] of stages.entries()) {
    const { file, argv } = command(stage)
    const first = i === 0
    const last = i === stages.length - 1
    const child = spawn(file, argv, {
      env: o.env,
      stdio: [first ? (o.stdin ? 'pipe' : 'ignore') : children[i - 1]!.stdout!, last && typeof o.stdout === 'string' ? o.stdout : 'pipe', 'pipe'],
    })
    children.push(child)
    if (first && o.stdin) o.stdin.pipe(child.stdin!)
    child.stderr!.on('data', (b: Buffer) => o.stderr.write(b))
    if (last) {
      if (o.stdout === undefined) child.stdout!.on('data', (b: Buffer) => { out += b.toString() })
      else if (typeof o.stdout !== 'string') child.stdout!.pipe(o.stdout, { end: false })
    }
    waits.push(new Promise((resolve) => {
      child.on('error', () => resolve({ tool: stage.tool, code: 127 }))
      child.on('close', (code, sig) => resolve({ tool: stage.tool, code: code ?? 128 + signalNumber(sig) }))
    }))
  }
  // Our own parent's pipe ends are not needed once the next stage holds them.
  for (const c of children.slice(0, -1)) c.stdout!.destroy()
  const onAbort = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
  }
  o.signal.addEventListener('abort', onAbort, { once: true })
  try {
    const results = await Promise.all(waits)
    const bad = blame(results)
    return { code: bad?.code ?? EXIT.OK, failed: bad?.tool, stages: results, stdout: out }
  } finally {
    o.signal.removeEventListener('abort', onAbort)
  }
}

function signalNumber(sig: NodeJS.Signals | null): number {
  const table: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGPIPE: 13, SIGTERM: 15 }
  return (sig && table[sig]) ?? 1
}
