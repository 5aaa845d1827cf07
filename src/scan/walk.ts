// Depth-first walk of a tree in a deterministic order (names sorted bytewise),
// applying exclusions before descending. Sync syscalls on purpose: a stat walk
// is syscall-bound, and the thread-pool round trip of fs.promises would double it.
// Names are read as octets and kept whatever they are (format/fsname.ts): one
// that is not UTF-8 travels as surrogate escapes and goes back to octets
// (nameToFs) at every call.
import { type BigIntStats, lstatSync, readdirSync, readFileSync } from 'node:fs'
import { isErrno } from '../errors.js'
import { fsToName, nameToFs } from '../format/fsname.js'
import { type Excluder } from './exclude.js'
import { isRestoreObject } from '../restore/names.js'

export interface WalkItem {
  rel: string
  abs: string
  st: BigIntStats
}

export interface WalkOptions {
  exclude: Excluder
  oneFileSystem: boolean
  excludeCaches: boolean
  skip?: Set<string>
  warn(message: string): void
}

const CACHEDIR_SIGNATURE = 'Signature: 8a477f597d28d172789f06886806bc55'

function isCacheDir(abs: string): boolean {
  try {
    return readFileSync(nameToFs(`${abs}/CACHEDIR.TAG`)).subarray(0, CACHEDIR_SIGNATURE.length).toString('latin1') === CACHEDIR_SIGNATURE
  } catch {
    // No tag, or an unreadable one: either way the directory is not a marked cache.
    return false
  }
}

export function* walk(root: string, opts: WalkOptions): Generator<WalkItem> {
  const st = lstatSync(root, { bigint: true })
  yield { rel: '.', abs: root, st }
  yield* walkDir(root, '.', st.dev, opts)
}

function* walkDir(abs: string, rel: string, rootDev: bigint, opts: WalkOptions): Generator<WalkItem> {
  let raw: Buffer[]
  try {
    raw = readdirSync(nameToFs(abs), { encoding: 'buffer' })
  } catch (err) {
    if (isErrno(err, 'ENOENT')) opts.warn(`directory ${JSON.stringify(rel)} vanished during the scan`)
    else opts.warn(`cannot list directory ${JSON.stringify(rel)}: ${(err as Error).message}`)
    return
  }
  raw.sort(Buffer.compare)
  const cacheOnly = opts.excludeCaches && isCacheDir(abs)
  for (const octets of raw) {
    const name = fsToName(octets)
    const childRel = rel === '.' ? name : `${rel}/${name}`
    if (cacheOnly && name !== 'CACHEDIR.TAG') continue
    const childAbs = `${abs}/${name}`
    if (opts.skip?.has(childAbs)) continue
    // bt-restore's marker says what a restored tree holds, and its stage and
    // temporaries are what a killed restore left: none of them is part of the tree.
    // A restore target may sit anywhere in a scanned tree (a test restore into
    // /srv/check while /srv is scanned), so they are skipped at every depth.
    if (isRestoreObject(name, true)) continue
    let st: BigIntStats
    try {
      st = lstatSync(nameToFs(childAbs), { bigint: true })
    } catch (err) {
      if (isErrno(err, 'ENOENT')) opts.warn(`${JSON.stringify(childRel)} vanished during the scan`)
      else opts.warn(`cannot stat ${JSON.stringify(childRel)}: ${(err as Error).message}`)
      continue
    }
    const isDir = st.isDirectory()
    if (!opts.exclude.empty && opts.exclude.excludes(childRel, isDir)) continue
    yield { rel: childRel, abs: childAbs, st }
    // Like tar: the mount point itself is kept, what is mounted on it is not.
    if (isDir && !(opts.oneFileSystem && st.dev !== rootDev)) yield* walkDir(childAbs, childRel, rootDev, opts)
  }
}
