import { EXIT, UsageError } from '../errors.js'
import { getArchive } from '../transport/get.js'
import { splitObjectUrl } from '../transport/url.js'
import { type CliSpec, type Parsed } from './args.js'
import { type Io } from './io.js'
import { loadPublic } from './keyfile.js'
import { openOutput } from './output.js'
import { human, progress } from './progress.js'
import { connect, remoteOptions } from './remote.js'

export const spec: CliSpec = {
  name: 'bt-get',
  summary: 'fetch a stored backup and write its sealed archive to standard output',
  usage: ['[OPTIONS] URL/NAME'],
  options: [
    { long: 'output', short: 'o', arg: 'FILE', doc: 'write to FILE, which appears only on success ("-": stdout)' },
    { long: 'progress', doc: 'show progress on standard error even when it is not a terminal' },
    { long: 'set', arg: 'SET', doc: 'with NAME "latest": the newest backup of SET' },
    { long: 'verify', arg: 'PUBKEY', repeat: true, doc: 'also check the signatures with the signer\'s public key' },
    ...remoteOptions,
  ].sort((a, b) => a.long.localeCompare(b.long)),
  notes: [
    'NAME is a backup name as bt-ls URL prints it, its id, or "latest" (the newest complete backup).',
    'Volumes are joined in order; a cut download resumes where it stopped. The archive\'s layout and',
    'trailer digest are checked on the way: a damaged copy exits 4 (do not trust what was written).',
  ],
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  if (args.length !== 1) throw new UsageError(args.length === 0 ? 'missing URL/NAME' : 'too many arguments', `usage: bt-get ${spec.usage[0]}`)
  const { dir, name } = splitObjectUrl(args[0]!)
  const verify = (opts.verify as string[]).map(loadPublic)
  const out = openOutput(io, opts.output as string | undefined)
  const { tx, retry } = await connect(dir, opts, io, signal)
  const bar = progress(io, opts.progress ? true : undefined)
  try {
    const r = await getArchive(tx, name, out.stream, {
      retry, verify, ...(opts.set !== undefined ? { set: opts.set as string } : {}),
      progress: (bytes, total) => bar.update(bytes, `of ${human(total)}`),
    })
    bar.done()
    await new Promise<void>((resolve, reject) => {
      out.stream.once('error', reject)
      out.stream.end((err?: Error | null) => (err ? reject(err) : resolve()))
    })
    out.commit()
    io.notice(`fetched ${r.backup.name} (${r.bytes} bytes, ${r.backup.volumes.length} volume${r.backup.volumes.length === 1 ? '' : 's'})`)
  } catch (err) {
    bar.done()
    out.abort()
    throw err
  } finally {
    await tx.close()
  }
  return EXIT.OK
}
