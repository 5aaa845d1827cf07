// Whether the SSH server is the one expected. Checking is mandatory: either
// a pinned fingerprint (--fingerprint SHA256:…, as `ssh-keygen -lf` prints)
// or a known_hosts file. Without either, or with an unknown host, the
// connection is refused with the server's fingerprint and the line to add.
import { readFile } from 'node:fs/promises'
import { RemoteError } from '../errors.js'
import { checkHostKey, fingerprint, keyType, knownTypes, parseKnownHosts, type KnownHost } from './known-hosts.js'

/** ssh2's host key algorithms, in its order of preference. */
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']

export interface Trust {
  /** ssh2's hostVerifier: true lets the handshake go on; false leaves `refusal` set. */
  verify(key: Buffer): boolean
  /** Why the last verify() said no. */
  refusal?: RemoteError
  /**
   * Host key algorithms to offer, those known_hosts lists for this host first
   * (as ssh does), so a server with several keys shows the one on file.
   */
  algorithms: string[]
}

export interface TrustSource {
  host: string
  port: number
  fingerprint?: string
  knownHosts?: string
  notice(message: string): void
}

/** Reads known_hosts (when given) and returns the check for one connection. */
export async function makeTrust(s: TrustSource): Promise<Trust> {
  const who = s.port === 22 ? s.host : `${s.host} port ${s.port}`
  const remedy = (key: Buffer): string[] => [
    `the server's ${keyType(key) ?? ''} host key is ${fingerprint(key)}; if that is right, pin it with --fingerprint ${fingerprint(key)}` +
      ` or add it: ssh-keyscan ${s.port === 22 ? '' : `-p ${s.port} `}${s.host} >> ${s.knownHosts ?? '~/.ssh/known_hosts'}`,
  ]
  if (s.fingerprint !== undefined) {
    const pin = normalizePin(s.fingerprint)
    const trust: Trust = {
      algorithms: HOST_KEY_ALGORITHMS,
      verify(key) {
        if (fingerprint(key) === pin) return true
        trust.refusal = new RemoteError('BT_REMOTE_TRUST',
          `${who}: HOST KEY MISMATCH: the server's host key is ${fingerprint(key)}, not the pinned ${pin}; someone may be intercepting the connection, or the server's key was replaced`)
        return false
      },
    }
    return trust
  }
  let entries: KnownHost[] = []
  if (s.knownHosts !== undefined) {
    try {
      entries = parseKnownHosts(await readFile(s.knownHosts, 'utf8'))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new RemoteError('BT_REMOTE_TRUST', `cannot read known_hosts file ${JSON.stringify(s.knownHosts)}: ${(err as Error).message}`, { cause: err })
      }
    }
  }
  const known = knownTypes(entries, s.host, s.port)
  const trust: Trust = {
    algorithms: preferred(known),
    verify(key) {
      const v = checkHostKey(entries, s.host, s.port, key)
      const file = JSON.stringify(s.knownHosts ?? '')
      if (v.kind === 'ok') return true
      if (v.kind === 'revoked') {
        trust.refusal = new RemoteError('BT_REMOTE_TRUST', `${who}: the server's host key ${fingerprint(key)} is marked @revoked in ${file} line ${v.line}`)
      } else if (v.kind === 'mismatch') {
        trust.refusal = new RemoteError('BT_REMOTE_TRUST',
          `${who}: HOST KEY MISMATCH: the server's host key ${fingerprint(key)} is not the one in ${file} (line ${v.lines.join(', ')}); someone may be intercepting the connection, or the server's key was replaced`,
          { hints: [`if the key was changed on purpose, remove the old line (ssh-keygen -R ${s.port === 22 ? s.host : `'[${s.host}]:${s.port}'`} -f ${file}) and add the new one`] })
      } else {
        if (v.caLines.length > 0) s.notice(`${file} line ${v.caLines.join(', ')}: @cert-authority lines are not used; host certificates are not checked`)
        const where = s.knownHosts === undefined ? 'no known_hosts file or fingerprint was given' : `it is not in ${file}`
        trust.refusal = new RemoteError('BT_REMOTE_TRUST', `${who}: unknown host key (${where})`, { hints: remedy(key) })
      }
      return false
    },
  }
  return trust
}

function preferred(known: string[]): string[] {
  const want = new Set(known.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t])))
  return [...HOST_KEY_ALGORITHMS.filter((a) => want.has(a)), ...HOST_KEY_ALGORITHMS.filter((a) => !want.has(a))]
}

/** Checks a --fingerprint pin's form; returns it without base64 padding. */
export function normalizePin(pin: string): string {
  const m = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(pin.trim())
  if (!m) {
    throw new RemoteError('BT_REMOTE_TRUST', `fingerprint ${JSON.stringify(pin)} is not an SSH SHA-256 fingerprint`,
      { hints: ['give it as ssh-keygen -lf prints it: SHA256: followed by 43 base64 characters'] })
  }
  return `SHA256:${m[1]}`
}
