// ftp:// and ftps:// storage on basic-ftp. One control connection, opened on
// first use and reopened after any failure; every call is queued so commands
// never overlap. FTPS is explicit TLS (AUTH TLS) with protected data (PROT P);
// see ftp-tls.ts for what is trusted.
//
// FTP gives no atomic no-replace rename: rename() checks that the target is
// absent (SIZE) and then renames, so another client creating the same name in
// between would be replaced. bt-put's names are unique per run, so the race
// needs two writers of one backup at once.
//
// Resumption appends (APPE) after checking that the object holds exactly
// `offset` bytes; a server that refuses APPE turns canResume off, and the
// layer above then sends the volume again from its first byte. Downloads
// resume with REST + RETR.
import { PassThrough, type Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { TLSSocket } from 'node:tls'
import { Client, FTPError, type FTPContext, type FTPResponse } from 'basic-ftp'
import { enterPassiveModeIPv6, enterPassiveModeIPv4_forceControlHostIP } from 'basic-ftp/dist/transfer.js'
import { RemoteError, UsageError } from '../errors.js'
import { checkName } from './common.js'
import { type RemoteObject, type Transport, type TransportOptions } from './transport.js'
import { ftpError, type FtpStep } from './ftp-errors.js'
import { filesOf, parseListStrict } from './ftp-list.js'
import { checkPin, normalizePin, tlsOptions } from './ftp-tls.js'
import { forwardTo, keepControlOnDataErrors, listenForReplies, upgrade, withTimeout } from './ftp-wire.js'

export interface FtpTarget {
  scheme: 'ftp' | 'ftps'
  host: string
  port?: number
  user: string
  /** The absolute directory on the server. */
  path: string
  display: string
}

/** A failure on our side of a transfer (the caller's stream): passed on unchanged. */
class Local {
  constructor(readonly err: unknown) {}
}

type Strategy = (ftp: FTPContext) => Promise<FTPResponse>

/** How long to wait for the server's reply after a data connection broke (it may say why). */
const LATE_REPLY_MS = 2000

export async function openFtp(target: FtpTarget, o: TransportOptions): Promise<Transport> {
  return new FtpTransport(target, o)
}

/** Refuses anything but a plain name in the target directory (FTP also ends a command at any control character). */
function plain(name: string): string {
  checkName(name)
  if (name.startsWith(' ') || /[\x00-\x1f\x7f]/.test(name)) throw new UsageError(`${JSON.stringify(name)} is not a plain object name`)
  return name
}

class FtpTransport implements Transport {
  readonly display: string
  private client: Client | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private strategy: Strategy | undefined
  private warned = false
  private appe = true
  private readonly pin: string | undefined
  private readonly where: string

  constructor(private readonly t: FtpTarget, private readonly o: TransportOptions) {
    this.display = t.display
    this.pin = o.fingerprint === undefined || t.scheme !== 'ftps' ? undefined : normalizePin(o.fingerprint)
    this.where = `${t.host}:${t.port ?? 21}`
  }

  get canResume(): boolean {
    return this.appe
  }

  /** Runs `fn` after every earlier call has settled. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  private step(what: string, missing: FtpStep['missing'] = 'BT_REMOTE_NOT_FOUND', upload = false): FtpStep {
    return { what: `${what} at ${this.display}`, missing, upload }
  }

  /** The logged-in client, in the target directory (made first when `make`). */
  private async conn(make = false): Promise<Client> {
    if (this.client && !this.client.closed) return this.client
    this.drop()
    const c = new Client(this.o.timeoutMs)
    this.client = c
    c.parseList = parseListStrict
    keepControlOnDataErrors(c.ftp)
    c.prepareTransfer = (ftp) => this.passive(ftp)
    try {
      await this.login(c)
    } catch (err) {
      this.drop()
      throw ftpError(err, this.step(`login as ${this.t.user}@${this.where}`))
    }
    try {
      if (make) await c.ensureDir(this.t.path)
      else await c.cd(this.t.path)
    } catch (err) {
      this.drop()
      throw ftpError(err, this.step(make ? 'creating the directory' : 'opening the directory'))
    }
    return c
  }

  private async login(c: Client): Promise<void> {
    await c.connect(this.t.host, this.t.port ?? 21)
    const tls = this.t.scheme === 'ftps'
    if (tls) {
      try {
        await c.send('AUTH TLS')
      } catch (err) {
        if (err instanceof FTPError) throw new RemoteError('BT_REMOTE_PROTOCOL', `the server refused TLS (AUTH TLS): ${err.message}`, { cause: err })
        throw err
      }
      c.ftp.socket = await withTimeout(upgrade(c.ftp.socket, tlsOptions(this.t.host, this.o.ca, this.pin)), this.o.timeoutMs, 'TLS handshake')
      c.ftp.tlsOptions = tlsOptions(this.t.host, this.o.ca, this.pin)
      if (this.pin) checkPin(c.ftp.socket as TLSSocket, this.pin, this.where)
    } else if (!this.warned) {
      this.warned = true
      this.o.warn(`${this.display}: plain FTP sends the password in clear (the archives themselves are encrypted); use ftps:// when the server offers it`)
    }
    await c.login(this.t.user, this.o.password ?? '')
    const features = await c.features()
    c.availableListCommands = features.has('MLST') ? ['MLSD', 'LIST -a', 'LIST'] : ['LIST -a', 'LIST']
    await c.send('TYPE I')
    await c.sendIgnoringError('STRU F')
    if (features.has('MLST')) await c.sendIgnoringError('OPTS MLST type;size;modify;')
    if (tls) {
      await c.send('PBSZ 0')
      await c.send('PROT P') // refused: fail rather than send data in clear
    }
  }

  /** Passive mode (EPSV, then PASV to the control host only), with the data connection's TLS checked. */
  private async passive(ftp: FTPContext): Promise<FTPResponse> {
    const candidates = this.strategy ? [this.strategy] : [enterPassiveModeIPv6, enterPassiveModeIPv4_forceControlHostIP]
    let last: unknown
    for (const s of candidates) {
      try {
        const res = await s(ftp)
        this.strategy = s
        this.guardData(ftp)
        return res
      } catch (err) {
        last = err
        if (ftp.closed) break
      }
    }
    throw last
  }

  private guardData(ftp: FTPContext): void {
    if (this.t.scheme !== 'ftps') return
    const ds = ftp.dataSocket
    if (!(ds instanceof TLSSocket)) throw new RemoteError('BT_REMOTE_PROTOCOL', `${this.display}: the data connection is not protected by TLS`)
    const pin = this.pin
    if (pin) {
      ds.once('secureConnect', () => {
        try {
          checkPin(ds, pin, `${this.where} (data connection)`)
        } catch (err) {
          ds.destroy(err as Error)
        }
      })
    }
  }

  private drop(): void {
    const c = this.client
    this.client = undefined
    if (c && !c.closed) c.close()
  }

  /** Runs one step on a connected client; any failure drops the connection and maps the error. */
  private async on<T>(step: FtpStep, fn: (c: Client) => Promise<T>, make = false): Promise<T> {
    const c = await this.conn(make)
    try {
      return await fn(c)
    } catch (err) {
      if (err instanceof Local) throw err.err
      // A server reply or our own verdict leaves the session usable; nothing else does.
      if (!(err instanceof FTPError) && !(err instanceof RemoteError)) this.drop()
      throw ftpError(err, step)
    }
  }

  prepare(): Promise<void> {
    return this.serial(async () => {
      this.drop()
      await this.conn(true)
    })
  }

  list(): Promise<RemoteObject[]> {
    return this.serial(() => this.on(this.step('listing the directory'), async (c) => filesOf(await c.list())))
  }

  async stat(name: string): Promise<RemoteObject | undefined> {
    plain(name)
    return this.serial(() => this.on(this.step(`stat of "${name}"`), (c) => this.statOn(c, name)))
  }

  private async statOn(c: Client, name: string): Promise<RemoteObject | undefined> {
    const res = await c.sendIgnoringError(`SIZE ${name}`)
    if (res.code === 550) return undefined
    if (res.code === 213 && /^213 \d+\s*$/.test(res.message)) {
      const mdtm = await c.sendIgnoringError(`MDTM ${name}`)
      const m = /^213 (\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)/.exec(mdtm.message)
      const mtime = m ? new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)) : undefined
      return { name, size: Number(res.message.slice(4).trim()), ...(mtime ? { mtime } : {}) }
    }
    // No SIZE (or not for this name): the listing tells.
    return filesOf(await c.list()).find((f) => f.name === name)
  }

  async save(name: string, data: Readable, offset: number): Promise<void> {
    plain(name)
    return this.saveOnce(name, data, offset)
  }

  private saveOnce(name: string, data: Readable, offset: number): Promise<void> {
    return this.serial(() => this.on(this.step(`upload of "${name}"`, 'BT_REMOTE_PERM', true), async (c) => {
      if (offset > 0) {
        const have = await this.statOn(c, name)
        if (have?.size !== offset) {
          throw new RemoteError('BT_REMOTE_PROTOCOL', `cannot resume "${name}" at ${this.display}: it holds ${have ? `${have.size} bytes` : 'nothing'}, not ${offset}`, { retryable: true })
        }
      }
      // A stream between the caller's and basic-ftp's, whose failures are ours to shape (below).
      const relay = new PassThrough({ highWaterMark: 1 << 20 })
      // The caller's stream failing is its own error, not the server's (reported as is).
      // Whichever of the source and the upload fails first is the cause.
      let sourceError: unknown
      let first: 'source' | 'upload' | undefined
      data.on('error', (err: unknown) => {
        first ??= 'source'
        if (first === 'source') sourceError ??= err
      })
      // basic-ftp closes the whole session when the stream it uploads from fails, and
      // its pipeline fails that stream whenever the data connection breaks: the
      // server's late reply (451 on a full disk) would then be lost with the session.
      // So the relay is destroyed without an error: the upload then fails with the
      // data connection's own error (or a premature close when the source failed),
      // and the control connection stays open for that reply.
      const destroy = relay.destroy.bind(relay)
      relay.destroy = (_err?: Error) => destroy()
      relay.on('close', () => { first ??= 'upload' })
      relay.on('error', () => { first ??= 'upload' })
      const feed = pipeline(data, relay).catch(() => undefined)
      const replies = listenForReplies(c)
      try {
        if (offset > 0) await c.appendFrom(relay, name)
        else await c.uploadFrom(relay, name)
      } catch (err) {
        first ??= 'upload'
        relay.destroy()
        await feed
        if (sourceError !== undefined) {
          this.drop()
          throw new Local(sourceError)
        }
        if (offset > 0 && err instanceof FTPError && [500, 502, 504].includes(err.code)) {
          this.appe = false
          throw new RemoteError('BT_REMOTE_PROTOCOL', `the server at ${this.display} cannot append (APPE): ${err.message}; volumes will be sent again from their start`, { retryable: true, cause: err })
        }
        // A broken data connection may be followed by the server's reason (a full disk says 451).
        const late = err instanceof FTPError ? undefined : await replies.final(Math.min(LATE_REPLY_MS, this.o.timeoutMs))
        this.drop() // any reply still on its way must not answer a later command
        throw late ?? err
      } finally {
        replies.stop()
      }
      await feed
      // What the server holds is checked above this layer, for every transport (put.ts).
      if (sourceError !== undefined) throw new Local(sourceError)
    }))
  }

  async load(name: string, into: Writable, offset: number): Promise<void> {
    plain(name)
    return this.serial(() => this.on(this.step(`download of "${name}"`), async (c) => {
      let intoError: Error | undefined
      const sink = forwardTo(into, (err) => { intoError = err })
      try {
        await c.downloadTo(sink, name, offset)
      } catch (err) {
        this.drop()
        if (intoError) throw new Local(intoError)
        throw err
      }
      try {
        await sink.flushed()
      } catch (err) {
        throw new Local(err)
      }
    }))
  }

  async rename(from: string, to: string): Promise<void> {
    plain(from)
    plain(to)
    return this.serial(() => this.on(this.step(`rename of "${from}" to "${to}"`), async (c) => {
      if (await this.statOn(c, to)) {
        throw new RemoteError('BT_REMOTE_EXISTS', `cannot rename "${from}" to "${to}" at ${this.display}: "${to}" already exists`)
      }
      await c.rename(from, to)
    }))
  }

  async remove(name: string): Promise<void> {
    plain(name)
    return this.serial(() => this.on(this.step(`removal of "${name}"`, 'BT_REMOTE_PERM'), async (c) => {
      const res = await c.sendIgnoringError(`DELE ${name}`)
      if (res.code < 400) return
      if (res.code === 550 && (await this.statOn(c, name)) === undefined) return
      throw new FTPError(res)
    }))
  }

  async close(): Promise<void> {
    this.drop()
  }
}
