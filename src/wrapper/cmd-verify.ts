// backtory verify: are a set's stored backups whole, signed by the host, and
// restorable? Every byte of each is read and checked against its signed
// trailer by `bt-get --verify HOST.pub`, which needs no private key, so a
// monitoring host can run it; --restore-test, with the admin key, restores
// them into a private temporary directory too. See backtory-verify(1).
import { rmSync } from 'node:fs'
import { processAlive } from '../cli/alive.js'
import { makeScratch } from './scratch.js'
import { BtError, EXIT, UsageError } from '../errors.js'
import { type CliSpec, type Parsed } from '../cli/args.js'
import { type Io } from '../cli/io.js'
import { writeLine } from '../cli/write.js'
import { type StoredBackup } from './catalog.js'
import { backupsOf, type Chain, chainOf, isChain, selectChain } from './chain.js'
import { listOrigin, objectUrl, type Origin, originOf, STORE_OPTIONS } from './origin.js'
import { render, runPipeline, type Stage } from './pipeline.js'
import { restoreSteps } from './restore-plan.js'
import { storeArgs } from './store-args.js'
import { localIso } from './when.js'

export const spec: CliSpec = {
  name: 'backtory verify',
  summary: 'check stored backups with public keys only',
  usage: ['SET [--latest | --all] [--restore-test --key KEY]', '--store URL --verify HOST.pub [--set NAME] [STORE OPTIONS] [--latest | --all]'],
  options: [
    ...STORE_OPTIONS,
    { long: 'all', doc: 'check every backup of the set' },
    { long: 'dry-run', short: 'n', doc: 'print the pipelines that would run, and run none' },
    { long: 'key', arg: 'KEY', doc: 'with --restore-test: the admin\'s private key' },
    { long: 'key-passphrase-file', arg: 'FILE', doc: 'the passphrase of an encrypted --key: the first line of FILE' },
    { long: 'latest', doc: 'check the newest backup and the full it needs (the default)' },
    { long: 'restore-test', doc: 'also restore each checked backup into a temporary directory (needs --key)' },
    { long: 'verify', arg: 'PUB', doc: 'the host\'s public key the backups are signed with (default: the set\'s verify-key)' },
  ].sort((a, b) => a.long.localeCompare(b.long)),
}

const show = (b: StoredBackup) => `${b.name} (${b.kind}, ${localIso(b.time)})`

interface Failure { name: string; why: string; code: number }

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  const { origin, rest } = originOf(opts, args, { env: io.env, uid: io.uid }, `${spec.name} ${spec.usage[0]!}`)
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`, `usage: backtory verify ${spec.usage[0]}`)
  if (opts.all && opts.latest) throw new UsageError('--all and --latest exclude each other')
  if (origin.verifyKey === undefined) throw new UsageError('missing --verify HOST.pub: the host\'s public key the backups are signed with')
  const key = typeof opts.key === 'string' ? opts.key : undefined
  if (opts['restore-test'] && key === undefined) {
    throw new UsageError('--restore-test needs --key KEY, the admin\'s private key', 'without it, verify checks every byte and signature, but decrypts nothing')
  }
  const rows = await listOrigin(origin, { env: io.env, stderr: io.stderr, signal })
  const backups = backupsOf(rows)
  const failures: Failure[] = []
  // --latest: the newest backup and the full it needs; --all: every backup, each differential's full being checked in its own turn.
  const targets = opts.all ? backups : selectChain(rows, { latest: true }, origin.set, origin.store.url).members
  const ctx = { io, signal, origin, verifyKey: origin.verifyKey, dry: Boolean(opts['dry-run']) }
  for (const b of targets) {
    const c = chainOf(backups, b)
    if (!isChain(c)) {
      if (c.kind === 'incomplete') io.warn(`${show(b)} is INCOMPLETE: volumes are missing, it cannot be restored (an interrupted upload, or damage)`)
      else failures.push({ name: b.name, why: `its full ${c.base} is not stored whole`, code: EXIT.FAILURE })
      continue
    }
    const code = await checkBytes(b, ctx)
    if (code !== EXIT.OK) failures.push({ name: b.name, why: `bt-get --verify exited ${code}`, code })
    else if (!ctx.dry) await writeLine(io.stdout, `verified ${show(b)}: ${b.size} bytes, signature good`)
  }
  if (opts['restore-test']) {
    const chains = targets.map((b) => chainOf(backups, b)).filter(isChain).filter((c) => !failures.some((f) => c.members.some((m) => m.name === f.name)))
    for (const c of opts.all ? chains : chains.slice(-1)) {
      const code = await restoreTest(c, key!, opts['key-passphrase-file'] as string | undefined, ctx)
      if (code !== EXIT.OK && code !== EXIT.PARTIAL) failures.push({ name: c.target.name, why: `the restore test failed (exit ${code})`, code })
      else if (!ctx.dry) await writeLine(io.stdout, `restore test passed: ${show(c.target)}${c.members.length === 2 ? ' and its full' : ''} restored into a temporary directory, since removed`)
    }
  }
  if (failures.length > 0) {
    const worst = failures.find((f) => f.code === EXIT.BAD_INPUT) ?? failures[0]!
    throw new BtError('BT_VERIFY', (worst.code === EXIT.BAD_INPUT ? EXIT.BAD_INPUT : EXIT.FAILURE),
      `${failures.length} backup(s) of set ${origin.set} failed verification: ${failures.map((f) => `${f.name} (${f.why})`).join('; ')}`,
      ['the messages above say what is wrong; make a new full backup (backtory backup --full, or bt-delta --full) so that a good copy exists'])
  }
  return io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK
}

interface Ctx { io: Io; signal: AbortSignal; origin: Origin; verifyKey: string; dry: boolean }

async function checkBytes(b: StoredBackup, c: Ctx): Promise<number> {
  const get: Stage = { tool: 'bt-get', args: ['--verify', c.verifyKey, ...storeArgs(c.origin.store), objectUrl(c.origin.store.url, b.name)] }
  if (c.dry) {
    c.io.stdout.write(`${render([get])} > /dev/null\n`)
    return EXIT.OK
  }
  const r = await runPipeline([get], { env: c.io.env, stderr: c.io.stderr, signal: c.signal, stdout: 'ignore' })
  if (c.signal.aborted) throw c.signal.reason
  return r.code
}

/** Restores the chain into a private temporary directory, removed afterwards whatever happens. */
async function restoreTest(chain: Chain, key: string, keyPassphraseFile: string | undefined, c: Ctx): Promise<number> {
  const dir = c.dry ? '"$T"' : makeScratch('verify', { env: c.io.env, pid: c.io.pid, uid: c.io.uid, alive: processAlive })
  const steps = restoreSteps(chain, c.origin, {
    to: c.dry ? '@T@' : `${dir}/tree`, paths: [], key, keyPassphraseFile, verifyKey: c.verifyKey, ownerFlags: ['--no-same-owner'], baseDir: '',
  })
  try {
    if (c.dry) {
      c.io.stdout.write(`T=$(mktemp -d) &&\n${steps.map((s) => render(s.stages).split('@T@').join('"$T"')).join(' &&\n')}\nrm -rf "$T"\n`)
      return EXIT.OK
    }
    for (const s of steps) {
      const r = await runPipeline(s.stages, { env: c.io.env, stderr: c.io.stderr, signal: c.signal, stdout: 'ignore' })
      if (c.signal.aborted) throw c.signal.reason
      if (r.code !== EXIT.OK && r.code !== EXIT.PARTIAL) return r.code
    }
    return EXIT.OK
  } finally {
    if (!c.dry) rmSync(dir, { recursive: true, force: true })
  }
}
