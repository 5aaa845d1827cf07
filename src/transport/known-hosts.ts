// OpenSSH known_hosts, read the way ssh(1) reads it (sshd(8) "SSH_KNOWN_HOSTS
// FILE FORMAT"): one key per line, `[marker] hostpatterns keytype base64key
// [comment]`. Host patterns are a comma-separated list with `*`/`?` wildcards
// and `!` negation, or one hashed name `|1|base64(salt)|base64(HMAC-SHA1(salt,
// name))`. A server on a port other than 22 is written `[host]:port`, and only
// that form matches it. `@revoked` keys are refused; `@cert-authority` lines
// are kept apart: backtory does not check host certificates (it says so).
// Pure: no I/O; the caller reads the file.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'

export interface KnownHost {
  line: number
  marker?: 'revoked' | 'cert-authority'
  /** The host field as written: patterns, or one `|1|salt|hash`. */
  hosts: string
  type: string
  /** The public key blob (SSH wire format), decoded from base64. */
  key: Buffer
}

export type HostKeyVerdict =
  | { kind: 'ok'; line: number }
  /** No key is listed for this host (perhaps a CA line, which is not checked). */
  | { kind: 'unknown'; caLines: number[] }
  /** Keys are listed for this host, and the server's is not one of them. */
  | { kind: 'mismatch'; lines: number[] }
  | { kind: 'revoked'; line: number }

/** Parses the text of a known_hosts file; lines it cannot read are skipped, as ssh does. */
export function parseKnownHosts(text: string): KnownHost[] {
  const out: KnownHost[] = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/)
    if (fields[0] === '' || fields[0].startsWith('#')) return
    let marker: KnownHost['marker']
    if (fields[0].startsWith('@')) {
      const m = fields.shift()
      if (m === '@revoked') marker = 'revoked'
      else if (m === '@cert-authority') marker = 'cert-authority'
      else return
    }
    const [hosts, type, b64] = fields
    if (hosts === undefined || type === undefined || b64 === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return
    const key = Buffer.from(b64, 'base64')
    if (keyType(key) !== type) return
    out.push({ line: i + 1, ...(marker ? { marker } : {}), hosts, type, key })
  })
  return out
}

/** The name a server is filed under: `host` on port 22, `[host]:port` otherwise. */
export function hostName(host: string, port: number): string {
  const h = host.toLowerCase()
  return port === 22 ? h : `[${h}]:${port}`
}

/** Whether an entry's host field names `host:port`. */
export function hostMatches(hosts: string, host: string, port: number): boolean {
  const name = hostName(host, port)
  if (hosts.startsWith('|1|')) return hashedMatches(hosts, name)
  let positive = false
  for (const p of hosts.split(',')) {
    const negated = p.startsWith('!')
    if (!globMatches(negated ? p.slice(1) : p, name)) continue
    if (negated) return false
    positive = true
  }
  return positive
}

/** Checks the key a server presented against the entries, OpenSSH's way. */
export function checkHostKey(entries: KnownHost[], host: string, port: number, presented: Buffer): HostKeyVerdict {
  const mine = entries.filter((e) => hostMatches(e.hosts, host, port))
  const revoked = mine.find((e) => e.marker === 'revoked' && e.key.equals(presented))
  if (revoked) return { kind: 'revoked', line: revoked.line }
  const plain = mine.filter((e) => e.marker === undefined)
  const same = plain.find((e) => e.key.equals(presented))
  if (same) return { kind: 'ok', line: same.line }
  if (plain.length === 0) return { kind: 'unknown', caLines: mine.filter((e) => e.marker === 'cert-authority').map((e) => e.line) }
  return { kind: 'mismatch', lines: plain.map((e) => e.line) }
}

/** The key types listed for a host (plain entries), to offer those host-key algorithms first. */
export function knownTypes(entries: KnownHost[], host: string, port: number): string[] {
  return [...new Set(entries.filter((e) => e.marker === undefined && hostMatches(e.hosts, host, port)).map((e) => e.type))]
}

/** "SHA256:" + unpadded base64, as `ssh-keygen -l` prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`
}

/** The key type named at the start of a public key blob ("ssh-ed25519", …), or undefined. */
export function keyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined
  const n = blob.readUInt32BE(0)
  if (n === 0 || n > 64 || 4 + n > blob.length) return undefined
  return blob.toString('latin1', 4, 4 + n)
}

/** The known_hosts line for a key, as ssh-keyscan prints it. */
export function knownHostsLine(host: string, port: number, key: Buffer): string {
  return `${hostName(host, port)} ${keyType(key) ?? 'unknown'} ${key.toString('base64')}`
}

function hashedMatches(field: string, name: string): boolean {
  const parts = field.split('|')
  if (parts.length !== 4 || parts[2] === '' || parts[3] === '') return false
  const salt = Buffer.from(parts[2], 'base64')
  const want = Buffer.from(parts[3], 'base64')
  const got = createHmac('sha1', salt).update(name).digest()
  return want.length === got.length && timingSafeEqual(want, got)
}

function globMatches(pattern: string, name: string): boolean {
  const re = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  return new RegExp(`^${re}$`).test(name)
}
