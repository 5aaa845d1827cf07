// sftp:// — a directory on an SSH server, through ssh2 (pure JavaScript).
//
// Path convention (as curl and draft-ietf-secsh-scp-sftp-ssh-uri): the URL
// path is absolute, sftp://u@h/srv/backup is /srv/backup; a path starting
// with /~/ is relative to the login (home) directory, sftp://u@h/~/backup.
// A path without a leading slash is also taken relative to the login directory.
//
// The server must be known: a pinned fingerprint or a known_hosts entry
// (sftp-trust.ts). The connection opens on first use and again after it drops.
import { type Readable, type Writable } from 'node:stream'
import { type Stats } from 'ssh2'
import { RemoteError, UsageError } from '../errors.js'
import { type RemoteObject, type Transport, type TransportOptions } from './transport.js'
import { authMethods, connect, type Session } from './sftp-connect.js'
import { FX, sftpError, sftpStatus } from './sftp-errors.js'
import { IN_FLIGHT, readAll, request, writeAll } from './sftp-io.js'
import { makeTrust, normalizePin } from './sftp-trust.js'

export interface SftpTarget {
  scheme: 'sftp'
  host: string
  port?: number
  user: string
  /** The URL path, percent-decoded, with its leading slash (see above). */
  path: string
  display: string
}

/** All of TransportOptions applies: identities, passphrase, agent, password, fingerprint, knownHosts. */
export type SftpOptions = TransportOptions

const S_IFMT = 0o170000
const S_IFREG = 0o100000
const S_IFDIR = 0o040000

/** The remote directory for a URL path: "" is the login directory. */
export function remoteDir(urlPath: string): string {
  const trim = (p: string): string => p.replace(/\/+$/, '')
  if (urlPath === '/~' || urlPath.startsWith('/~/')) return trim(urlPath.slice(2).replace(/^\/+/, ''))
  if (urlPath.startsWith('/')) return trim(urlPath.replace(/^\/+/, '/')) || '/'
  return trim(urlPath)
}

export async function openSftp(target: SftpTarget, o: SftpOptions): Promise<Transport> {
  const port = target.port ?? 22
  const who = `${target.user}@${target.host}${port === 22 ? '' : `:${port}`}`
  const dir = remoteDir(target.path)
  const methods = authMethods({ ...o, user: target.user }, who)
  if (o.fingerprint !== undefined) normalizePin(o.fingerprint)
  const display = target.display
  const at = (name: string): string => (dir === '' ? name : dir === '/' ? `/${name}` : `${dir}/${name}`)
  const t = o.timeoutMs
  let current: Promise<Session> | undefined

  async function session(): Promise<Session> {
    const s = await current?.catch(() => undefined)
    if (s && !s.dead) return s
    const trust = await makeTrust({ host: target.host, port, fingerprint: o.fingerprint, knownHosts: o.knownHosts, notice: o.notice })
    current = connect({ host: target.host, port, who, timeoutMs: t }, methods, trust)
    return current
  }
  /** One request on connection `s`, its failure mapped for `what`. */
  async function on<T>(s: Session, what: string, fn: (cb: (err: Error | null | undefined, res?: T) => void) => void): Promise<T> {
    try {
      return await request<T>(s, t, who, fn)
    } catch (err) {
      throw sftpError(err, what, display)
    }
  }
  /** One request on the current connection (reconnecting when it dropped). */
  async function call<T>(what: string, fn: (s: Session, cb: (err: Error | null | undefined, res?: T) => void) => void): Promise<T> {
    const s = await session()
    return on<T>(s, what, (cb) => fn(s, cb))
  }
  const statOf = (path: string, what: string): Promise<Stats | undefined> =>
    call<Stats>(what, (s, cb) => s.sftp.stat(path, cb)).catch((err: unknown) => {
      if (err instanceof RemoteError && err.code === 'BT_REMOTE_NOT_FOUND') return undefined
      throw err
    })

  const transport: Transport = {
    display,
    canResume: true,

    async prepare() {
      const parts = dir.split('/').filter((p) => p !== '')
      let path = dir.startsWith('/') ? '' : '.'
      for (const part of parts) {
        path = path === '.' ? part : `${path}/${part}`
        const st = await statOf(path, `directory ${JSON.stringify(path)}`)
        if (st && (st.mode & S_IFMT) === S_IFDIR) continue
        if (st) throw new RemoteError('BT_REMOTE_PROTOCOL', `${JSON.stringify(path)} at ${display} exists and is not a directory`)
        const p = path
        await call<void>(`creating directory ${JSON.stringify(p)}`, (s, cb) => s.sftp.mkdir(p, cb)).catch(async (err: unknown) => {
          const again = await statOf(p, `directory ${JSON.stringify(p)}`) // made meanwhile by another run?
          if (!again || (again.mode & S_IFMT) !== S_IFDIR) throw pathHint(err)
        })
      }
    },

    async list() {
      const entries = await call<Array<{ filename: string; attrs: Stats }>>('listing the directory',
        (s, cb) => s.sftp.readdir(dir === '' ? '.' : dir, cb)).catch((err: unknown) => {
        throw pathHint(err)
      })
      return entries.filter((e) => (e.attrs.mode & S_IFMT) === S_IFREG).map((e) => object(e.filename, e.attrs))
    },

    async stat(name) {
      checkName(name)
      const st = await statOf(at(name), JSON.stringify(name))
      return st && (st.mode & S_IFMT) === S_IFREG ? object(name, st) : undefined
    },

    async save(name: string, data: Readable, offset: number) {
      checkName(name)
      const what = `upload ${JSON.stringify(name)}`
      // offset 0: WRITE|CREAT|TRUNC; a resume: WRITE only, onto the object that is there.
      const s = await session()
      const handle = await on<Buffer>(s, what, (cb) => s.sftp.open(at(name), offset === 0 ? 'w' : 0x02, cb))
      try {
        if (offset > 0) {
          const st = await on<Stats>(s, what, (cb) => s.sftp.fstat(handle, cb))
          if (st.size !== offset) {
            throw new RemoteError('BT_REMOTE_PROTOCOL', `${what} at ${display}: cannot resume at byte ${offset}: the server holds ${st.size} bytes`, { retryable: true })
          }
        }
        await writeAll(s, handle, data, offset, t, who).catch((err: unknown) => writeFailed(err, what))
        if (hasExtension(s, 'fsync@openssh.com')) {
          await on<void>(s, what, (cb) => s.sftp.ext_openssh_fsync(handle, cb)).catch((err: unknown) => writeFailed(err, what))
        }
      } catch (err) {
        if (!s.dead) {
          // The transfer already failed; a failing CLOSE would only hide why.
          await request<void>(s, t, who, (cb) => s.sftp.close(handle, cb)).catch(() => undefined)
        }
        throw err
      }
      await on<void>(s, what, (cb) => s.sftp.close(handle, cb)).catch((err: unknown) => writeFailed(err, what))
    },

    async load(name: string, into: Writable, offset: number) {
      checkName(name)
      const what = `download ${JSON.stringify(name)}`
      const s = await session()
      const handle = await on<Buffer>(s, what, (cb) => s.sftp.open(at(name), 'r', cb))
      try {
        await readAll(s, handle, into, offset, t, who)
      } catch (err) {
        throw err instanceof RemoteError || s.dead || sftpStatus(err) !== undefined ? sftpError(err, what, display) : err
      } finally {
        if (!s.dead) {
          // Read-only handle: closing cannot lose data, and an error here must not replace the transfer's.
          await request<void>(s, t, who, (cb) => s.sftp.close(handle, cb)).catch(() => undefined)
        }
      }
    },

    async rename(from, to) {
      checkName(from)
      checkName(to)
      const what = `renaming ${JSON.stringify(from)} to ${JSON.stringify(to)}`
      // Plain SSH_FXP_RENAME: OpenSSH does link()+unlink(), so an existing
      // target makes it fail ("Failure"); posix-rename@openssh.com would replace it.
      await call<void>(what, (s, cb) => s.sftp.rename(at(from), at(to), cb)).catch(async (err: unknown) => {
        if (err instanceof RemoteError && err.code === 'BT_REMOTE_PROTOCOL' && sftpStatus(err.cause) === FX.FAILURE && (await statOf(at(to), what))) {
          throw new RemoteError('BT_REMOTE_EXISTS', `${what} at ${display}: ${JSON.stringify(to)} already exists`, { cause: err })
        }
        throw err
      })
    },

    async remove(name) {
      checkName(name)
      await call<void>(`removing ${JSON.stringify(name)}`, (s, cb) => s.sftp.unlink(at(name), cb)).catch((err: unknown) => {
        if (!(err instanceof RemoteError && err.code === 'BT_REMOTE_NOT_FOUND')) throw err
      })
    },

    async close() {
      const s = await current?.catch(() => undefined)
      current = undefined
      if (!s || s.dead) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          s.client.destroy()
          resolve()
        }, Math.min(t, 2000))
        s.client.once('close', () => {
          clearTimeout(timer)
          resolve()
        })
        s.client.end()
      })
      s.dead = true
    },
  }
  return transport

  /** A failed WRITE, fsync or CLOSE: SFTP v3 says only "Failure" for a full disk; ask statvfs. */
  async function writeFailed(err: unknown, what: string): Promise<never> {
    const mapped = sftpError(err, what, display)
    if (mapped.retryable || sftpStatus(err instanceof RemoteError ? err.cause : err) !== FX.FAILURE) throw mapped
    const free = await freeBytes().catch(() => undefined)
    const detail = free !== undefined && free < IN_FLIGHT
      ? `the disk is full (${free} bytes free)`
      : 'the server said only "Failure", which for a write means the disk is full, over quota or failing'
    throw new RemoteError('BT_REMOTE_FULL', `${what} at ${display}: ${detail}`, { cause: err })
  }
  async function freeBytes(): Promise<number | undefined> {
    const s = await session()
    if (!hasExtension(s, 'statvfs@openssh.com')) return undefined
    const v = await request<{ bavail: number; frsize: number }>(s, t, who, (cb) => s.sftp.ext_openssh_statvfs(dir === '' ? '.' : dir, cb))
    return v.bavail * v.frsize
  }
  function pathHint(err: unknown): unknown {
    if (!(err instanceof RemoteError) || !dir.startsWith('/') || !['BT_REMOTE_NOT_FOUND', 'BT_REMOTE_PERM'].includes(err.code)) return err
    return new RemoteError(err.code, err.message, { cause: err.cause, hints: [`sftp:// paths are absolute: for a directory under the login directory write sftp://${target.user}@${target.host}${port === 22 ? '' : `:${port}`}/~${dir}`] })
  }
}

function hasExtension(s: Session, name: string): boolean {
  const ext = (s.sftp as unknown as { _extensions?: Record<string, string> })._extensions
  return ext?.[name] !== undefined
}

function object(name: string, st: Stats): RemoteObject {
  return { name, size: st.size, ...(st.mtime ? { mtime: new Date(st.mtime * 1000) } : {}) }
}

function checkName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0') || name.startsWith('-')) {
    throw new UsageError(`invalid remote object name ${JSON.stringify(name)}`, 'a name is one plain file name, without "/" and not starting with "-"')
  }
}
