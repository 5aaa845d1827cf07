// Builds a tree that exercises every file type and piece of metadata, and
// compares two trees field by field (content, stat, xattrs, links, holes).
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import {
  chmodSync, closeSync, lchownSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync,
  symlinkSync, writeFileSync, writeSync, type BigIntStats,
} from 'node:fs'
import { sys } from '../src/sys/native.js'

export interface TreeOptions {
  root: boolean
}

/** Populates `dir` (which must exist and be empty). Root-only parts are skipped otherwise. */
export function buildTree(dir: string, o: TreeOptions = { root: true }): void {
  const p = (rel: string) => `${dir}/${rel}`
  writeFileSync(p('empty'), '')
  writeFileSync(p('hello.txt'), 'hello, world\n')
  mkdirSync(p('emptydir'))
  mkdirSync(p('setgid'), { mode: 0o755 })
  chmodSync(p('setgid'), 0o2775)
  mkdirSync(p('sticky'))
  chmodSync(p('sticky'), 0o1777)
  writeFileSync(p('setuid-prog'), '#!/bin/sh\n')
  chmodSync(p('setuid-prog'), 0o4755)
  writeFileSync(p('private'), 'secret\n', { mode: 0o600 })
  chmodSync(p('private'), 0o600)
  const big = Buffer.alloc(3 * 1024 * 1024 + 17)
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919 + (i >> 11)) & 0xff
  writeFileSync(p('big.bin'), big)
  linkSync(p('big.bin'), p('big-hardlink'))
  mkdirSync(p('deep/er/still/deeper'), { recursive: true })
  writeFileSync(p('deep/er/still/deeper/leaf'), 'leaf\n')
  linkSync(p('hello.txt'), p('deep/er/hello-link'))
  symlinkSync('../hello.txt', p('deep/rel-symlink'))
  symlinkSync('/nonexistent/target', p('dangling-symlink'))
  const long = `${'d'.repeat(90)}/${'e'.repeat(90)}/${'f'.repeat(120)}`
  mkdirSync(p(long.slice(0, long.lastIndexOf('/'))), { recursive: true })
  writeFileSync(p(long), 'long path\n')
  writeFileSync(p('ünïcødé ✓.txt'), 'utf-8 name\n')
  writeFileSync(p('space name'), 'x')
  sys().mkfifo(p('fifo'), 0o640)
  // Sparse: data, a hole, data, and a trailing hole.
  const fd = openSync(p('sparse.img'), 'w')
  writeSync(fd, Buffer.from('start'), 0, 5, 0)
  writeSync(fd, Buffer.alloc(8192, 0x61), 0, 8192, 40 * 1024 * 1024)
  closeSync(fd)
  execFileSync('truncate', ['-s', '100M', p('sparse.img')])
  sys().setXattr(p('hello.txt'), 'user.comment', Buffer.from('a comment'))
  sys().setXattr(p('big.bin'), 'user.binary', Buffer.from([0, 1, 2, 255, 10, 61]))
  sys().setXattr(p('emptydir'), 'user.dirattr', Buffer.from('on a directory'))
  execFileSync('setfacl', ['-m', 'u:nobody:r', p('private')])
  execFileSync('setfacl', ['-d', '-m', 'g:nogroup:rx', p('setgid')])
  if (o.root) {
    sys().mknod(p('null-dev'), 0o020666, 1, 3)
    sys().mknod(p('block-dev'), 0o060640, 7, 200)
    sys().setXattr(p('hello.txt'), 'trusted.note', Buffer.from('trusted'))
    sys().setXattr(p('hello.txt'), 'security.test', Buffer.from('sec'))
    writeFileSync(p('big-ids'), 'owned by 300000:300001\n')
    lchownSync(p('big-ids'), 300000, 300001)
    lchownSync(p('deep/rel-symlink'), 4242, 4343)
  }
  // Times last, with nanoseconds, deepest first so directory times survive.
  const times: Array<[string, number, number]> = [
    ['hello.txt', 1_600_000_000, 123_456_789], ['big.bin', 1_500_000_000, 1], ['deep/rel-symlink', 1_400_000_000, 999_999_999],
    ['deep/er/still/deeper', 1_300_000_000, 500], ['emptydir', 1_234_567_890, 987_654_321], ['.', 1_700_000_000, 42],
  ]
  for (const [rel, s, ns] of times) sys().lutimens(p(rel), s, ns, s, ns)
}

export interface Difference {
  path: string
  what: string
}

export interface CompareOptions {
  xattrs?: boolean
  owners?: boolean
  nsec?: boolean
  /** Compare sparseness (allocated blocks not larger than the source's, plus slack). */
  holes?: boolean
  /** Compare the root directory's own metadata too. */
  rootMeta?: boolean
}

function xattrsOf(abs: string): string {
  return sys().listXattr(abs).sort().map((n) => `${n}=${sys().getXattr(abs, n).toString('hex')}`).join(',')
}

function contentHash(abs: string): string {
  return createHash('sha256').update(readFileSync(abs)).digest('hex')
}

function list(dir: string, rel = '.'): string[] {
  const out = [rel]
  const abs = rel === '.' ? dir : `${dir}/${rel}`
  if (!lstatSync(abs).isDirectory()) return out
  for (const name of readdirSync(abs).sort()) {
    // bt-restore's marker, by design the one thing a restore adds to the tree.
    if (rel === '.' && name === '.backtory-restore.json') continue
    out.push(...list(dir, rel === '.' ? name : `${rel}/${name}`))
  }
  return out
}

/** Lists every difference between trees `a` and `b`; empty means equal. */
export function compareTrees(a: string, b: string, o: CompareOptions = {}): Difference[] {
  const opt = { xattrs: true, owners: true, nsec: true, holes: true, rootMeta: true, ...o }
  const diffs: Difference[] = []
  const la = list(a)
  const lb = list(b)
  const sb = new Set(lb)
  for (const p of la) if (!sb.has(p)) diffs.push({ path: p, what: 'missing in copy' })
  const sa = new Set(la)
  for (const p of lb) if (!sa.has(p)) diffs.push({ path: p, what: 'extra in copy' })
  const inodesA = new Map<bigint, string>()
  const inodesB = new Map<bigint, string>()
  for (const p of la) {
    if (!sb.has(p)) continue
    const pa = p === '.' ? a : `${a}/${p}`
    const pb = p === '.' ? b : `${b}/${p}`
    const x = lstatSync(pa, { bigint: true })
    const y = lstatSync(pb, { bigint: true })
    const d = (what: string) => diffs.push({ path: p, what })
    const typeOf = (s: BigIntStats) => Number(s.mode) & 0o170000
    if (typeOf(x) !== typeOf(y)) {
      d('type differs')
      continue
    }
    if (p === '.' && !opt.rootMeta) continue
    if (!x.isSymbolicLink() && (x.mode & 0o7777n) !== (y.mode & 0o7777n)) d(`mode ${x.mode.toString(8)} vs ${y.mode.toString(8)}`)
    if (opt.owners && (x.uid !== y.uid || x.gid !== y.gid)) d(`owner ${x.uid}:${x.gid} vs ${y.uid}:${y.gid}`)
    const mt = opt.nsec ? [x.mtimeNs, y.mtimeNs] : [x.mtimeNs / 1_000_000_000n, y.mtimeNs / 1_000_000_000n]
    if (mt[0] !== mt[1]) d(`mtime ${x.mtimeNs} vs ${y.mtimeNs}`)
    if (x.isFile()) {
      if (x.size !== y.size) d(`size ${x.size} vs ${y.size}`)
      else if (contentHash(pa) !== contentHash(pb)) d('content differs')
      if (opt.holes && y.blocks > x.blocks + 64n) d(`not sparse: ${y.blocks} blocks vs ${x.blocks}`)
      if (x.nlink > 1n) {
        // Hard-link structure: paths sharing an inode in a must share one in b.
        const fa = inodesA.get(x.ino)
        const fb = inodesB.get(y.ino)
        if (fa !== fb) d(`hard link structure differs (${fa} vs ${fb})`)
        if (fa === undefined) inodesA.set(x.ino, p)
        if (fb === undefined) inodesB.set(y.ino, p)
      }
    }
    if (x.isSymbolicLink() && readlinkSync(pa) !== readlinkSync(pb)) d('symlink target differs')
    if ((x.isCharacterDevice() || x.isBlockDevice()) && x.rdev !== y.rdev) d('device number differs')
    if (opt.xattrs && xattrsOf(pa) !== xattrsOf(pb)) d(`xattrs ${xattrsOf(pa)} vs ${xattrsOf(pb)}`)
  }
  return diffs
}

/** Every leftover temporary name of bt-restore under `dir`. */
export function leftovers(dir: string): string[] {
  return list(dir).filter((p) => /(^|\/)\.bt-restore-/.test(p))
}
