// Whom an FTPS connection trusts. Three modes: the system CAs (default), the
// CA certificates given with --ca instead, or a pinned SHA-256 fingerprint of
// the server's own (leaf) certificate. A pin replaces the CA chain and the host
// name check: it names the one certificate to accept, which is what a
// self-signed backup server needs. The pin is checked on the control
// connection before the password is sent, and again on every data connection
// that does not resume the control connection's TLS session.
import { type ConnectionOptions, type TLSSocket } from 'node:tls'
import { isIP } from 'node:net'
import { RemoteError } from '../errors.js'

/** "sha256:AB:CD…" or "sha256:abcd…" → 64 lowercase hex digits. */
export function normalizePin(pin: string): string {
  const hex = pin.trim().replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new RemoteError('BT_REMOTE_TRUST', `the certificate fingerprint ${JSON.stringify(pin)} is not "sha256:" followed by 64 hex digits`,
      { hints: ['print it with: openssl x509 -in cert.pem -noout -fingerprint -sha256'] })
  }
  return hex
}

export function tlsOptions(host: string, ca: Buffer | undefined, pin: string | undefined): ConnectionOptions {
  const opts: ConnectionOptions = { host, minVersion: 'TLSv1.2' }
  if (!isIP(host)) opts.servername = host
  if (pin !== undefined) {
    // The pin is the whole check (see checkPin): no chain, no host name.
    opts.rejectUnauthorized = false
    opts.checkServerIdentity = () => undefined
  } else if (ca !== undefined) {
    opts.ca = ca
  }
  return opts
}

function leafFingerprint(socket: TLSSocket): string | undefined {
  const fp = socket.getPeerCertificate()?.fingerprint256
  return fp ? fp.replace(/:/g, '').toLowerCase() : undefined
}

/** Fails with BT_REMOTE_TRUST unless the peer shows the pinned certificate. */
export function checkPin(socket: TLSSocket, pin: string, where: string): void {
  const actual = leafFingerprint(socket)
  if (actual === pin) return
  // A resumed session was made with the control connection, whose certificate was checked.
  if (actual === undefined && socket.isSessionReused()) return
  throw new RemoteError('BT_REMOTE_TRUST',
    `the certificate of ${where} does not match the pinned fingerprint: expected sha256:${pin}, got ${actual ? `sha256:${actual}` : 'no certificate'}`)
}
