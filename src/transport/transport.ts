// The one interface every storage backend implements (file://, ftp://,
// ftps://, sftp://, s3://). It is deliberately small: a flat directory of immutable
// objects. Atomicity, volumes, resumption and verification live above it
// (put.ts, get.ts), so every backend gets them the same way and one
// conformance suite (test/transport/conformance.ts) holds each to it.
import { type Readable, type Writable } from 'node:stream'
import { type S3Config } from './s3-config.js'

/** S3 Object Lock: an object that cannot be deleted or overwritten before `until`. */
export interface Retention {
  mode: 'GOVERNANCE' | 'COMPLIANCE'
  until: Date
}

export interface RemoteObject {
  /** A plain name in the target directory: never a path. */
  name: string
  size: number
  /** Last modification, when the server says; used to age out stale temporaries. */
  mtime?: Date
}

export interface Transport {
  /** The target with any password removed, for messages. */
  readonly display: string
  /**
   * Whether save() can continue an object from an offset (FTP APPE/REST,
   * SFTP write at offset, a local file). A transport that cannot restarts a
   * volume from its first byte instead.
   */
  readonly canResume: boolean

  /** Creates the target directory (and parents) when it is missing. */
  prepare(): Promise<void>
  /** The objects directly in the target directory (directories left out). */
  list(): Promise<RemoteObject[]>
  /** One object, or undefined when there is none by that name. */
  stat(name: string): Promise<RemoteObject | undefined>
  /**
   * Writes `data` to `name`. offset 0 creates or truncates it; offset > 0
   * continues an object that holds exactly `offset` bytes (resume). Resolves
   * only once the server confirmed the transfer; for file:// once the data
   * and the directory entry are on disk (fsync).
   */
  save(name: string, data: Readable, offset: number): Promise<void>
  /**
   * Copies `name` from byte `offset` into `into`. Never ends `into`: the
   * caller owns it and may resume into it after a failure.
   */
  load(name: string, into: Writable, offset: number): Promise<void>
  /**
   * Renames within the directory; replaces nothing: fails when `to` exists.
   * This is bt-put's commit step: `to` must appear whole or not at all. An
   * object store has no rename: s3.ts copies on the server, then removes `from`.
   */
  rename(from: string, to: string): Promise<void>
  /**
   * Removes `name`; no error when it is already gone. An object that the
   * store keeps locked (S3 Object Lock) fails with BtError BT_LOCKED, saying until when.
   */
  remove(name: string): Promise<void>
  /** The Object Lock retention of `name`, on a store that has one (s3://); undefined when none. */
  retention?(name: string): Promise<Retention | undefined>
  /** Drops the connection; the next call reconnects. Safe to call twice. */
  close(): Promise<void>
}

/** What every backend is opened with: the parsed target and how to reach and trust it. */
export interface TransportOptions {
  /** Per network step (connect, each command, and any transfer that stalls): milliseconds. */
  timeoutMs: number
  password?: string
  /** FTPS and s3:// over https: extra CA certificates (PEM) to trust, instead of the system's. */
  ca?: Buffer
  /**
   * A pinned server identity: FTPS certificate SHA-256 ("sha256:" + hex or
   * colon-separated hex), SFTP host key ("SHA256:" + base64, as ssh-keygen -l prints).
   */
  fingerprint?: string
  /** SFTP: private key files to try, and the known_hosts file to check the host key against. */
  identities?: Buffer[]
  knownHosts?: string
  /** SFTP: the passphrase of encrypted identities (BT_SSH_PASSPHRASE). */
  passphrase?: string
  /** SSH agent socket (SSH_AUTH_SOCK), if any. */
  agent?: string
  /** s3://: keys, region and endpoint (s3-config.ts). */
  s3?: S3Config
  /** s3://: the Object Lock retention that rename() (the commit) sets on every final object. */
  retention?: Retention
  /** Said once per run: the password would cross the network in clear (ftp://). */
  warn(message: string): void
  /** Progress and retry notices. */
  notice(message: string): void
}
