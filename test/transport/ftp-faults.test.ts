// bt-put's and bt-get's fault handling over real TCP: a real vsftpd behind
// the fault proxy (test/servers/fault-proxy.ts), which cuts or stalls the
// passive data connections (and with `whole` the control connection too).
// resume.test.ts has the same scenarios with faults injected in JS; these are
// the ones a dropped link produces. Plain ftp:// only (the proxy must rewrite
// the PASV replies); FTPS shares the transport's fault paths.
// Every check of what was stored goes straight to vsftpd, past the proxy.
import t, { type Test } from 'tap'
import { readdirSync } from 'node:fs'
import { getArchive } from '../../src/transport/get.js'
import { catalog } from '../../src/transport/names.js'
import { putArchive, type PutOptions } from '../../src/transport/put.js'
import { type RetryPolicy } from '../../src/transport/retry.js'
import { type Transport } from '../../src/transport/transport.js'
import { startFaultProxy, type FaultProxy } from '../servers/fault-proxy.js'
import { openOn } from '../servers/ftp-client.js'
import { startVsftpd, vsftpdMissing, type FtpDir, type Vsftpd } from '../servers/vsftpd.js'
import { runBin } from '../helpers.js'
import { Collect, quietRetry, sealedArchive, source } from './conformance.js'

const MiB = 1 << 20

const missing = vsftpdMissing()
if (missing) {
  t.plan(0, `skipped: ${missing}`)
} else {
  const srv = await startVsftpd()
  t.teardown(() => srv.stop())
  const archive = sealedArchive()
  let n = 0

  interface Setup {
    proxy: FaultProxy
    d: FtpDir
    /** A transport through the proxy. */
    via: Transport
    /** A transport straight to vsftpd. */
    direct: Transport
    notices: string[]
  }

  const setup = async (t: Test, timeoutMs = 5000): Promise<Setup> => {
    const proxy = await startFaultProxy(srv.port)
    const d = srv.dir(`f${++n}`)
    const via = (await openOn({ ...srv, port: proxy.port }, d.dir, { timeoutMs })).transport
    const direct = (await openOn(srv, d.dir)).transport
    t.teardown(async () => {
      await via.close()
      await direct.close()
      await proxy.stop()
    })
    return { proxy, d, via, direct, notices: [] }
  }

  const retry = (notices: string[], over: Partial<RetryPolicy> = {}): RetryPolicy => ({ ...quietRetry(notices), ...over })
  const putOpts = (r: RetryPolicy): PutOptions => ({ volumeSize: MiB, window: 4 * MiB, retry: r, verify: [], staleMs: 0, now: Date.now })

  /** The stored backup, fetched straight from vsftpd. */
  const fetched = async (tx: Transport, name = 'latest'): Promise<Buffer> => {
    const into = new Collect()
    await getArchive(tx, name, into, { retry: quietRetry(), verify: [] })
    return into.data
  }

  const failure = async (p: Promise<unknown>): Promise<{ code?: string; message: string }> => {
    try {
      await p
    } catch (err) {
      return err as { code?: string; message: string }
    }
    return { code: 'resolved', message: 'resolved, but a failure was expected' }
  }

  /** Stores the archive straight on vsftpd (for the download tests). */
  const stored = async (s: Setup): Promise<string> => (await putArchive(source(archive, 50_000), s.direct, putOpts(quietRetry()))).name

  const leftovers = async (t: Test, s: Setup): Promise<void> => {
    t.same(catalog(await s.direct.list()).temporaries, [], 'no temporaries are left')
  }

  const elapsed = (since: number): string => `${((Date.now() - since) / 1000).toFixed(1)} s`

  t.test('an upload cut once mid-volume resumes', async (t) => {
    const s = await setup(t)
    s.proxy.fault({ conn: 'data', dir: 'up', after: 1_000_000, action: 'cut', times: 'once' })
    const r = await putArchive(source(archive, 50_000), s.via, putOpts(retry(s.notices)))
    t.equal(s.proxy.struck, 1, 'the fault struck once')
    t.match(s.notices.join('\n'), /uploading volume 1: .*retrying/, 'the cut was retried')
    t.match(s.notices.join('\n'), /resuming volume 1 at byte [1-9]\d*/, 'and resumed, not restarted')
    t.equal(r.volumes.length, Math.ceil(archive.length / MiB))
    t.ok((await fetched(s.direct, r.name)).equals(archive), 'the stored archive is byte-identical')
    t.same(catalog(await s.direct.list()).temporaries, [], 'no temporaries are left')
  })

  t.test('an upload whose data and control connections are both cut reconnects and resumes', async (t) => {
    const s = await setup(t)
    s.proxy.fault({ conn: 'data', dir: 'up', after: 1_000_000, action: 'cut', times: 'once', whole: true })
    const r = await putArchive(source(archive, 50_000), s.via, putOpts(retry(s.notices)))
    t.equal(s.proxy.struck, 1)
    t.match(s.notices.join('\n'), /resuming volume 1 at byte [1-9]\d*/)
    t.ok((await fetched(s.direct, r.name)).equals(archive), 'byte-identical')
    t.same(catalog(await s.direct.list()).temporaries, [], 'no temporaries are left')
  })

  t.test('an upload cut every time fails after bounded retries and leaves nothing', async (t) => {
    const s = await setup(t)
    s.proxy.fault({ conn: 'data', dir: 'up', after: 100_000, action: 'cut', times: 'always' })
    const start = Date.now()
    const err = await failure(putArchive(source(archive, 50_000), s.via, putOpts(retry(s.notices, { retries: 2 }))))
    t.comment(`failed after ${elapsed(start)}`)
    t.equal(err.code, 'BT_REMOTE_DROPPED', err.message)
    t.match(err.message, /failed 3 times/)
    t.equal(s.proxy.struck, 3, 'one attempt and two retries')
    t.same(readdirSync(s.d.localDir), [], 'no final object and no temporary')
  })

  t.test('a download cut once resumes from the byte it reached', async (t) => {
    const s = await setup(t)
    const name = await stored(s)
    s.proxy.fault({ conn: 'data', dir: 'down', after: 700_000, action: 'cut', times: 'once' })
    const into = new Collect()
    await getArchive(s.via, name, into, { retry: retry(s.notices), verify: [] })
    t.equal(s.proxy.struck, 1)
    t.match(s.notices.join('\n'), /resuming \S+ at byte [1-9]\d*/)
    t.ok(into.data.equals(archive), 'byte-identical')
  })

  t.test('a download cut every time fails after bounded retries', async (t) => {
    const s = await setup(t)
    const name = await stored(s)
    s.proxy.fault({ conn: 'data', dir: 'down', after: 200_000, action: 'cut', times: 'always' })
    const err = await failure(getArchive(s.via, name, new Collect(), { retry: retry(s.notices, { retries: 2 }), verify: [] }))
    t.equal(err.code, 'BT_REMOTE_DROPPED', err.message)
    t.match(err.message, /failed 3 times/)
    t.equal(s.proxy.struck, 3, 'one attempt and two retries')
    await leftovers(t, s)
  })

  t.test('a stalled data connection times out, and resumes when retried', async (t) => {
    await t.test('upload, no retries: fails within a few seconds', async (t) => {
      const s = await setup(t, 2000)
      s.proxy.fault({ conn: 'data', dir: 'up', after: 300_000, action: 'stall', times: 'once' })
      const start = Date.now()
      const err = await failure(putArchive(source(archive, 50_000), s.via, putOpts(retry(s.notices, { retries: 0 }))))
      const took = Date.now() - start
      t.comment(`failed after ${elapsed(start)}`)
      t.equal(err.code, 'BT_REMOTE_TIMEOUT', err.message)
      t.ok(took < 15_000, `within a few seconds (${took} ms)`)
      t.equal(s.proxy.struck, 1)
      t.same(readdirSync(s.d.localDir), [], 'nothing is left')
    })
    await t.test('upload, with retries: resumes', async (t) => {
      const s = await setup(t, 2000)
      s.proxy.fault({ conn: 'data', dir: 'up', after: 300_000, action: 'stall', times: 'once' })
      const start = Date.now()
      const r = await putArchive(source(archive, 50_000), s.via, putOpts(retry(s.notices)))
      t.comment(`done after ${elapsed(start)}`)
      t.equal(s.proxy.struck, 1)
      t.match(s.notices.join('\n'), /uploading volume 1: .*[Tt]imeout.*retrying/, 'the stall was a timeout')
      t.match(s.notices.join('\n'), /resuming volume 1 at byte [1-9]\d*/)
      t.ok((await fetched(s.direct, r.name)).equals(archive), 'byte-identical')
      await leftovers(t, s)
    })
    await t.test('download, with retries: resumes', async (t) => {
      const s = await setup(t, 2000)
      const name = await stored(s)
      s.proxy.fault({ conn: 'data', dir: 'down', after: 300_000, action: 'stall', times: 'once' })
      const start = Date.now()
      const into = new Collect()
      await getArchive(s.via, name, into, { retry: retry(s.notices), verify: [] })
      t.comment(`done after ${elapsed(start)}`)
      t.equal(s.proxy.struck, 1)
      t.match(s.notices.join('\n'), /[Tt]imeout.*retrying/)
      t.match(s.notices.join('\n'), /resuming \S+ at byte [1-9]\d*/)
      t.ok(into.data.equals(archive), 'byte-identical')
    })
  })

  t.test('bt-put and bt-get through the proxy', async (t) => {
    const env = { BT_PASSWORD: srv.password }
    const flags = (retries = 3, delay = 0.1): string[] => ['--retries', String(retries), '--retry-delay', String(delay), '--timeout', '5']
    const url = (proxy: FaultProxy, d: FtpDir): string => `ftp://${srv.user}@127.0.0.1:${proxy.port}${d.dir}`

    await t.test('a cut upload and a cut download', async (t) => {
      const s = await setup(t)
      s.proxy.fault({ conn: 'data', dir: 'up', after: 1_000_000, action: 'cut', times: 'once' })
      const put = await runBin('bt-put', [...flags(), '--volume-size', '1M', url(s.proxy, s.d)], archive, env)
      t.equal(put.code, 0, put.stderr)
      t.equal(s.proxy.struck, 1)
      t.match(put.stderr, /resuming volume 1/)
      const name = put.stdout.toString().trim()
      t.match(name, /^conformance_\d{8}T\d{6}Z_/, 'prints the backup name')
      t.ok((await fetched(s.direct, name)).equals(archive), 'stored byte-identical')

      s.proxy.fault({ conn: 'data', dir: 'down', after: 700_000, action: 'cut', times: 'once' })
      const get = await runBin('bt-get', [...flags(), `${url(s.proxy, s.d)}/${name}`], undefined, env)
      t.equal(get.code, 0, get.stderr)
      t.equal(s.proxy.struck, 2)
      t.match(get.stderr, /resuming/)
      t.ok(get.stdout.equals(archive), 'bt-get writes the archive byte-identical')
    })

    await t.test('an upload cut every time', async (t) => {
      const s = await setup(t)
      s.proxy.fault({ conn: 'data', dir: 'up', after: 100_000, action: 'cut', times: 'always' })
      const put = await runBin('bt-put', [...flags(2, 0.05), '--volume-size', '1M', url(s.proxy, s.d)], archive, env)
      t.equal(put.code, 1, put.stderr)
      t.match(put.stderr, /BT_REMOTE_DROPPED|failed 3 times/)
      t.equal(put.stdout.length, 0, 'prints no name')
      t.equal(s.proxy.struck, 3)
      t.same(readdirSync(s.d.localDir), [], 'leaves nothing')
    })
  })
}
