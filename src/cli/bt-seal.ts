import { pipeline } from 'node:stream/promises'
import { COMPRESSIONS, type Compression } from '../crypto/header.js'
import { KeyError, EXIT, UsageError } from '../errors.js'
import { canReceive } from '../crypto/keys.js'
import { sealArchive } from '../crypto/sealer.js'
import { type CliSpec, type Parsed } from './args.js'
import { openBulkInput } from './bulk-input.js'
import { maxHeader } from './input.js'
import { type Io } from './io.js'
import { loadPrivate, loadPublic, readPassphrase } from './keyfile.js'
import { openOutput } from './output.js'

export const spec: CliSpec = {
  name: 'bt-seal',
  summary: 'compress, encrypt and sign a backtory stream into a sealed archive',
  usage: ['--sign KEY --to PUB... [--set NAME] [--compress zstd|gzip|none] [-o FILE] [FILE]',
    '--sign KEY --passphrase-file FILE [--set NAME] [--compress zstd|gzip|none] [-o FILE] [FILE]'],
  options: [
    { long: 'compress', arg: 'ALGORITHM', doc: 'zstd (level 1, the default), gzip (level 1) or none' },
    { long: 'key-passphrase-file', arg: 'FILE', doc: 'read the passphrase of an encrypted --sign key from FILE' },
    { long: 'output', short: 'o', arg: 'FILE', doc: 'write to FILE, which appears only on success ("-": stdout)' },
    { long: 'passphrase-file', arg: 'FILE', doc: 'encrypt with the passphrase on the first line of FILE (scrypt) instead of --to' },
    { long: 'set', arg: 'NAME', doc: 'backup set recorded in the header (default: "default")' },
    { long: 'sign', arg: 'KEY', doc: 'sign with this private key (Ed25519 or RSA PEM): the host key' },
    { long: 'to', arg: 'PUB', repeat: true, doc: 'encrypt to this RSA public key (PEM)' },
  ],
  notes: ['Reads a backtory stream on standard input (or FILE) and verifies it as it passes: the final chunk',
    'and the signed trailer are written only after the stream\'s own trailer verified, so a truncated or',
    'corrupt stream exits 4 and leaves an archive that bt-open and bt-put refuse.'],
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  if (args.length > 1) throw new UsageError('too many arguments', `usage: bt-seal ${spec.usage[0]}`)
  const to = opts.to as string[]
  const passFile = opts['passphrase-file'] as string | undefined
  if (opts.sign === undefined) {
    throw new UsageError('missing --sign KEY: every sealed archive is signed', 'make a host key with: bt-keygen --type ed25519 --out /etc/backtory/host')
  }
  if (to.length === 0 && passFile === undefined) throw new UsageError('missing --to PUB (or --passphrase-file FILE)', 'make a recipient key with: bt-keygen --out /etc/backtory/admin')
  if (to.length > 0 && passFile !== undefined) throw new UsageError('--to and --passphrase-file exclude each other')
  const compress = (opts.compress as string | undefined) ?? 'zstd'
  if (!COMPRESSIONS.includes(compress as Compression)) throw new UsageError(`--compress must be zstd, gzip or none, not ${JSON.stringify(compress)}`)
  const set = (opts.set as string | undefined) ?? 'default'
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(set)) throw new UsageError(`--set ${JSON.stringify(set)}: use 1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit`)
  const recipients = to.map(loadPublic)
  for (const r of recipients) {
    if (!canReceive(r.key)) throw new KeyError(r.path, 'is an Ed25519 key, which can sign but not be a recipient', 'give an RSA public key (bt-keygen --type rsa)')
  }
  const signer = loadPrivate(opts.sign as string, opts['key-passphrase-file'] as string | undefined)
  const passphrase = passFile === undefined ? undefined : readPassphrase(passFile, '--passphrase-file')
  const input = openBulkInput(io, args[0], signal)
  const out = openOutput(io, opts.output as string | undefined)
  const max = maxHeader(io)
  const seal = sealArchive({
    recipients, signer, compress: compress as Compression, set,
    ...(passphrase ? { passphrase } : {}), ...(max !== undefined ? { maxHeader: max } : {}),
  })
  try {
    await pipeline(input, seal, out.stream, { signal })
    out.commit()
  } catch (err) {
    out.abort()
    throw err
  }
  return EXIT.OK
}
