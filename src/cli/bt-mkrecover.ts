import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { EXIT, IoError, UsageError } from '../errors.js'
import { parsePublicKey } from '../crypto/keys.js'
import { type BackupSource, type Layout } from '../recover/layout.js'
import { parseLayout } from '../recover/layout-file.js'
import { renderRecoverScript } from '../recover/script.js'
import { captureLayout } from '../recover/capture/index.js'
import { type CliSpec, type Parsed } from './args.js'
import { type Io } from './io.js'
import { writeLine } from './write.js'

export const spec: CliSpec = {
  name: 'bt-mkrecover',
  summary: 'capture this machine\'s disk layout and write recover.sh, which rebuilds it, restores it and makes it boot',
  usage: ['[--root DIR] [--disk DEV]... [--store URL] [--set NAME] [--verify HOST.pub] [--raw-record DIR] [--json] [-o FILE]',
    '--layout FILE | --raw-replay DIR [--store URL] [--set NAME] [--verify HOST.pub] [--json] [-o FILE]'],
  options: [
    { long: 'disk', arg: 'DEV', repeat: true, doc: 'a whole disk to include (default: every disk under the mounts of --root)' },
    { long: 'json', doc: 'print the layout (JSON) instead of the script' },
    { long: 'layout', arg: 'FILE', doc: 'render from a saved layout: the JSON of --json, or a recover.sh' },
    { long: 'output', short: 'o', arg: 'FILE', doc: 'write to FILE (made only on success) instead of standard output' },
    { long: 'raw-record', arg: 'DIR', doc: 'save the output of every command the capture runs in DIR' },
    { long: 'raw-replay', arg: 'DIR', doc: 'capture from the outputs saved by --raw-record instead of running the commands' },
    { long: 'root', arg: 'DIR', doc: 'the mount tree to capture (default /)' },
    { long: 'set', arg: 'NAME', doc: 'the backup set to restore' },
    { long: 'store', arg: 'URL', doc: 'the store the backups are in (no password in it)' },
    { long: 'verify', arg: 'HOST.pub', doc: 'the host\'s public key the backups are signed with; embedded, so recover.sh verifies with no other file' },
  ],
  notes: ['recover.sh is POSIX sh: "sh recover.sh --plan" prints what it would do, touching nothing.'],
}

export async function main({ opts, args }: Parsed, io: Io): Promise<number> {
  if (args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args[0])}`, 'see bt-mkrecover --help')
  if (opts.layout && (opts['raw-replay'] || opts['raw-record'] || opts.root || (opts.disk as string[]).length > 0)) {
    throw new UsageError('--layout renders a saved layout: it takes no --root, --disk, --raw-replay or --raw-record')
  }
  const backup = backupSource(opts)
  let layout: Layout
  if (opts.layout) {
    const file = opts.layout as string
    layout = parseLayout(read(file), file)
    layout.backup = { ...layout.backup, ...Object.fromEntries(Object.entries(backup).filter(([, v]) => v !== null)) }
  } else {
    layout = await captureLayout({
      root: (opts.root as string | undefined) ?? '/',
      disks: (opts.disk as string[]).length > 0 ? (opts.disk as string[]) : null,
      backup,
      raw: { record: opts['raw-record'] as string | undefined, replay: opts['raw-replay'] as string | undefined },
      warn: (m) => io.warn(m),
    })
  }
  const text = opts.json ? `${JSON.stringify(layout, null, 2)}\n` : renderRecoverScript(layout)
  const out = opts.output as string | undefined
  if (out === undefined || out === '-') {
    await writeLine(io.stdout, text.replace(/\n$/, ''))
  } else {
    // A new file of mode 0755 written whole, then renamed: a half-written recover.sh never exists.
    const tmp = `${out}.tmp-${io.pid}`
    try {
      writeFileSync(tmp, text, { mode: 0o755 })
      renameSync(tmp, out)
    } catch (err) {
      throw new IoError(`cannot write ${JSON.stringify(out)}`, err as NodeJS.ErrnoException)
    }
  }
  return io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK
}

function backupSource(opts: Parsed['opts']): BackupSource {
  const b: BackupSource = { store: (opts.store as string | undefined) ?? null, set: (opts.set as string | undefined) ?? null, signer: null, signerPublicKey: null }
  if (b.store && /^[a-z0-9]+:\/\/[^/@]*:[^/@]*@/i.test(b.store)) throw new UsageError('--store must not carry a password', 'recover.sh asks for it with --password-file')
  const pub = opts.verify as string | undefined
  if (pub) {
    const k = parsePublicKey(pub, read(pub))
    b.signer = k.fingerprint
    b.signerPublicKey = k.key.export({ type: 'spki', format: 'pem' }).toString()
  }
  return b
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    throw new IoError(`cannot read ${JSON.stringify(file)}`, err as NodeJS.ErrnoException)
  }
}
