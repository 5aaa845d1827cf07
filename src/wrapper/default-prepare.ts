// The embedded default's first run: the directories, the host's signing key,
// and an admin key pair whose private half must then leave the host (a host
// that holds it can decrypt its own backups, and so can whoever takes it).
import { writeFileSync } from 'node:fs'
import { type Writable } from 'node:stream'
import { BtError, EXIT, IoError } from '../errors.js'
import { mkdirs } from '../sys/mkdirs.js'
import { type DefaultSet } from './default-set.js'
import { runPipeline } from './pipeline.js'

export interface PrepareContext {
  env: NodeJS.ProcessEnv
  /** Where the first run says what it made. */
  stderr: Writable
  signal: AbortSignal
}

export function keygenArgs(k: DefaultSet['missingKeys'][number]): string[] {
  return ['--type', k.type, '--out', k.prefix]
}

export async function prepareDefault(d: DefaultSet, ctx: PrepareContext): Promise<void> {
  try {
    mkdirs(`${d.home}/store`, 0o700)
    mkdirs(d.dir, 0o700)
    writeFileSync(`${d.dir}/source`, `${d.set.source.kind === 'dir' ? d.set.source.path : ''}\n`, { mode: 0o600 })
  } catch (err) {
    throw new IoError(`cannot make the default backup directory ${JSON.stringify(d.home)}`, err as NodeJS.ErrnoException)
  }
  const say = (s: string) => ctx.stderr.write(`backtory backup: ${s}\n`)
  for (const k of d.missingKeys) {
    const r = await runPipeline([{ tool: 'bt-keygen', args: keygenArgs(k) }], { env: ctx.env, stderr: ctx.stderr, signal: ctx.signal })
    if (r.code !== EXIT.OK) {
      throw new BtError('BT_KEYGEN', EXIT.FAILURE, `cannot make the key ${k.prefix}.key: bt-keygen exited ${r.code}`, ['its message is above'])
    }
    say(k.type === 'ed25519' ? `made the host's signing key ${k.prefix}.key (its public half ${k.prefix}.pub verifies backups)`
      : `made an admin key pair ${k.prefix}.key and ${k.prefix}.pub: backups are encrypted to ${k.prefix}.pub`)
    if (k.type === 'rsa') {
      say(`warning: ${k.prefix}.key decrypts every backup: copy it off this host to a safe place, then delete it here`)
      say('warning: without that key no backup can be restored; whoever holds it can read them all')
    }
  }
  if (d.missingKeys.length > 0) {
    say(`the backups are stored in ${d.home}/store, the state in ${d.set.state}, the keys in ${d.home}`)
    say(`restore with: backtory restore --store file://${d.home}/store/ --key ADMIN.key --verify ${d.home}/host.pub ...`)
  }
}
