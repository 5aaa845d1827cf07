// bt-get's engine: finds a complete backup in the listing, streams its
// volumes in order into the output, resuming a cut download from the byte it
// reached, and checks the sealed archive as it passes (layout, trailer
// digest, and with a key the signatures), so a damaged copy fails here and
// not halfway through a restore.
import { Writable } from 'node:stream'
import { InputError, RemoteError, UsageError } from '../errors.js'
import { ParallelCheck } from '../crypto/check-parallel.js'
import { type SealHeader } from '../crypto/header.js'
import { type PublicKey } from '../crypto/keys.js'
import { writeInto } from '../sys/io.js'
import { type Backup, catalog } from './names.js'
import { type RetryPolicy, retrying } from './retry.js'
import { type Transport } from './transport.js'

export interface GetOptions {
  retry: RetryPolicy
  verify: PublicKey[]
  /** Only backups of this set count for "latest". */
  set?: string
  progress?: (bytes: number, total: number) => void
}

/**
 * The backup `selector` names: a backup name as bt-ls prints it, one of its
 * volume names, its id, or "latest" (the newest complete backup).
 */
export function selectBackup(backups: Backup[], selector: string, set?: string): Backup {
  const pool = set === undefined ? backups : backups.filter((b) => b.set === set)
  let found: Backup[]
  if (selector === 'latest') found = pool.filter((b) => b.complete).slice(-1)
  else {
    found = pool.filter((b) => b.name === selector || b.id === selector || b.volumes.some((v) => v.name === selector))
  }
  if (found.length === 0) {
    throw new RemoteError('BT_REMOTE_NOT_FOUND', selector === 'latest' ? `no complete backup${set !== undefined ? ` of set ${JSON.stringify(set)}` : ''} is stored there`
      : `no backup named ${JSON.stringify(selector)} is stored there`)
  }
  if (found.length > 1) throw new UsageError(`${JSON.stringify(selector)} names ${found.length} backups`, 'give the full name bt-ls prints')
  const b = found[0]!
  if (!b.complete) {
    throw new RemoteError('BT_REMOTE_NOT_FOUND', `backup ${b.name} is incomplete: ${b.volumes.length} of its ${b.count} volumes are stored`,
      { hints: ['an upload was interrupted while it made its volumes final; this backup cannot be restored from this copy'] })
  }
  return b
}

export async function getArchive(tx: Transport, selector: string, into: Writable, o: GetOptions): Promise<{ backup: Backup; header: SealHeader; bytes: number }> {
  const c = catalog(await tx.list())
  // An index object is fetched only by its own name: never as "latest", never by the id it shares with its full.
  const index = c.indexes.find((b) => b.name === selector || b.volumes.some((v) => v.name === selector))
  const backup = index ? selectBackup([index], selector) : selectBackup(c.backups, selector, o.set)
  const check = new ParallelCheck(o.verify)
  try {
    return await fetchVolumes()
  } finally {
    await check.close()
  }

  async function fetchVolumes(): Promise<{ backup: Backup; header: SealHeader; bytes: number }> {
    let bytes = 0
    for (const vol of backup.volumes) {
      let delivered = 0
      await retrying(`downloading ${vol.name}`, tx, o.retry, async (attempt) => {
        if (attempt > 0 && delivered > 0) o.retry.notice(`resuming ${vol.name} at byte ${delivered}`)
        // A fresh sink per attempt, ended (drained) before the next one starts,
        // so `delivered` counts exactly the bytes that went on to the output.
        const sink = new Writable({
          highWaterMark: 1 << 20,
          write(chunk: Buffer, _enc, cb) {
            if (delivered + chunk.length > vol.size) return cb(new RemoteError('BT_REMOTE_PROTOCOL', `${vol.name} sent more than its listed ${vol.size} bytes`))
            delivered += chunk.length
            bytes += chunk.length
            o.progress?.(bytes, backup.size)
            // A failure the check found (a damaged archive) stops the transfer at the next chunk.
            check.push(chunk).then(() => writeInto(into, chunk)).then(() => cb(), cb)
          },
        })
        // The sink's error is read from sink.errored below; the transport may have stopped listening by then.
        sink.on('error', () => undefined)
        let failed: { err: unknown } | undefined
        try {
          await tx.load(vol.name, sink, delivered)
        } catch (err) {
          failed = { err }
        }
        await new Promise<void>((resolve) => {
          if (sink.destroyed) return resolve()
          sink.once('error', () => resolve())
          sink.end(() => resolve())
        })
        // The sink's own failure (damaged archive, output closed) explains the transfer's.
        if (sink.errored) throw sink.errored
        if (failed) throw failed.err
        if (delivered !== vol.size) {
          throw new RemoteError('BT_REMOTE_DROPPED', `${vol.name} ended after ${delivered} of its ${vol.size} bytes`, { retryable: true })
        }
      })
    }
    const { header } = await check.end()
    if (header.id !== backup.id || header.set !== backup.set || header.kind !== backup.kind || (header.base ?? undefined) !== backup.base) {
      throw new InputError('BT_REMOTE_MISMATCH', `the archive stored as ${backup.name} says it is set ${header.set}, ${header.kind} ${header.id}${header.base ? ` on ${header.base}` : ''}`,
        'an object was renamed or replaced in storage; do not trust it')
    }
    return { backup, header, bytes }
  }
}
