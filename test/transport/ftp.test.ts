// The ftp:// and ftps:// transport against a real vsftpd on 127.0.0.1: the
// conformance suite, then what only FTP has (logins, TLS trust, a full disk,
// listings). Needs root and vsftpd; CI has both and must not skip.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { conformance } from './conformance.js'
import { startVsftpd, vsftpdMissing, freePort, type Vsftpd } from '../servers/vsftpd.js'
import { startGarbageFtp } from '../servers/garbage-ftp.js'
import { collector, openOn, remoteFailure, source } from '../servers/ftp-client.js'
import { RemoteError } from '../../src/errors.js'

const missing = vsftpdMissing()
if (missing) {
  t.plan(0, `skipped: ${missing}`)
} else {
  const plain = await startVsftpd()
  const tls = await startVsftpd({ tls: true })
  t.teardown(async () => {
    await plain.stop()
    await tls.stop()
  })
  let n = 0
  const fresh = (srv: Vsftpd): string => srv.dir(`d${++n}`).dir

  for (const srv of [plain, tls]) {
    const scheme = srv.tls ? 'ftps' : 'ftp'

    t.test(`${scheme}: conformance`, async (t) => {
      await conformance(t, async () => (await openOn(srv, fresh(srv))).transport, { emptyObjects: !srv.tls })
    })

    t.test(`${scheme}: save, list, stat, load, rename, remove`, async (t) => {
      const { dir, localDir } = srv.dir(`rt${++n}`)
      const { transport: tr, warnings } = await openOn(srv, `${dir}/deep/er`)
      t.teardown(() => tr.close())
      await tr.prepare()
      await tr.prepare() // a second time is fine
      t.ok(existsSync(`${localDir}/deep/er`), 'prepare made the directory path')
      const local = `${localDir}/deep/er`
      const data = randomBytes(3 * 1024 * 1024 + 17)
      await tr.save('vol.000', source(data, 100_003), 0)
      t.ok(readFileSync(`${local}/vol.000`).equals(data), 'stored byte for byte')

      mkdirSync(`${local}/a-dir`)
      symlinkSync('vol.000', `${local}/a-link`)
      writeFileSync(`${local}/small`, 'x')
      const listed = (await tr.list()).sort((a, b) => a.name.localeCompare(b.name))
      t.same(listed.map((o) => [o.name, o.size]), [['small', 1], ['vol.000', data.length]], 'files only, with sizes')
      t.ok(listed.every((o) => o.mtime instanceof Date && Math.abs(o.mtime.getTime() - Date.now()) < 86_400_000), 'with mtimes')

      const st = await tr.stat('vol.000')
      t.equal(st?.size, data.length)
      t.ok(st?.mtime && Math.abs(st.mtime.getTime() - Date.now()) < 120_000, 'stat has a precise mtime')
      t.equal(await tr.stat('nothing'), undefined, 'stat of a missing name')
      t.equal(await tr.stat('a-dir'), undefined, 'a directory is no object')

      const c = collector()
      await tr.load('vol.000', c.into, 0)
      t.ok(c.bytes().equals(data), 'loaded byte for byte')
      t.notOk(c.ended(), 'load never ends its Writable')
      const c2 = collector()
      await tr.load('vol.000', c2.into, 1_000_001)
      t.ok(c2.bytes().equals(data.subarray(1_000_001)), 'load from an offset')

      await tr.save('vol.000', source(Buffer.from('tail')), data.length)
      t.ok(readFileSync(`${local}/vol.000`).equals(Buffer.concat([data, Buffer.from('tail')])), 'save at an offset appends')
      const wrong = await remoteFailure(tr.save('vol.000', source(Buffer.from('x')), 5))
      t.equal((wrong as RemoteError).code, 'BT_REMOTE_PROTOCOL', 'resume at an offset the object does not have')

      await tr.rename('vol.000', 'vol.final')
      t.same(readdirSync(local).sort(), ['a-dir', 'a-link', 'small', 'vol.final'])
      const exists = await remoteFailure(tr.rename('small', 'vol.final'))
      t.equal((exists as RemoteError).code, 'BT_REMOTE_EXISTS', 'rename replaces nothing')
      t.equal(readFileSync(`${local}/small`, 'utf8'), 'x', 'both objects untouched')
      t.equal(readFileSync(`${local}/vol.final`).length, data.length + 4)
      const gone = await remoteFailure(tr.rename('no-such', 'other'))
      t.equal((gone as RemoteError).code, 'BT_REMOTE_NOT_FOUND')

      await tr.remove('small')
      await tr.remove('small')
      t.notOk(existsSync(`${local}/small`), 'removed, twice without error')
      const nf = await remoteFailure(tr.load('small', collector().into, 0))
      t.equal((nf as RemoteError).code, 'BT_REMOTE_NOT_FOUND', 'load of a missing object')

      for (const bad of ['a/b', '-rf', '..', '']) {
        t.equal((await remoteFailure(tr.stat(bad)) as { code?: string }).code, 'BT_USAGE', `refuses ${JSON.stringify(bad)}`)
      }
      t.same(warnings.length, srv.tls ? 0 : 1, srv.tls ? 'no warning over TLS' : 'one clear-text warning per transport')
    })

    t.test(`${scheme}: close drops the connection, the next call reconnects`, async (t) => {
      const { dir } = srv.dir(`cl${++n}`)
      const { transport: tr, warnings } = await openOn(srv, dir)
      await tr.save('a', source(Buffer.from('abc')), 0)
      await tr.close()
      await tr.close()
      t.same((await tr.list()).map((o) => o.name), ['a'])
      await tr.close()
      t.equal((await tr.stat('a'))?.size, 3)
      await tr.close()
      if (!srv.tls) t.equal(warnings.length, 1, 'warned once, not per connection')
    })

    t.test(`${scheme}: a missing directory without prepare`, async (t) => {
      const { transport: tr } = await openOn(srv, '/no/such/dir')
      t.teardown(() => tr.close())
      const err = await remoteFailure(tr.list())
      t.equal((err as RemoteError).code, 'BT_REMOTE_NOT_FOUND')
    })

    t.test(`${scheme}: wrong password is BT_REMOTE_AUTH at once`, async (t) => {
      const { transport: tr } = await openOn(srv, fresh(srv), { password: 'not-the-password-1234', timeoutMs: 20_000 })
      t.teardown(() => tr.close())
      const start = Date.now()
      const err = await remoteFailure(tr.list())
      t.type(err, RemoteError)
      t.equal((err as RemoteError).code, 'BT_REMOTE_AUTH')
      t.equal((err as RemoteError).retryable, false)
      t.match(err.message, `${srv.user}@127.0.0.1:${srv.port}`, 'names user@host')
      t.notMatch(err.message, 'not-the-password-1234', 'never the password')
      t.notMatch(err.message, srv.password)
      t.ok(Date.now() - start < 5000, `failed in ${Date.now() - start} ms`)
    })

    t.test(`${scheme}: nothing listens`, async (t) => {
      const port = await freePort()
      const { transport: tr } = await openOn({ ...srv, port }, '/')
      const err = await remoteFailure(tr.list())
      t.equal((err as RemoteError).code, 'BT_REMOTE_CONNECT')
      t.equal((err as RemoteError).retryable, true)
    })

    t.test(`${scheme}: a full disk is BT_REMOTE_FULL`, async (t) => {
      const { dir, localDir } = srv.smallDisk(`full${++n}`, 2 * 1024 * 1024)
      const { transport: tr } = await openOn(srv, dir)
      t.teardown(() => tr.close())
      const err = await remoteFailure(tr.save('big', source(randomBytes(4 * 1024 * 1024)), 0))
      t.equal((err as RemoteError).code, 'BT_REMOTE_FULL', err.message)
      if ((err as RemoteError).code !== 'BT_REMOTE_FULL') t.comment(srv.log().slice(-1500))
      t.equal((err as RemoteError).retryable, false)
      t.ok(readdirSync(localDir).length <= 1, 'at most the partial object')
      // The transport stays usable after the failure.
      await tr.remove('big')
      await tr.save('small', source(Buffer.from('fits')), 0)
      t.equal(readFileSync(`${localDir}/small`, 'utf8'), 'fits')
    })
  }

  t.test('ftps: a pinned certificate', async (t) => {
    const { dir, localDir } = tls.dir(`pin${++n}`)
    const upper = `SHA256:${tls.fingerprint!.slice(7).toUpperCase().match(/../g)!.join(':')}`
    for (const pin of [tls.fingerprint!, upper]) {
      const { transport: tr } = await openOn({ ...tls, caPem: undefined }, dir, { fingerprint: pin })
      await tr.save('ok', source(Buffer.from('pinned')), 0)
      t.equal(readFileSync(`${localDir}/ok`, 'utf8'), 'pinned', `pin ${pin.slice(0, 14)}… accepted`)
      await tr.close()
    }

    const wrongPin = `sha256:${'ab'.repeat(32)}`
    const { transport: bad } = await openOn({ ...tls, caPem: undefined }, dir, { fingerprint: wrongPin })
    const err = await remoteFailure(bad.save('evil', source(Buffer.from('x')), 0))
    t.equal((err as RemoteError).code, 'BT_REMOTE_TRUST')
    t.equal((err as RemoteError).retryable, false)
    t.match(err.message, wrongPin, 'shows the expected fingerprint')
    t.match(err.message, tls.fingerprint!, 'and the actual one')
    t.notOk(existsSync(`${localDir}/evil`), 'nothing uploaded')
    await bad.close()
    t.notMatch(tls.log(), /\[btftp\] FTP command: Client "127.0.0.1", "STOR evil"/, 'the server never saw the upload')
  })

  t.test('ftps: trust', async (t) => {
    const { dir } = tls.dir(`trust${++n}`)
    const { transport: withCa } = await openOn(tls, dir)
    await withCa.save('a', source(Buffer.from('ca')), 0)
    await withCa.close()
    // Without --ca the self-signed certificate is not trusted by the system's CAs.
    const { transport: system } = await openOn({ ...tls, caPem: undefined }, dir)
    const err = await remoteFailure(system.list())
    t.equal((err as RemoteError).code, 'BT_REMOTE_TRUST', err.message)
    t.equal((err as RemoteError).retryable, false)
    await system.close()
  })

  t.test('ftps: a server without TLS is refused', async (t) => {
    const { transport: tr } = await openOn({ ...plain, tls: true, caPem: tls.caPem }, '/')
    const err = await remoteFailure(tr.list())
    t.type(err, RemoteError)
    t.notOk((err as RemoteError).retryable, err.message)
    await tr.close()
  })

  t.test('a listing that cannot be read is BT_REMOTE_PROTOCOL', async (t) => {
    const cases: Array<[string, string]> = [
      ['garbage', 'this is not a listing\r\nat all\r\n'],
      ['garbage between good lines',
        '-rw-r--r--    1 ftp      ftp             5 Jun 01 12:00 a\r\nHELLO GARBAGE\r\n-rw-r--r--    1 ftp      ftp             7 Jun 01 12:00 b\r\n'],
      ['MLSD without facts', 'modify=20240101000000;perm=r; x\r\n'],
    ]
    for (const [what, listing] of cases) {
      const g = await startGarbageFtp(listing)
      const { transport: tr } = await openOn({ port: g.port, user: 'u', password: 'p', tls: false }, '/')
      const err = await remoteFailure(tr.list())
      t.equal((err as RemoteError).code, 'BT_REMOTE_PROTOCOL', `${what}: ${err.message}`)
      t.match(err.message, /directory listing cannot be read/)
      await tr.close()
      await g.stop()
    }
    const empty = await startGarbageFtp('')
    const { transport: tr } = await openOn({ port: empty.port, user: 'u', password: 'p', tls: false }, '/')
    t.same(await tr.list(), [], 'an empty listing is an empty directory')
    await tr.close()
    await empty.stop()
  })
}
