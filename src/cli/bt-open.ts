import { pipeline } from 'node:stream/promises'
import { decompressor } from '../crypto/compress.js'
import { infoLines } from '../crypto/info.js'
import { type PublicKey } from '../crypto/keys.js'
import { type ParsedHeader, SealedParser, checkHeader, openArchive } from '../crypto/opener.js'
import { EXIT, UsageError } from '../errors.js'
import { type CliSpec, type Parsed } from './args.js'
import { openBulkInput } from './bulk-input.js'
import { type Io } from './io.js'
import { loadPrivate, loadPublic, readPassphrase } from './keyfile.js'
import { openOutput } from './output.js'
import { writeLine } from './write.js'

export const spec: CliSpec = {
  name: 'bt-open',
  summary: 'verify and decrypt a sealed archive back into a backtory stream',
  usage: ['--key KEY... --verify PUB... [-o FILE] [FILE]', '--passphrase-file FILE --verify PUB... [-o FILE] [FILE]',
    '--verify-only --verify PUB... [FILE]', '--info [--verify PUB...] [FILE]'],
  options: [
    { long: 'info', doc: 'print the header (id, set, kind, time, recipients, signer) and stop; needs no private key' },
    { long: 'key', arg: 'KEY', repeat: true, doc: 'decrypt with this RSA private key (PEM)' },
    { long: 'key-passphrase-file', arg: 'FILE', doc: 'read the passphrase of an encrypted --key from FILE' },
    { long: 'no-verify', doc: 'accept an archive whose signer is not a --verify key, unauthenticated (dangerous)' },
    { long: 'output', short: 'o', arg: 'FILE', doc: 'write to FILE, which appears only on success ("-": stdout)' },
    { long: 'passphrase-file', arg: 'FILE', doc: 'decrypt with the passphrase on the first line of FILE' },
    { long: 'verify', arg: 'PUB', repeat: true, doc: 'accept archives signed by this public key (the host key)' },
    { long: 'verify-only', doc: 'check the signatures, every byte and the length without decrypting; needs no private key' },
  ],
  notes: ['Only authenticated plaintext reaches the output, chunk by chunk; the last chunk goes out only after the',
    'signed trailer verified. A failure exits 4 naming the problem, after the chunks before it were written.'],
}

interface Mode { info: boolean; verifyOnly: boolean; noVerify: boolean; verify: PublicKey[] }

function validate(opts: Parsed['opts'], args: string[]): Mode {
  if (args.length > 1) throw new UsageError('too many arguments', `usage: bt-open ${spec.usage[0]}`)
  const info = Boolean(opts.info)
  const verifyOnly = Boolean(opts['verify-only'])
  const noVerify = Boolean(opts['no-verify'])
  const keys = opts.key as string[]
  const pass = opts['passphrase-file'] !== undefined
  if (info && verifyOnly) throw new UsageError('--info and --verify-only exclude each other')
  const verify = (opts.verify as string[]).map(loadPublic)
  if (verify.length && noVerify) throw new UsageError('--verify and --no-verify exclude each other')
  if (info) return { info, verifyOnly, noVerify: true, verify }
  if (!verify.length && !noVerify) {
    throw new UsageError('missing --verify PUB: archives are accepted only from known signers', 'give the signing host\'s public key, or --no-verify to skip the check (dangerous)')
  }
  if (verifyOnly) {
    if (noVerify) throw new UsageError('--verify-only needs --verify PUB, not --no-verify')
    if (keys.length || pass || opts.output !== undefined) throw new UsageError('--verify-only takes no --key, --passphrase-file or --output: it decrypts nothing')
    return { info, verifyOnly, noVerify, verify }
  }
  if (!keys.length && !pass) throw new UsageError('missing --key KEY (or --passphrase-file FILE)', 'or check the archive without a private key: --verify-only')
  if (keys.length && pass) throw new UsageError('--key and --passphrase-file exclude each other')
  return { info, verifyOnly, noVerify, verify }
}

async function info(io: Io, input: AsyncIterable<Buffer>, verify: PublicKey[]): Promise<void> {
  const p = new SealedParser()
  let h: ParsedHeader | undefined
  for await (const b of input) {
    p.push(b)
    h = p.header()
    if (h) break
  }
  h ??= p.header(true)!
  const signer = verify.length ? checkHeader(h, verify, false) : undefined
  for (const l of infoLines(h, signer)) await writeLine(io.stdout, l)
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  const mode = validate(opts, args)
  const input = openBulkInput(io, args[0], signal)
  if (mode.info) {
    await info(io, input, mode.verify)
    return EXIT.OK
  }
  const keys = (opts.key as string[]).map((k) => loadPrivate(k, opts['key-passphrase-file'] as string | undefined))
  const passFile = opts['passphrase-file'] as string | undefined
  const passphrase = passFile === undefined ? undefined : readPassphrase(passFile, '--passphrase-file')
  let compress: ParsedHeader['header']['compress'] = 'none'
  let bytes = 0
  const open = (source: AsyncIterable<Buffer>) => openArchive(source, {
    keys, verify: mode.verify, noVerify: mode.noVerify, verifyOnly: mode.verifyOnly, ...(passphrase ? { passphrase } : {}),
    onHeader: (h) => {
      compress = h.header.compress
      if (mode.noVerify) io.notice(`--no-verify: the signer (${h.header.signer.alg} ${h.header.signer.fingerprint}) is not checked; the output is not authenticated`)
    },
  })
  if (mode.verifyOnly) {
    let h: ParsedHeader | undefined
    const counted = async function* (source: AsyncIterable<Buffer>) {
      for await (const b of source) {
        bytes += b.length
        yield b
      }
    }
    for await (const _ of openArchive(counted(input), { keys: [], verify: mode.verify, verifyOnly: true, onHeader: (x) => (h = x) })) {
      // verify-only yields no plaintext
    }
    await writeLine(io.stdout, `verified: archive ${h!.header.id} (set ${h!.header.set}, ${h!.header.kind}, ${h!.header.time}), ${bytes} bytes, signed by ${h!.header.signer.fingerprint}`)
    return EXIT.OK
  }
  const out = openOutput(io, opts.output as string | undefined)
  const inflate = async function* (source: AsyncIterable<Buffer>) {
    // The header comes first, so the compression is known before the first payload byte.
    const it = source[Symbol.asyncIterator]()
    const first = await it.next()
    const rest = async function* () {
      if (!first.done) yield first.value
      for (;;) {
        const r = await it.next()
        if (r.done) return
        yield r.value
      }
    }
    yield* decompressor(compress)(rest())
  }
  try {
    await pipeline(input, open, inflate, out.stream, { signal })
    out.commit()
  } catch (err) {
    out.abort()
    throw err
  }
  return EXIT.OK
}
