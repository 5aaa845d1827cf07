// One conformance suite, run against every transport (file, ftp, ftps, sftp).
// Each backend's test file calls conformance(t, open) with a factory that
// returns a Transport on a fresh, empty target directory. The suite holds
// every backend to the contract in src/transport/transport.ts, then runs
// bt-put's and bt-get's engines over it.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { type Test } from 'tap'
import { RemoteError } from '../../src/errors.js'
import { getArchive } from '../../src/transport/get.js'
import { catalog } from '../../src/transport/names.js'
import { peekHeader } from '../../src/transport/peek.js'
import { putArchive } from '../../src/transport/put.js'
import { planRemoval, removeBackups } from '../../src/transport/remove.js'
import { type RetryPolicy } from '../../src/transport/retry.js'
import { type Transport } from '../../src/transport/transport.js'
import { BIN, ROOT } from '../helpers.js'

export type OpenTransport = () => Promise<Transport>

/** A sink that never ends on its own, so a test can see that load() did not end it. */
export class Collect extends Writable {
  readonly parts: Buffer[] = []
  constructor() {
    super({ highWaterMark: 1 << 16 })
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.parts.push(chunk)
    setImmediate(cb) // a slow reader: load() must respect backpressure
  }
  get data(): Buffer {
    return Buffer.concat(this.parts)
  }
}

/** `buf` as a byte stream, in pieces of `n` bytes. */
export function source(buf: Buffer, n = 65536): Readable {
  const pieces: Buffer[] = []
  for (let i = 0; i < buf.length; i += n) pieces.push(buf.subarray(i, i + n))
  return Readable.from(pieces, { objectMode: false })
}

export const quietRetry = (notices: string[] = []): RetryPolicy => ({ retries: 3, delayMs: 50, maxDelayMs: 200, notice: (m) => notices.push(m) })

let sealed: Buffer | undefined
/** A real sealed archive of about 3 MiB (bt-scan | bt-seal over random files), made once per process. */
export function sealedArchive(): Buffer {
  if (sealed) return sealed
  const keys = `${ROOT}test/fixtures/keys`
  const r = spawnSync('/bin/sh', ['-c', `set -e; d=$(mktemp -d); head -c 3000000 /dev/urandom > "$d/blob"; echo small > "$d/small"
    node ${BIN}/bt-scan.js "$d" | node ${BIN}/bt-seal.js --compress none --set conformance --to ${keys}/admin.pub --sign ${keys}/host.key; rm -rf "$d"`],
  { maxBuffer: 1 << 26 })
  if (r.status !== 0) throw new Error(`cannot make a sealed archive: ${r.stderr}`)
  sealed = r.stdout
  return sealed
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'resolved'
  } catch (err) {
    return (err as { code?: string }).code ?? String(err)
  }
}

export interface ConformanceOptions {
  /**
   * Empty objects: bt-put never stores one (a sealed archive is never empty),
   * and vsftpd 3.0.3 over TLS fails a 0-byte STOR whose data connection closes
   * while its TLS handshake finishes (a server-side race, reproduced with bare
   * basic-ftp). Every other backend is held to them.
   */
  emptyObjects?: boolean
}

export async function conformance(t: Test, open: OpenTransport, co: ConformanceOptions = {}): Promise<void> {
  const data = randomBytes(3 << 20)

  await t.test('conformance: prepare, save, stat, list, load', async (t) => {
    const tx = await open()
    t.teardown(() => tx.close())
    await tx.prepare()
    await tx.prepare() // twice is fine
    t.same((await tx.list()).map((o) => o.name), [], 'a new directory is empty')
    t.equal(await tx.stat('nothing'), undefined, 'stat of a missing object is undefined')
    await tx.save('obj', source(data, 100_003), 0)
    const st = await tx.stat('obj')
    t.equal(st?.size, data.length, 'stat gives the size')
    const listed = await tx.list()
    t.same(listed.map((o) => [o.name, o.size]), [['obj', data.length]])
    t.ok(listed[0]!.mtime === undefined || Math.abs(listed[0]!.mtime.getTime() - Date.now()) < 36 * 3600_000, 'mtime, when given, is sane')
    const into = new Collect()
    await tx.load('obj', into, 0)
    t.notOk(into.writableEnded, 'load does not end its output')
    t.ok(into.data.equals(data), 'load returns the bytes saved')
  })

  await t.test(co.emptyObjects === false ? 'conformance: overwrite at offset 0' : 'conformance: empty objects, overwrite at offset 0', async (t) => {
    const tx = await open()
    t.teardown(() => tx.close())
    await tx.prepare()
    if (co.emptyObjects !== false) {
      await tx.save('empty', source(Buffer.alloc(0)), 0)
      t.equal((await tx.stat('empty'))?.size, 0)
      const into = new Collect()
      await tx.load('empty', into, 0)
      t.equal(into.data.length, 0)
    }
    await tx.save('o', source(data.subarray(0, 1000)), 0)
    await tx.save('o', source(data.subarray(0, 10)), 0)
    t.equal((await tx.stat('o'))?.size, 10, 'offset 0 replaces the content')
  })

  await t.test('conformance: resume at an offset, load from an offset', async (t) => {
    const tx = await open()
    t.teardown(() => tx.close())
    await tx.prepare()
    const cut = 1_234_567
    await tx.save('part', source(data.subarray(0, cut)), 0)
    t.equal((await tx.stat('part'))?.size, cut)
    if (tx.canResume) {
      await tx.save('part', source(data.subarray(cut), 77_777), cut)
      const into = new Collect()
      await tx.load('part', into, 0)
      t.ok(into.data.equals(data), 'the continued object is byte-identical')
    }
    const tail = new Collect()
    await tx.save('whole', source(data), 0)
    await tx.load('whole', tail, 1_000_000)
    t.ok(tail.data.equals(data.subarray(1_000_000)), 'load from an offset gives the tail')
  })

  await t.test('conformance: rename never replaces, remove is idempotent', async (t) => {
    const tx = await open()
    t.teardown(() => tx.close())
    await tx.prepare()
    await tx.save('a', source(Buffer.from('A')), 0)
    await tx.save('b', source(Buffer.from('BB')), 0)
    await tx.rename('a', 'c')
    t.equal(await tx.stat('a'), undefined, 'the old name is gone')
    t.equal((await tx.stat('c'))?.size, 1, 'the new name holds it')
    t.equal(await code(tx.rename('c', 'b')), 'BT_REMOTE_EXISTS', 'renaming onto an existing object fails')
    t.equal((await tx.stat('b'))?.size, 2, 'and the existing object is untouched')
    t.equal((await tx.stat('c'))?.size, 1, 'as is the source')
    t.equal(await code(tx.rename('missing', 'd')), 'BT_REMOTE_NOT_FOUND', 'renaming a missing object fails')
    await tx.remove('b')
    await tx.remove('b')
    t.equal(await tx.stat('b'), undefined)
    t.equal(await code(tx.load('b', new Collect(), 0)), 'BT_REMOTE_NOT_FOUND', 'loading a missing object fails')
  })

  await t.test('conformance: names are plain names', async (t) => {
    const tx = await open()
    t.teardown(() => tx.close())
    for (const bad of ['../x', 'a/b', '-rf', '', '..']) {
      t.equal(await code(tx.save(bad, source(Buffer.from('x')), 0)), 'BT_USAGE', `refuses ${JSON.stringify(bad)}`)
    }
  })

  await t.test('conformance: a failing source fails the save', async (t) => {
    const tx = await open()
    t.teardown(() => tx.close())
    await tx.prepare()
    const failing = new Readable({
      read() {
        this.push(data.subarray(0, 65536))
        this.destroy(new Error('upstream died'))
      },
    })
    t.not(await code(tx.save('f', failing, 0)), 'resolved', 'save rejects')
    await tx.close()
    await tx.close()
    t.ok(Array.isArray(await tx.list()), 'the transport reconnects after close()')
  })

  await t.test('conformance: bt-put and bt-get engines over this transport', async (t) => {
    const tx = await open()
    t.teardown(() => tx.close())
    const archive = sealedArchive()
    const notices: string[] = []
    const r = await putArchive(source(archive, 50_000), tx, {
      volumeSize: 1 << 20, window: 4 << 20, retry: quietRetry(notices), verify: [], staleMs: 0, now: Date.now,
    })
    t.equal(r.volumes.length, Math.ceil(archive.length / (1 << 20)), 'one volume per MiB')
    const c = catalog(await tx.list())
    t.equal(c.backups.length, 1)
    t.ok(c.backups[0]!.complete, 'the backup is complete')
    t.equal(c.backups[0]!.set, 'conformance')
    t.same(c.temporaries, [], 'no temporaries are left')
    const peeked = await peekHeader(tx, r.volumes[0]!)
    t.equal(peeked.header.id, r.header.id, 'the sealed header can be read without fetching the rest')
    t.equal(c.backups.length, catalog(await tx.list()).backups.length, 'and the transport is usable after the abandoned transfer')
    const into = new Collect()
    const g = await getArchive(tx, 'latest', into, { retry: quietRetry(), verify: [] })
    t.equal(g.backup.name, r.name)
    t.ok(into.data.equals(archive), 'bt-get returns the archive byte-identical')

    // A truncated archive: nothing final, nothing temporary.
    const before = (await tx.list()).map((o) => o.name).sort()
    const e = await code(putArchive(source(archive.subarray(0, archive.length - 100)), tx, {
      volumeSize: 1 << 20, window: 4 << 20, retry: quietRetry(), verify: [], staleMs: 0, now: Date.now,
    }))
    t.equal(e, 'BT_SEAL_TRUNCATED', 'a truncated input is refused')
    t.same((await tx.list()).map((o) => o.name).sort(), before, 'and leaves nothing behind')

    // The same archive again: immutable, refused, and the stored one untouched.
    t.equal(await code(putArchive(source(archive), tx, {
      volumeSize: 1 << 20, window: 4 << 20, retry: quietRetry(), verify: [], staleMs: 0, now: Date.now,
    })), 'BT_REMOTE_EXISTS')
    t.same((await tx.list()).map((o) => o.name).sort(), before, 'a refused duplicate leaves nothing behind')
  })

  await t.test('conformance: bt-rm\'s engine: volume 0001 first, a cut removal listed incomplete, a rerun finishes it', async (t) => {
    const tx = await open()
    t.teardown(() => tx.close())
    const put = await putArchive(source(sealedArchive()), tx, {
      volumeSize: 1 << 20, window: 4 << 20, retry: quietRetry(), verify: [], staleMs: 0, now: Date.now,
    })
    t.ok(put.volumes.length >= 3, 'a backup of several volumes')
    await tx.save('not-ours.txt', source(Buffer.from('the admin\'s')), 0)
    const where = tx.display
    t.equal(await code(Promise.resolve().then(() => planRemoval(catalog([]), [put.name], { force: false, ignoreMissing: false, where }))),
      'BT_REMOTE_NOT_FOUND', 'a name that is not stored is refused')
    const order: string[] = []
    const cut = await code(removeBackups(tx, planRemoval(catalog(await tx.list()), [put.name], { force: false, ignoreMissing: false, where }), {
      beforeObject: (n, name) => {
        if (n === 2) throw new Error('cut between two volumes')
        order.push(name)
      },
    }))
    t.equal(cut, 'Error: cut between two volumes')
    t.same(order, [put.volumes[0]], 'volume 0001 went first')
    const half = catalog(await tx.list()).backups
    t.same(half.map((b) => [b.name, b.complete, b.volumes.length]), [[put.name, false, put.volumes.length - 1]], 'listed incomplete, never complete')
    const removed: string[] = []
    const r = await removeBackups(tx, planRemoval(catalog(await tx.list()), [put.name], { force: false, ignoreMissing: false, where }), {
      removed: (b) => void removed.push(b.name),
    })
    t.same(removed, [put.name], 'a rerun finishes it')
    t.equal(r.objects, put.volumes.length - 1)
    t.same((await tx.list()).map((o) => o.name), ['not-ours.txt'], 'every volume gone, nothing else touched')
  })

  await t.test('conformance: stale temporaries and incomplete backups are cleaned', async (t) => {
    const tx = await open()
    t.teardown(() => tx.close())
    await tx.prepare()
    await tx.save('.bt-tmp.deadbeef0000.0001', source(Buffer.from('left by a crash')), 0)
    await tx.save('old_20200101T000000Z_full_abc.0001-of-0002.sealed', source(Buffer.from('half a backup')), 0)
    await tx.save('not-ours.txt', source(Buffer.from('the admin\'s')), 0)
    const fresh = await putArchive(source(sealedArchive()), tx, {
      volumeSize: 1 << 30, window: 4 << 20, retry: quietRetry(), verify: [], staleMs: 3600_000, now: Date.now,
    })
    t.same(fresh.removed, [], 'recent leftovers are kept (they may belong to a run in progress)')
    const later = Date.now() + 2 * 3600_000
    const { removeStale } = await import('../../src/transport/put.js')
    const removed = await removeStale(tx, 3600_000, later)
    t.same(removed.sort(), ['.bt-tmp.deadbeef0000.0001', 'old_20200101T000000Z_full_abc.0001-of-0002.sealed'])
    const names = (await tx.list()).map((o) => o.name)
    t.ok(names.includes('not-ours.txt'), 'other files are never touched')
    t.ok(names.includes(`${fresh.name}.0001-of-0001.sealed`), 'complete backups are never touched')
  })
}

export { RemoteError }
