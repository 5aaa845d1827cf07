// Shared plumbing of the wrapper tests: a sandbox with BT_CONFIG_DIR and
// BT_DATA_DIR of its own, keys, a set's config, and the built backtory.
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { BIN, runBin, sh, type RunResult } from '../helpers.js'

export interface Sandbox {
  T: string
  env: NodeJS.ProcessEnv
  /** A directory of the tools under their installed names (bt-put, backtory), for sh. */
  bin: string
  cfg: string
  data: string
  keys: { admin: string; adminPub: string; host: string; hostPub: string }
}

export function sandbox(T: string): Sandbox {
  const cfg = `${T}/etc`
  const data = `${T}/var`
  const bin = `${T}/bin`
  for (const d of [cfg, data, bin, `${T}/keys`]) mkdirSync(d, { recursive: true })
  for (const f of readdirSync(BIN)) symlinkSync(`${BIN}/${f}`, `${bin}/${f.replace(/\.js$/, '')}`)
  const env = { BT_CONFIG_DIR: cfg, BT_DATA_DIR: data, BT_STATE: '' }
  const k = (n: string) => `${T}/keys/${n}`
  const r = sh(`bt-keygen.js --out ${k('admin')} && bt-keygen.js --type ed25519 --out ${k('host')}`)
  if (r.code !== 0) throw new Error(r.stderr)
  return { T, env, bin, cfg, data, keys: { admin: k('admin.key'), adminPub: k('admin.pub'), host: k('host.key'), hostPub: k('host.pub') } }
}

/** Writes CONFIG/NAME.conf: the given lines after the keys' own. */
export function writeSet(s: Sandbox, name: string, lines: string[]): string {
  const file = `${s.cfg}/${name}.conf`
  writeFileSync(file, [`recipient = ${s.keys.adminPub}`, `sign-key = ${s.keys.host}`, ...lines, ''].join('\n'))
  return file
}

export function backtory(s: Sandbox, args: string[]): Promise<RunResult> {
  return runBin('backtory', args, undefined, s.env)
}

/** Starts backtory without waiting: for the tests that kill or race it. */
export function startBacktory(s: Sandbox, args: string[]) {
  return spawn(process.execPath, [`${BIN}/backtory.js`, ...args], { env: { ...process.env, ...s.env }, stdio: ['ignore', 'pipe', 'pipe'] })
}

export interface Row { name: string; kind: string; id: string; base: string | null; complete: boolean; base_missing: boolean; size: number }

/** bt-ls --json of a store (all: incomplete backups too). */
export function listing(url: string, extra = '', all = false): Row[] {
  const r = sh(`bt-ls.js --json ${all ? '--all ' : ''}${extra} '${url}'`)
  if (r.code !== 0) throw new Error(r.stderr)
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row).filter((x) => x.name)
}
