// The embedded default: `backtory backup DIR` with no config. Everything
// lives under DATA/default/ (backtory.conf(5) FILES): a local file:// store,
// the host's signing key, an admin key pair made on the first run (whose
// private half must then leave the host), and one state per directory. The
// set is named after the directory; another directory of the same name gets
// a suffix from its path, so two never share a state or a name in the store.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { basename, relative, resolve } from 'node:path'
import { type SetConfig } from './set.js'
import { dataDir, type Where } from './where.js'

export interface DefaultSet {
  set: SetConfig
  /** DATA/default: keys and store. */
  home: string
  /** The run lock's directory and the file naming the directory backed up. */
  dir: string
  /** Key pairs that do not exist yet: PREFIX and bt-keygen --type. */
  missingKeys: Array<{ prefix: string; type: 'ed25519' | 'rsa' }>
}

function setName(abs: string, home: string): string {
  const base = (basename(abs).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[._-]+/, '') || 'root').slice(0, 40)
  const owner = `${home}/dirs/${base}/source`
  const taken = existsSync(owner) && readFileSync(owner, 'utf8').trim() !== abs
  return taken ? `${base}-${createHash('sha256').update(abs).digest('hex').slice(0, 8)}` : base
}

function inside(path: string, dir: string): boolean {
  const r = relative(dir, path)
  return r !== '' && !r.startsWith('..') && !r.startsWith('/')
}

export function defaultSet(directory: string, where: Where): DefaultSet {
  const abs = resolve(directory)
  const home = `${dataDir(where)}/default`
  const name = setName(abs, home)
  const dir = `${home}/dirs/${name}`
  const missingKeys: DefaultSet['missingKeys'] = []
  if (!existsSync(`${home}/host.key`)) missingKeys.push({ prefix: `${home}/host`, type: 'ed25519' })
  if (!existsSync(`${home}/admin.pub`)) missingKeys.push({ prefix: `${home}/admin`, type: 'rsa' })
  return {
    home,
    dir,
    missingKeys,
    set: {
      name,
      file: `${dir}/source`,
      source: { kind: 'dir', path: abs },
      // Backing up a home directory must not back up the store inside it into itself.
      excludes: inside(home, abs) ? [`/${relative(abs, home)}/`] : [],
      oneFileSystem: false,
      actions: [],
      store: { url: `file://${home}/store/` },
      recipients: [`${home}/admin.pub`],
      signKey: `${home}/host.key`,
      verifyKey: `${home}/host.pub`,
      state: `${dir}/state`,
      full: { everySeconds: 7 * 86400 },
      keep: {},
    },
  }
}
