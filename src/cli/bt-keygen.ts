import { closeSync, existsSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { type KeyType, generateKeyPair } from '../crypto/keygen.js'
import { EXIT, IoError, UsageError } from '../errors.js'
import { type CliSpec, type Parsed } from './args.js'
import { type Io } from './io.js'
import { readPassphrase } from './keyfile.js'
import { writeLine } from './write.js'

export const spec: CliSpec = {
  name: 'bt-keygen',
  summary: 'make a key pair for sealing, opening and signing archives',
  usage: ['--out PREFIX [--type rsa|ed25519] [--passphrase-file FILE]'],
  options: [
    { long: 'out', arg: 'PREFIX', doc: 'write PREFIX.key (private, mode 0600) and PREFIX.pub (public)' },
    { long: 'passphrase-file', arg: 'FILE', doc: 'encrypt PREFIX.key with the passphrase on the first line of FILE' },
    { long: 'type', arg: 'TYPE', doc: 'rsa (3072 bits, the default: a recipient and a signer) or ed25519 (a signer only)' },
  ],
  notes: ['Prints the fingerprint of the new key (SHA-256 of its DER public key, in hex) on standard output.',
    'Refuses to overwrite either file.'],
}

function writeNew(path: string, text: string, mode: number): void {
  let fd: number
  try {
    fd = openSync(path, 'wx', mode)
  } catch (err) {
    throw new IoError(`cannot create ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
  }
  try {
    writeSync(fd, text)
  } catch (err) {
    closeSync(fd)
    unlinkSync(path)
    throw new IoError(`cannot write ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
  }
  closeSync(fd)
}

export async function main({ opts, args }: Parsed, io: Io): Promise<number> {
  if (args.length > 0) throw new UsageError('too many arguments', `usage: bt-keygen ${spec.usage[0]}`)
  const prefix = opts.out as string | undefined
  if (prefix === undefined) throw new UsageError('missing --out PREFIX', 'e.g. bt-keygen --out /etc/backtory/admin')
  const type = (opts.type as string | undefined) ?? 'rsa'
  if (type !== 'rsa' && type !== 'ed25519') throw new UsageError(`--type must be rsa or ed25519, not ${JSON.stringify(type)}`)
  const passFile = opts['passphrase-file'] as string | undefined
  const passphrase = passFile === undefined ? undefined : readPassphrase(passFile, '--passphrase-file')
  for (const f of [`${prefix}.key`, `${prefix}.pub`]) {
    if (existsSync(f)) throw new UsageError(`${JSON.stringify(f)} already exists; refusing to overwrite it`, 'choose another --out PREFIX, or remove the old key pair first')
  }
  const pair = generateKeyPair(type as KeyType, passphrase)
  writeNew(`${prefix}.key`, pair.privatePem, 0o600)
  try {
    writeNew(`${prefix}.pub`, pair.publicPem, 0o644)
  } catch (err) {
    unlinkSync(`${prefix}.key`)
    throw err
  }
  await writeLine(io.stdout, pair.fingerprint)
  io.notice(`wrote ${JSON.stringify(`${prefix}.key`)} (${type} private key, mode 0600${passphrase ? ', encrypted' : ''}) and ${JSON.stringify(`${prefix}.pub`)}`)
  return EXIT.OK
}
