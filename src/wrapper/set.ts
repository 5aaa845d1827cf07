// A set: one source backed up to one store under one name, as backtory.conf(5)
// describes it. This is the parsed form every subcommand works from; the
// parser (config.ts) is strict, so nothing here is a guess.

/** Where the data comes from. */
export type Source =
  | { kind: 'dir'; path: string }
  | { kind: 'zfs'; dataset: string; recursive: boolean }
  | { kind: 'btrfs'; subvolume: string }
  | { kind: 'lvm'; volume: string; snapshotSize?: string }

/** When a backup is a full instead of a differential (any rule that holds makes a full). */
export interface FullPolicy {
  /** A full when the current one is older than this many seconds. */
  everySeconds?: number
  /** A full after this many differentials against the current one. */
  afterDiffs?: number
  /** A full when the last differential's size exceeds this share (0..1) of its full's. */
  diffShare?: number
}

/** Which backups prune keeps (a backup kept by any rule stays), as restic forget counts them. */
export interface KeepRules {
  /** The newest N fulls (with their differentials). */
  lastFulls?: number
  /** Everything newer than this many seconds. */
  withinSeconds?: number
  /** The newest backup of each of the last N days, weeks (ISO, Monday), months. */
  daily?: number
  weekly?: number
  monthly?: number
}

export interface Action {
  /** pre, post and finally run a command by sh; capture adds a command's output to the stream as NAME. */
  kind: 'pre' | 'post' | 'finally' | 'capture'
  command: string
  name?: string
}

export interface SetConfig {
  /** The set's name: [A-Za-z0-9._-]+, part of every stored name. */
  name: string
  /** The config file it was read from, for messages. */
  file: string
  source: Source
  excludes: string[]
  oneFileSystem: boolean
  actions: Action[]
  /** Seconds a hook may run. */
  hookTimeout?: number
  store: {
    url: string
    passwordFile?: string
    /** FTPS certificate or SFTP host-key pin. */
    fingerprint?: string
    ca?: string
    identity?: string
    knownHosts?: string
  }
  /** Public keys the backups are sealed to (the admin's). */
  recipients: string[]
  /** The host's private signing key, and its public half for verification. */
  signKey: string
  verifyKey: string
  /** The state directory of bt-scan/bt-delta/bt-put --state. */
  state: string
  full: FullPolicy
  keep: KeepRules
  /** bt-put --volume-size, as written (e.g. "1G"). */
  volumeSize?: string
  /** bt-seal --compress, as written (e.g. "zstd", "none"). */
  compress?: string
  /** A node_exporter textfile directory: each run writes backtory_SET.prom there. */
  metrics?: string
  /**
   * Where each stored backup leaves this machine's recover.sh (bt-mkrecover(1)); with it set,
   * every backup also carries the layout it was taken from, as the capture backtory-layout.json.
   */
  recoverScript?: string
}
