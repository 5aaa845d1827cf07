// bt-put's engine. The archive arrives once, on a pipe; it is cut into
// volumes, each uploaded under a temporary name. A dropped connection is
// resumed from what the server holds (from the bytes kept in memory), or the
// volume is restarted when it is still wholly kept. Only once the input's end
// verified (the sealed trailer, its digest, and with a key its signature) are
// the volumes renamed to their final names, the last volume name written
// last; any failure removes what this run uploaded. A differential is stored
// only beside its base: one whose full the store does not hold whole is
// refused, before its upload (from the unverified header) and again before it
// is made final (from the verified one).
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { BtError, EXIT, RemoteError, UsageError } from '../errors.js'
import { ParallelCheck } from '../crypto/check-parallel.js'
import { type SealHeader } from '../crypto/header.js'
import { SealedParser } from '../crypto/opener.js'
import { type PublicKey } from '../crypto/keys.js'
import { Feeder, Window } from './feed.js'
import { type BackupName, type Catalog, backupName, catalog, compactTime, nameable, tempName, volumeName } from './names.js'
import { type RetryPolicy, retrying, sleep } from './retry.js'
import { type Transport } from './transport.js'

export interface PutOptions {
  /** Bytes per volume. */
  volumeSize: number
  /** Bytes kept to resume a cut transfer. */
  window: number
  retry: RetryPolicy
  /** Trusted signers; with none the signatures are not checked (the digest still is). */
  verify: PublicKey[]
  /** Temporaries and incomplete backups older than this (ms) are removed first; 0 = never. */
  staleMs: number
  now: () => number
  progress?: (bytes: number, volume: number) => void
  /** Told of each stale leftover as it is removed. */
  removedStale?: (name: string) => void
  /**
   * Told of the archive's header before any byte of it is stored; may refuse
   * by throwing. bt-put checks its --state directory here rather than at
   * start: in `bt-delta --full --state S | ... | bt-put --state S` the first
   * full's bt-delta makes S before its first output byte, not before bt-put starts.
   */
  beforeStore?: (header: SealHeader) => void | Promise<void>
  signal?: AbortSignal
}

export interface PutResult {
  name: string
  volumes: string[]
  size: number
  header: SealHeader
  removed: string[]
}

export function nameOf(h: SealHeader): BackupName {
  const time = compactTime(h.time)
  if (!time) throw new UsageError(`the archive's time ${JSON.stringify(h.time)} is not an ISO-8601 UTC time`)
  const b: BackupName = { set: h.set, time, kind: h.kind, id: h.id, ...(h.base !== undefined ? { base: h.base } : {}) }
  if (!nameable(b)) throw new UsageError(`the archive's id, kind or base cannot be carried in an object name (${backupName(b)})`)
  return b
}

/** Removes temporaries and incomplete backups that have not changed for staleMs: leftovers of a crashed run. */
export async function removeStale(tx: Transport, staleMs: number, now: number, told?: (name: string) => void): Promise<string[]> {
  if (staleMs <= 0) return []
  const c = catalog(await tx.list())
  const old = (d: Date | undefined) => d !== undefined && now - d.getTime() > staleMs
  const doomed = [
    ...c.temporaries.filter((o) => old(o.mtime)).map((o) => o.name),
    ...[...c.backups, ...c.indexes].filter((b) => !b.complete && old(b.mtime)).flatMap((b) => b.volumes.map((v) => v.name)),
  ]
  const removed: string[] = []
  for (const name of doomed) {
    try {
      await tx.remove(name)
    } catch (err) {
      // A volume under S3 Object Lock (its run failed midway through the commit) goes once its lock ends; until then it must not block every run.
      if (err instanceof BtError && err.code === 'BT_LOCKED') continue
      throw err
    }
    removed.push(name)
    told?.(name)
  }
  return removed
}

/** Whether `c` holds the full `id` whole (in any set: ids are unique). */
export function holdsFull(c: Catalog, id: string): boolean {
  return c.backups.some((b) => b.kind === 'full' && b.id === id && b.complete)
}

export class BaseMissingError extends BtError {
  constructor(h: Pick<SealHeader, 'kind' | 'id' | 'base'>, store: string) {
    super('BT_BASE_MISSING', EXIT.BAD_INPUT, `refusing ${h.kind} ${h.id}: its base, full ${h.base}, is not stored whole in ${store}`,
      ['store that full there first (a set keeps its full and its differentials in one store),',
        'or make a new full with bt-delta --full and store it with bt-put --state, so that later differentials are made against it'])
  }
}

async function checkBase(tx: Transport, h: Pick<SealHeader, 'kind' | 'id' | 'base'>, c?: Catalog): Promise<void> {
  if (h.base === undefined) return
  if (!holdsFull(c ?? catalog(await tx.list()), h.base)) throw new BaseMissingError(h, tx.display)
}

/**
 * The input with its sealed header read ahead (a few KiB, bounded by the
 * parser) and handed to `seen` before any byte goes on. A header that does
 * not parse is passed on untouched: the full check reports it.
 */
async function* headerFirst(input: AsyncIterable<Buffer>, seen: (h: SealHeader) => Promise<void>): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]()
  const p = new SealedParser()
  const held: Buffer[] = []
  for (;;) {
    const r = await it.next()
    if (r.done) break
    held.push(r.value)
    p.push(r.value)
    let h
    try {
      h = p.header()
    } catch {
      break // not a sealed header: the check that reads the whole input says so, with its code
    }
    if (h) {
      await seen(h.header)
      break
    }
  }
  yield* held
  for (let r = await it.next(); !r.done; r = await it.next()) yield r.value
}

export async function putArchive(input: AsyncIterable<Buffer>, tx: Transport, o: PutOptions): Promise<PutResult> {
  await tx.prepare()
  const removed = await removeStale(tx, o.staleMs, o.now(), o.removedStale)
  const run = randomBytes(6).toString('hex')
  const feeder = new Feeder(headerFirst(input, async (h) => {
    await o.beforeStore?.(h)
    await checkBase(tx, h)
  }))
  const check = new ParallelCheck(o.verify)
  const kept = new Window(o.window)
  const temps: string[] = []
  const finals: string[] = []
  let total = 0
  try {
    for (let vol = 1; await feeder.more(); vol++) {
      const temp = tempName(run, vol)
      temps.push(temp)
      await uploadVolume(temp, vol)
    }
    const { header } = await check.end()
    const name = backupName(nameOf(header))
    const names = temps.map((_, i) => volumeName(name, i + 1, temps.length))
    // The same archive may already be there, whole or in part, in volumes of another size.
    const held = catalog(await tx.list())
    const same = [...held.backups, ...held.indexes].find((b) => b.name === name)
    if (same) throw new RemoteError('BT_REMOTE_EXISTS', `backup ${name} is already stored in ${tx.display} (${same.volumes.length} of ${same.count} volumes)`)
    await checkBase(tx, header, held)
    for (let i = 0; i < temps.length; i++) {
      await tx.rename(temps[i]!, names[i]!)
      finals.push(names[i]!)
    }
    return { name, volumes: names, size: total, header, removed }
  } catch (err) {
    await check.close()
    // Best effort: a failed run leaves no final object and no temporary it can remove.
    for (const n of [...temps, ...finals]) await tx.remove(n).catch(() => undefined)
    throw err
  }

  /**
   * What the server holds of `temp` once it stopped growing: after a cut, the
   * old session may still be writing what it had buffered, and resuming from
   * a size read too early would fail (or, without the size check, corrupt).
   */
  async function settledSize(temp: string): Promise<number> {
    let last = (await tx.stat(temp))?.size ?? 0
    for (let i = 0; i < 20; i++) {
      await sleep(Math.min(250, Math.max(20, o.retry.delayMs / 4)), o.signal)
      const now = (await tx.stat(temp))?.size ?? 0
      if (now === last) return now
      last = now
    }
    return last
  }

  async function uploadVolume(temp: string, vol: number): Promise<void> {
    kept.reset()
    const fresh = async function* (): AsyncGenerator<Buffer> {
      while (kept.end < o.volumeSize) {
        const b = await feeder.take(o.volumeSize - kept.end)
        if (!b) return
        await check.push(b)
        kept.push(b)
        total += b.length
        o.progress?.(total, vol)
        yield b
      }
    }
    // The source of the attempt under way. Before the next attempt looks at
    // the window it must be quiet: a read it still has in flight would add
    // bytes to the window after the replay was cut from it.
    let current: { gen: AsyncGenerator<Buffer>; r: Readable } | undefined
    const source = (offset: number): Readable => {
      const gen = (async function* () {
        yield* kept.from(offset)
        yield* fresh()
      })()
      const r = Readable.from(gen, { objectMode: false, highWaterMark: 1 << 20 })
      if (o.signal) {
        const onAbort = () => r.destroy(o.signal!.reason as Error)
        if (o.signal.aborted) onAbort()
        else o.signal.addEventListener('abort', onAbort, { once: true })
        r.once('close', () => o.signal!.removeEventListener('abort', onAbort))
      }
      current = { gen, r }
      return r
    }
    const quiesce = async () => {
      if (!current) return
      current.r.destroy()
      await current.gen.return(undefined).catch(() => undefined)
      current = undefined
    }
    await retrying(`uploading volume ${vol}`, tx, o.retry, async (attempt) => {
      let offset = 0
      await quiesce()
      if (attempt > 0) {
        const held = await settledSize(temp)
        if (tx.canResume && held >= kept.start && held <= kept.end) offset = held
        else if (kept.start !== 0) {
          throw new RemoteError('BT_REMOTE_DROPPED', `cannot resume volume ${vol}: the server holds ${held} bytes of it, ` +
            `and only bytes ${kept.start} to ${kept.end} are still kept here`, { hints: ['raise --window, or lower --volume-size so that a volume can be sent again whole'] })
        }
        if (offset > 0) o.retry.notice(`resuming volume ${vol} at byte ${offset}`)
      }
      await tx.save(temp, source(offset), offset)
      await quiesce()
      const held = (await tx.stat(temp))?.size
      if (held !== kept.end) {
        throw new RemoteError('BT_REMOTE_DROPPED', `volume ${vol} holds ${held ?? 'no'} bytes on the server after its upload, not ${kept.end}`, { retryable: true })
      }
    })
  }
}
