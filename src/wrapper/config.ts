// backtory.conf(5): one small file per set, "key = value" per line. The parser
// is strict on purpose: a typo in a backup config must stop the run that would
// otherwise back up the wrong thing, keep the wrong copies or none at all, so
// an unknown key or a bad value is an error naming the file and line.
import { readFileSync } from 'node:fs'
import { basename, dirname, isAbsolute, resolve } from 'node:path'
import { BtError, EXIT, isErrno } from '../errors.js'
import { type Action, type SetConfig, type Source } from './set.js'
import { parseDuration, parseShare, parseCount } from './values.js'
import { configDir, dataDir, type Where } from './where.js'

const SET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** Keys that may be given more than once (each adds one). */
const REPEATED = new Set(['exclude', 'recipient', 'pre', 'post', 'finally', 'capture'])
const KEYS = new Set([...REPEATED, 'name', 'source', 'recursive', 'snapshot-size', 'one-file-system', 'hook-timeout',
  'store', 'store-password-file', 'store-fingerprint', 'store-ca', 'store-identity', 'store-known-hosts',
  'sign-key', 'verify-key', 'state', 'full-every', 'full-after', 'full-share',
  'keep-fulls', 'keep-within', 'keep-daily', 'keep-weekly', 'keep-monthly', 'volume-size', 'compress', 'metrics', 'recover-script'])

/** The config file a SET argument names: a path as given, or a name looked up in the config directory. */
export function configPath(set: string, where: Where): string {
  if (set.includes('/') || set.endsWith('.conf')) return resolve(set)
  if (!SET_NAME.test(set)) {
    throw new BtError('BT_CONFIG', EXIT.USAGE, `${JSON.stringify(set)} is not a set name`,
      ['a set name is letters, digits, ".", "_" and "-", up to 64; or give the path of its config file'])
  }
  return `${configDir(where)}/${set}.conf`
}

export function loadSet(set: string, where: Where): SetConfig {
  const file = configPath(set, where)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if (isErrno(err, 'ENOENT')) {
      throw new BtError('BT_CONFIG', EXIT.USAGE, `no config for set ${JSON.stringify(set)}: ${file} does not exist`,
        [`make it with: backtory init ${set} --source DIR --store URL (see backtory.conf(5))`])
    }
    throw new BtError('BT_CONFIG', EXIT.FAILURE, `cannot read the config ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      ['check its permissions: the backup runs as the user who can read it'])
  }
  return parseConfig(text, file, where)
}

type Raw = Map<string, Array<{ value: string; line: number }>>

export function parseConfig(text: string, file: string, where: Where): SetConfig {
  const raw: Raw = new Map()
  const bad = (line: number, msg: string, hint?: string): never => {
    throw new BtError('BT_CONFIG', EXIT.USAGE, `${file}${line > 0 ? `:${line}` : ''}: ${msg}`, [hint ?? 'see backtory.conf(5)'])
  }
  for (const [i, full] of text.split('\n').entries()) {
    const line = full.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-z][a-z-]*)\s*=\s*(.*)$/.exec(line)
    if (!m) bad(i + 1, `${JSON.stringify(line)} is not "key = value"`)
    const [, key, value] = m!
    if (!KEYS.has(key!)) bad(i + 1, `unknown key ${JSON.stringify(key)}`, `the keys are ${[...KEYS].sort().join(', ')}`)
    if (value === '') bad(i + 1, `${key} has no value`)
    const list = raw.get(key!) ?? []
    if (list.length > 0 && !REPEATED.has(key!)) bad(i + 1, `${key} is given twice (first on line ${list[0]!.line})`)
    list.push({ value: value!, line: i + 1 })
    raw.set(key!, list)
  }
  const one = (key: string) => raw.get(key)?.[0]
  const all = (key: string) => raw.get(key) ?? []
  const dir = dirname(file)
  const path = (e: { value: string }) => (isAbsolute(e.value) ? e.value : resolve(dir, e.value))
  const value = <T>(key: string, parse: (v: string) => T | undefined, what: string): T | undefined => {
    const e = one(key)
    if (e === undefined) return undefined
    const v = parse(e.value)
    if (v === undefined) bad(e.line, `${key} = ${e.value}: ${what}`)
    return v
  }
  const yesNo = (v: string) => (v === 'yes' ? true : v === 'no' ? false : undefined)
  const need = (key: string) => one(key) ?? bad(0, `${key} is missing`, `every set needs ${key} (see backtory.conf(5))`)

  const name = one('name')?.value ?? basename(file).replace(/\.conf$/, '')
  if (!SET_NAME.test(name)) bad(one('name')?.line ?? 0, `the set name ${JSON.stringify(name)} is not letters, digits, ".", "_" and "-"`)
  const source = parseSource(need('source'), path, bad)
  if (source.kind === 'zfs') source.recursive = value('recursive', yesNo, 'say yes or no') ?? false
  else if (one('recursive')) bad(one('recursive')!.line, 'recursive applies to a zfs source only')
  if (source.kind === 'lvm') source.snapshotSize = need('snapshot-size').value
  else if (one('snapshot-size')) bad(one('snapshot-size')!.line, 'snapshot-size applies to an lvm source only')

  const actions: Action[] = []
  for (const kind of ['pre', 'post', 'finally', 'capture'] as const) {
    for (const e of all(kind)) {
      if (kind !== 'capture') {
        actions.push({ kind, command: e.value })
        continue
      }
      const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*=\s*(.+)$/.exec(e.value)
      if (!m) bad(e.line, `capture = ${e.value}: write it as NAME = COMMAND`)
      actions.push({ kind, name: m![1], command: m![2]! })
    }
  }
  const store = need('store')
  if (!/^(file|ftp|ftps|sftp|s3):\/\//.test(store.value)) {
    bad(store.line, `store = ${store.value}: not a URL the transports know`, 'use file://, ftp://, ftps://, sftp:// or s3://')
  }
  if (/^[a-z0-9]+:\/\/[^/@]*:[^/@]*@/.test(store.value)) {
    bad(store.line, 'store holds a password', 'put it in a file named by store-password-file instead, readable by root only')
  }
  const recipients = all('recipient').map(path)
  if (recipients.length === 0) bad(0, 'no recipient', 'name the admin\'s public key: recipient = admin.pub (backtory init makes one)')
  const signKey = path(need('sign-key'))
  const verify = one('verify-key')
  return {
    name,
    file,
    source,
    excludes: all('exclude').map((e) => e.value),
    oneFileSystem: value('one-file-system', yesNo, 'say yes or no') ?? false,
    actions,
    hookTimeout: value('hook-timeout', parseDuration, 'give a duration such as 300s or 10m'),
    store: {
      url: store.value,
      passwordFile: one('store-password-file') && path(one('store-password-file')!),
      fingerprint: one('store-fingerprint')?.value,
      ca: one('store-ca') && path(one('store-ca')!),
      identity: one('store-identity') && path(one('store-identity')!),
      knownHosts: one('store-known-hosts') && path(one('store-known-hosts')!),
    },
    recipients,
    signKey,
    verifyKey: verify ? path(verify) : signKey.replace(/(\.key)?$/, '.pub'),
    state: one('state') ? path(one('state')!) : `${dataDir(where)}/${name}/state`,
    full: {
      everySeconds: value('full-every', parseDuration, 'give a duration such as 7d'),
      afterDiffs: value('full-after', parseCount, 'give a whole number of differentials'),
      diffShare: value('full-share', parseShare, 'give a share of the full such as 50%'),
    },
    keep: {
      lastFulls: value('keep-fulls', parseCount, 'give a whole number'),
      withinSeconds: value('keep-within', parseDuration, 'give a duration such as 30d'),
      daily: value('keep-daily', parseCount, 'give a whole number'),
      weekly: value('keep-weekly', parseCount, 'give a whole number'),
      monthly: value('keep-monthly', parseCount, 'give a whole number'),
    },
    volumeSize: value('volume-size', (v) => (/^\d+(\.\d+)?[kmgt]?(i?b)?$/i.test(v) ? v : undefined), 'give a size such as 1G or 512M'),
    compress: value('compress', (v) => (['zstd', 'gzip', 'none'].includes(v) ? v : undefined), 'say zstd, gzip or none'),
    metrics: one('metrics') && path(one('metrics')!),
    recoverScript: one('recover-script') && path(one('recover-script')!),
  }
}

function parseSource(e: { value: string; line: number }, path: (e: { value: string }) => string,
  bad: (line: number, msg: string, hint?: string) => never): Source {
  const m = /^(zfs|btrfs|lvm|dir):(.+)$/.exec(e.value)
  if (!m) {
    if (!isAbsolute(e.value)) bad(e.line, `source = ${e.value}: give an absolute directory, or zfs:DATASET, btrfs:SUBVOLUME, lvm:VG/LV`)
    return { kind: 'dir', path: e.value }
  }
  const [, kind, what] = m
  if (kind === 'dir') return { kind: 'dir', path: path({ value: what! }) }
  if (kind === 'zfs') return { kind: 'zfs', dataset: what!, recursive: false }
  if (kind === 'btrfs') return { kind: 'btrfs', subvolume: path({ value: what! }) }
  if (!/^[^/]+\/[^/]+$/.test(what!)) bad(e.line, `source = ${e.value}: an lvm source is lvm:VG/LV`)
  return { kind: 'lvm', volume: what! }
}
