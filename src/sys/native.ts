// Loads the small C addon (native/sys.c) for the calls Node's fs lacks.
import { createRequire } from 'node:module'
import { BtError, EXIT } from '../errors.js'

/** A path: a string, or a Buffer of its exact octets for a name that is not UTF-8 (format/fsname.ts nameToFs). */
export type SysPath = string | Buffer

export interface Sys {
  listXattr(path: SysPath): string[]
  getXattr(path: SysPath, name: string): Buffer
  setXattr(path: SysPath, name: string, value: Buffer): void
  /** lseek SEEK_DATA (0) or SEEK_HOLE (1); -1 when there is no more data. */
  seek(fd: number, offset: number, which: 0 | 1): number
  mknod(path: SysPath, mode: number, major: number, minor: number): void
  mkfifo(path: SysPath, mode: number): void
  lutimens(path: SysPath, atimeSec: number, atimeNsec: number, mtimeSec: number, mtimeNsec: number): void
  devSplit(dev: number): [number, number]
  /** fcntl(F_SETPIPE_SZ): the pipe's new capacity, or -1 when fd is not a pipe or the size is refused. */
  pipeSize(fd: number, bytes: number): number
  /** flock(fd, LOCK_EX | LOCK_NB): true when taken, false when another open file holds it. */
  tryLock(fd: number): boolean
}

let loaded: Sys | undefined

export function sys(): Sys {
  if (loaded) return loaded
  const require = createRequire(import.meta.url)
  try {
    loaded = require('../../../build/Release/backtory_sys.node') as Sys
  } catch (err) {
    throw new BtError('BT_NATIVE', EXIT.FAILURE, `the native helper is not built: ${(err as Error).message.split('\n')[0]}`,
      ['run "npm ci" (or "npm rebuild") in the backtory directory; it needs g++, make and python3'])
  }
  return loaded
}
