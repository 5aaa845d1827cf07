// file://: a directory on a local or mounted disk. Durable like the remote
// ones claim to be: data and directory entries are fsynced before a save or a
// rename resolves, so a power cut cannot leave a renamed but empty volume.
import { closeSync, fstatSync, fsyncSync, linkSync, openSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs'
import { open as openAsync } from 'node:fs/promises'
import { join } from 'node:path'
import { type Readable, type Writable } from 'node:stream'
import { IoError, RemoteError, isErrno, isSystemError } from '../errors.js'
import { type RemoteObject, type Transport } from './transport.js'
import { writeInto } from '../sys/io.js'
import { checkName } from './common.js'
import { mkdirs } from '../sys/mkdirs.js'

/** file:///PATH names the directory that holds the backups, never one backup file. */
function notADirectory(dir: string): RemoteError {
  return new RemoteError('BT_REMOTE_NOT_DIR', `${JSON.stringify(dir)} (or a parent of it) is a file, not a directory`, {
    hints: ['the URL names the directory that holds the backups (file:///DIR/); a backup\'s own name comes from its sealed header'],
  })
}

export class FileTransport implements Transport {
  readonly canResume = true
  readonly display: string

  constructor(private readonly dir: string) {
    this.display = dir
  }

  private path(name: string): string {
    return join(this.dir, checkName(name))
  }

  async prepare(): Promise<void> {
    try {
      mkdirs(this.dir)
    } catch (err) {
      if (isErrno(err, 'EEXIST', 'ENOTDIR')) throw notADirectory(this.dir)
      throw new IoError(`cannot create ${JSON.stringify(this.dir)}`, err as NodeJS.ErrnoException)
    }
  }

  async list(): Promise<RemoteObject[]> {
    let names: string[]
    try {
      names = readdirSync(this.dir)
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new RemoteError('BT_REMOTE_NOT_FOUND', `no directory ${JSON.stringify(this.dir)}`)
      if (isErrno(err, 'ENOTDIR')) throw notADirectory(this.dir)
      throw new IoError(`cannot list ${JSON.stringify(this.dir)}`, err as NodeJS.ErrnoException)
    }
    const out: RemoteObject[] = []
    for (const name of names) {
      const o = await this.stat(name)
      if (o) out.push(o)
    }
    return out
  }

  async stat(name: string): Promise<RemoteObject | undefined> {
    try {
      const st = statSync(this.path(name))
      return st.isFile() ? { name, size: st.size, mtime: st.mtime } : undefined
    } catch (err) {
      if (isErrno(err, 'ENOENT', 'ENOTDIR')) return undefined
      throw new IoError(`cannot stat ${JSON.stringify(this.path(name))}`, err as NodeJS.ErrnoException)
    }
  }

  async save(name: string, data: Readable, offset: number): Promise<void> {
    const path = this.path(name)
    let fh
    try {
      fh = await openAsync(path, offset === 0 ? 'w' : 'r+', 0o600)
    } catch (err) {
      throw new IoError(`cannot open ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
    }
    try {
      const size = (await fh.stat()).size
      if (size !== offset) throw new RemoteError('BT_REMOTE_PROTOCOL', `cannot continue ${JSON.stringify(path)} at byte ${offset}: it holds ${size} bytes`, { retryable: true })
      let at = offset
      for await (const chunk of data) {
        const b = chunk as Buffer
        for (let done = 0; done < b.length;) {
          const { bytesWritten } = await fh.write(b, done, b.length - done, at)
          done += bytesWritten
          at += bytesWritten
        }
      }
      await fh.sync()
    } catch (err) {
      if (isSystemError(err)) throw new IoError(`cannot write ${JSON.stringify(path)}`, err)
      throw err
    } finally {
      await fh.close()
    }
    this.syncDir()
  }

  async load(name: string, into: Writable, offset: number): Promise<void> {
    const path = this.path(name)
    let fh
    try {
      fh = await openAsync(path, 'r')
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new RemoteError('BT_REMOTE_NOT_FOUND', `no object ${JSON.stringify(path)}`)
      throw new IoError(`cannot open ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
    }
    try {
      for (let at = offset; ;) {
        const buf = Buffer.allocUnsafe(1 << 20)
        const { bytesRead } = await fh.read(buf, 0, buf.length, at)
        if (bytesRead === 0) break
        at += bytesRead
        await writeInto(into, buf.subarray(0, bytesRead))
      }
    } catch (err) {
      if (isSystemError(err)) throw new IoError(`cannot read ${JSON.stringify(path)}`, err)
      throw err
    } finally {
      await fh.close()
    }
  }

  async rename(from: string, to: string): Promise<void> {
    const a = this.path(from)
    const b = this.path(to)
    try {
      // link() fails with EEXIST instead of replacing: an atomic no-replace rename.
      linkSync(a, b)
      unlinkSync(a)
    } catch (err) {
      if (isErrno(err, 'EEXIST')) throw new RemoteError('BT_REMOTE_EXISTS', `${JSON.stringify(b)} already exists`)
      if (isErrno(err, 'ENOENT')) throw new RemoteError('BT_REMOTE_NOT_FOUND', `no object ${JSON.stringify(a)}`)
      if (!isErrno(err, 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV')) throw new IoError(`cannot rename ${JSON.stringify(a)}`, err as NodeJS.ErrnoException)
      // A filesystem without hard links (vfat, some FUSE mounts): check, then rename.
      if (this.existsSync(b)) throw new RemoteError('BT_REMOTE_EXISTS', `${JSON.stringify(b)} already exists`)
      try {
        renameSync(a, b)
      } catch (e) {
        throw new IoError(`cannot rename ${JSON.stringify(a)}`, e as NodeJS.ErrnoException)
      }
    }
    this.syncDir()
  }

  private existsSync(p: string): boolean {
    try {
      statSync(p)
      return true
    } catch {
      return false
    }
  }

  async remove(name: string): Promise<void> {
    try {
      unlinkSync(this.path(name))
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw new IoError(`cannot remove ${JSON.stringify(this.path(name))}`, err as NodeJS.ErrnoException)
      return
    }
    // Durable before the next removal: bt-rm removes a backup's volume 0001 first, and a crash must not keep it while losing a later one.
    this.syncDir()
  }

  async close(): Promise<void> {}

  private syncDir(): void {
    const fd = openSync(this.dir, 'r')
    try {
      if (fstatSync(fd).isDirectory()) fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  }
}
