// One error hierarchy for the whole toolkit. The CLI maps `exit` to a process
// exit code and prints `message` plus `hints`; tests match on `code`, never on text.

export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  PARTIAL: 3,
  BAD_INPUT: 4,
  INTERNAL: 70,
  SIGINT: 130,
  EPIPE: 141,
  SIGTERM: 143,
} as const

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

export class BtError extends Error {
  readonly code: string
  readonly exit: ExitCode
  readonly hints: string[]
  constructor(code: string, exit: ExitCode, message: string, hints: string[] = [], cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.code = code
    this.exit = exit
    this.hints = hints
  }
}

export class UsageError extends BtError {
  constructor(message: string, ...hints: string[]) {
    super('BT_USAGE', EXIT.USAGE, message, hints)
  }
}

/** The input stream is not what it claims to be: every such failure exits 4. */
export class InputError extends BtError {
  constructor(code: string, message: string, ...hints: string[]) {
    super(code, EXIT.BAD_INPUT, message, hints)
  }
}

export class NotAStreamError extends InputError {
  constructor(detail: string) {
    super('BT_NOT_STREAM', `input is not a backtory stream (${detail})`,
      'did you pipe a plain tar or a sealed archive? make the stream with bt-scan (or open it with bt-open)')
  }
}

export class TruncatedStreamError extends InputError {
  constructor(detail: string) {
    super('BT_TRUNCATED', `stream is truncated: ${detail}`,
      'the stage that produced it probably failed; look for its error above, and do not trust this copy')
  }
}

export class TrailingDataError extends InputError {
  constructor(detail: string) {
    super('BT_TRAILING', `data after the end of the stream: ${detail}`,
      'two streams were concatenated or the file was appended to; the stream itself is intact up to its trailer')
  }
}

export class DigestMismatchError extends InputError {
  constructor(where: Place) {
    super('BT_DIGEST', `stream is corrupt: chain digest mismatch at ${where}`,
      'a byte changed in storage or in transit; fetch the archive again or restore from another copy')
  }
}

export class VersionError extends InputError {
  constructor(version: string) {
    super('BT_VERSION', `unsupported stream version ${JSON.stringify(version)} (this backtory reads versions 1 and 2)`,
      'the stream was written by a newer backtory; restore with that version')
  }
}

export class FrameSizeError extends InputError {
  constructor(what: string, size: number, limit: number, unit = 'bytes') {
    super('BT_FRAME_SIZE', `${what} of ${size} ${unit} exceeds the limit of ${limit} ${unit}`,
      'the stream is corrupt or hostile; if it is genuine, raise the limit with BT_MAX_HEADER')
  }
}

/**
 * Where in a stream a frame lies, for messages: a string, or an object whose
 * toString makes it, so that a reader builds the text only when it fails.
 */
export type Place = string | { toString(): string }

export class FrameError extends InputError {
  constructor(where: Place, detail: string) {
    super('BT_FRAME', `malformed frame at ${where}: ${detail}`,
      'the stream is corrupt; fetch it again or restore from another copy')
  }
}

export class UnsafePathError extends InputError {
  constructor(path: string, detail: string) {
    super('BT_UNSAFE_PATH', `refusing entry ${JSON.stringify(path)}: ${detail}`,
      'the archive is hostile or corrupt; nothing was written outside the target directory')
  }
}

const ioHints: Record<string, string> = {
  ENOSPC: 'the filesystem is full: free space (df -h) and run again',
  EDQUOT: 'the disk quota is exhausted: raise it or free space and run again',
  EACCES: 'check the permissions, or run as a user who may read and write there',
  EPERM: 'the operation needs more privilege: run as root (bt-restore: --no-same-owner skips owners)',
  EROFS: 'the filesystem is mounted read-only',
  ENOENT: 'check the path',
  EISDIR: 'a directory was given where a file belongs: name the file itself',
  ENOTDIR: 'a file stands where a directory belongs: check the path',
  EEXIST: 'something already exists by that name: remove it or choose another name',
  ENAMETOOLONG: 'the path is longer than the filesystem allows: choose a shorter one',
  ELOOP: 'the path runs through a symlink loop: check the symlinks on the way',
  EMFILE: 'too many open files: raise the limit (ulimit -n) and run again',
}

/** Plain words for the errnos a user meets, instead of libuv's ("illegal operation on a directory"). */
const ioWords: Record<string, string> = {
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ENOENT: 'no such file or directory',
  EEXIST: 'already exists',
  EACCES: 'permission denied',
}

/** An operating-system failure, with the path it concerns and a remedy when one is known. */
export class IoError extends BtError {
  constructor(what: string, cause: NodeJS.ErrnoException, ...hints: string[]) {
    const errno = cause.code ?? 'EIO'
    const hint = ioHints[errno]
    super(`BT_IO_${errno}`, EXIT.FAILURE, `${what}: ${describeErrno(cause)}`, [...hints, ...(hint ? [hint] : [])], cause)
  }
}

export function describeErrno(err: NodeJS.ErrnoException): string {
  const words = err.code === undefined ? undefined : ioWords[err.code]
  if (words) return `${words} (${err.code})`
  const m = /^[A-Z]+: ([^,]+)/.exec(err.message)
  return m ? `${m[1]} (${err.code})` : err.message
}

/**
 * A system error that reached the top without a context of its own, made
 * into an IoError naming what it was doing and where ("cannot open "x"").
 */
export function fromSystemError(err: NodeJS.ErrnoException, what?: string): IoError {
  const verbs: Record<string, string> = { open: 'open', read: 'read', write: 'write', mkdir: 'create directory', rename: 'rename',
    unlink: 'remove', stat: 'examine', lstat: 'examine', scandir: 'list', opendir: 'list', rmdir: 'remove directory', fsync: 'sync' }
  const verb = err.syscall === undefined ? 'access' : verbs[err.syscall] ?? err.syscall
  const where = err.path !== undefined ? ` ${JSON.stringify(err.path)}` : what !== undefined ? ` ${what}` : ''
  return new IoError(`cannot ${verb}${where}`, err)
}

/** An error from the operating system: it has an errno code (EACCES, ENOSPC, …), not one of backtory's BT_* codes. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return err instanceof Error && /^E[A-Z0-9]+$/.test(String((err as NodeJS.ErrnoException).code ?? ''))
}

export function isErrno(err: unknown, ...codes: string[]): err is NodeJS.ErrnoException {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' &&
    codes.includes((err as NodeJS.ErrnoException).code as string)
}

// ---- sealed archives (bt-seal, bt-open, bt-keygen; backtory-seal(5)) ----

/** A key file that cannot serve: not PEM, wrong type, too small, encrypted without a passphrase. */
export class KeyError extends BtError {
  constructor(path: string, detail: string, ...hints: string[]) {
    super('BT_KEY', EXIT.USAGE, `key ${JSON.stringify(path)}: ${detail}`, hints)
  }
}

export class NotSealedError extends InputError {
  constructor(detail: string) {
    super('BT_NOT_SEALED', `input is not a sealed backtory archive (${detail})`,
      'did you pipe a plain stream? bt-open reads what bt-seal writes; bt-ls and bt-restore read streams directly')
  }
}

export class SealHeaderError extends InputError {
  constructor(detail: string) {
    super('BT_SEAL_HEADER', `malformed sealed header: ${detail}`,
      'the archive is corrupt or was not written by bt-seal; fetch it again or use another copy')
  }
}

export class NotRecipientError extends InputError {
  constructor(detail: string, recipients: string[]) {
    super('BT_NOT_RECIPIENT', `archive is not encrypted to ${detail}`,
      recipients.length ? `it is encrypted to ${recipients.join(', ')}; use the private key of one of these` :
        'it was sealed with a passphrase: use --passphrase-file')
  }
}

export class PassphraseError extends InputError {
  constructor() {
    super('BT_PASSPHRASE', 'wrong passphrase (the data key did not authenticate)',
      'check the passphrase file: its first line, without the newline, is the passphrase')
  }
}

export class UnknownSignerError extends InputError {
  constructor(signer: string, known: string[]) {
    super('BT_UNKNOWN_SIGNER', `archive is signed by ${signer}, which is not a --verify key` +
      (known.length ? ` (given: ${known.join(', ')})` : ' (none given)'),
      'give the signing host\'s public key with --verify HOST.pub (bt-open only: --no-verify opens it unauthenticated)')
  }
}

export class BadSignatureError extends InputError {
  constructor(what: string) {
    super('BT_BAD_SIGNATURE', `bad signature on the ${what}`,
      'the archive was changed after it was sealed, or forged; do not trust it and restore from another copy')
  }
}

export class ChunkAuthError extends InputError {
  constructor(detail: string) {
    super('BT_CHUNK_AUTH', detail,
      'the archive was changed in storage or in transit; fetch it again or restore from another copy')
  }
}

export class SealTruncatedError extends InputError {
  constructor(detail: string) {
    super('BT_SEAL_TRUNCATED', `sealed archive is truncated: ${detail}`,
      'the upload or download was cut short, or bt-seal failed; fetch it again or use another copy')
  }
}

export class SealTrailingError extends InputError {
  constructor(detail: string) {
    super('BT_SEAL_TRAILING', `data after the end of the sealed archive: ${detail}`,
      'something was appended to the file; the archive before it may be intact: cut it at its trailer')
  }
}

export class SealPayloadError extends InputError {
  constructor(detail: string) {
    super('BT_SEAL_PAYLOAD', `the authenticated payload is damaged: ${detail}`,
      'the archive was sealed this way by its signer (a bug or a hostile signer); restore from another copy')
  }
}

// ---- remote storage (bt-put, bt-get, bt-ls URL; src/transport) ----

const remoteHints: Record<string, string> = {
  BT_REMOTE_AUTH: 'check the user name and the password (~/.netrc, --password-file or BT_PASSWORD) or the SSH key (--identity)',
  BT_REMOTE_CONNECT: 'check the host name, the port and the network; the run can simply be repeated',
  BT_REMOTE_TIMEOUT: 'the server stopped answering; raise --timeout on a slow link, or run again',
  BT_REMOTE_TRUST: 'the server is not the one expected: check --ca / --fingerprint / known_hosts before trusting it',
  BT_REMOTE_FULL: 'the backup space is full or over quota: remove old backups or raise the quota',
  BT_REMOTE_NOT_FOUND: 'list what is there with bt-ls URL',
  BT_REMOTE_PERM: 'the account may not do this there: check the directory and its permissions on the server',
  BT_REMOTE_PROTOCOL: 'the server answered something backtory does not understand; try another server or report it',
  BT_REMOTE_EXISTS: 'a backup by that name is already stored; backups are immutable',
  BT_REMOTE_DROPPED: 'the connection kept dropping; the run can be repeated (nothing was made final)',
}

/**
 * A failure talking to the backup space. `retryable` says whether the retry
 * wrapper may try again after reconnecting (a dropped connection, a timeout),
 * or must give up at once (a wrong password, a full disk, an untrusted server).
 */
export class RemoteError extends BtError {
  readonly retryable: boolean
  constructor(code: keyof typeof remoteHints | string, message: string, opts: { retryable?: boolean; cause?: unknown; hints?: string[] } = {}) {
    const hint = remoteHints[code]
    super(code, EXIT.FAILURE, message, [...(opts.hints ?? []), ...(hint ? [hint] : [])], opts.cause)
    this.retryable = opts.retryable ?? false
  }
}
