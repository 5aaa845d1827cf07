// One SSH connection with its SFTP channel: authenticate (agent, then the
// keys, then the password, as ssh does), check the host key, and keep watch
// on the link (keepalives) so a dead peer fails instead of hanging.
import ssh2 from 'ssh2'
import { type Client as ClientType, type SFTPWrapper, type AuthenticationType, type ParsedKey } from 'ssh2'
import { RemoteError } from '../errors.js'
import { connectionError } from './sftp-errors.js'
import { type Trust } from './sftp-trust.js'

const { Client, utils } = ssh2

export interface Session {
  client: ClientType
  sftp: SFTPWrapper
  /** Set once the connection is gone; every later request fails as dropped. */
  dead: boolean
  /** Why it went, when ssh2 said. */
  lastError?: unknown
}

export interface Credentials {
  user: string
  agent?: string
  identities?: Buffer[]
  passphrase?: string
  password?: string
}

export interface Endpoint {
  host: string
  port: number
  /** user@host[:port], for messages. */
  who: string
  timeoutMs: number
}

type Method = { type: 'agent'; username: string; agent: string } | { type: 'publickey'; username: string; key: ParsedKey } | { type: 'password'; username: string; password: string }

/**
 * Parses the private keys once; fails clearly on one it cannot use (encrypted
 * without a passphrase, wrong passphrase, unknown format) rather than trying
 * the others silently and reporting a puzzling "authentication failed".
 */
export function authMethods(c: Credentials, who: string): Method[] {
  const methods: Method[] = []
  if (c.agent) methods.push({ type: 'agent', username: c.user, agent: c.agent })
  ;(c.identities ?? []).forEach((buf, i) => {
    const parsed = utils.parseKey(buf, c.passphrase)
    const key = Array.isArray(parsed) ? parsed[0] : parsed
    if (key instanceof Error || !key.isPrivateKey()) {
      const encrypted = key instanceof Error && /encrypted|passphrase/i.test(key.message)
      const detail = !encrypted ? 'is not a private key backtory can read (OpenSSH, PEM or PPK format)'
        : c.passphrase === undefined ? 'is encrypted and no passphrase was given' : 'cannot be decrypted with the passphrase given'
      throw new RemoteError('BT_REMOTE_AUTH', `${who}: SSH identity #${i + 1} ${detail}`,
        { hints: encrypted ? ['set BT_SSH_PASSPHRASE to its passphrase, or load it into ssh-agent (ssh-add) and set SSH_AUTH_SOCK'] : [] })
    }
    methods.push({ type: 'publickey', username: c.user, key })
  })
  if (c.password !== undefined) methods.push({ type: 'password', username: c.user, password: c.password })
  if (methods.length === 0) {
    throw new RemoteError('BT_REMOTE_AUTH', `${who}: no way to log in: no SSH agent, identity or password`,
      { hints: ['give a key with --identity, or run ssh-agent (SSH_AUTH_SOCK)'] })
  }
  return methods
}

/** Connects, authenticates and opens the SFTP subsystem, all within e.timeoutMs each. */
export function connect(e: Endpoint, methods: Method[], trust: Trust): Promise<Session> {
  return new Promise((resolve, reject) => {
    const client = new Client()
    const queue = [...methods]
    let settled = false
    let session: Session | undefined
    let timer: NodeJS.Timeout | undefined
    trust.refusal = undefined
    const fail = (err: unknown): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      client.end()
      client.destroy()
      reject(trust.refusal ?? connectionError(err, e.who))
    }
    client.on('error', (err: Error & { level?: string }) => {
      if (session) {
        session.lastError ??= err
        return
      }
      // ssh2 reports an unusable agent or key and goes on to the next method.
      if (err.level === 'agent' || (err.level === 'client-authentication' && !/All configured/.test(err.message))) return
      fail(err)
    })
    client.on('close', () => {
      if (session) session.dead = true
      else fail(Object.assign(new Error('the server closed the connection during the SSH handshake'), { level: 'client-socket' }))
    })
    client.on('ready', () => {
      // Pipelined READ requests are small packets: Nagle would hold each one
      // for the ACK of the last and cut download throughput several-fold.
      client.setNoDelay(true)
      // readyTimeout covered TCP, handshake and authentication; this is for the SFTP channel.
      timer = setTimeout(() => fail(Object.assign(new Error('no answer to the SFTP request'), { level: 'client-timeout' })), e.timeoutMs)
      client.sftp((err, sftp) => {
        clearTimeout(timer)
        if (settled) return
        if (err) {
          fail(new RemoteError('BT_REMOTE_PROTOCOL', `${e.who}: the server refused the SFTP subsystem: ${err.message}`, { cause: err }))
          return
        }
        settled = true
        session = { client, sftp, dead: false }
        sftp.on('close', () => {
          if (session) session.dead = true
        })
        resolve(session)
      })
    })
    const keepalive = Math.max(1000, Math.min(15000, Math.floor(e.timeoutMs / 4)))
    client.connect({
      host: e.host,
      port: e.port,
      username: methods[0].username,
      readyTimeout: e.timeoutMs,
      keepaliveInterval: keepalive,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: trust.algorithms as never },
      hostVerifier: (key: Buffer) => trust.verify(key),
      authHandler: (left: AuthenticationType[] | null, _partial: boolean | null, next: (m: unknown) => void) => {
        let m = queue.shift()
        while (m && left && !left.includes(m.type === 'agent' ? 'publickey' : m.type)) m = queue.shift()
        next(m ?? false)
      },
    } as never)
  })
}
