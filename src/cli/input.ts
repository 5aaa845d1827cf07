// Where a reading tool's stream comes from: stdin (never a terminal) or a file.
import { closeSync, createReadStream, fstatSync, openSync } from 'node:fs'
import { type Readable, addAbortSignal } from 'node:stream'
import { IoError, UsageError } from '../errors.js'
import { type Io } from './io.js'

export function openInput(io: Io, path: string | undefined, signal: AbortSignal): Readable {
  if (path === undefined || path === '-') {
    if ((io.stdin as Readable & { isTTY?: boolean }).isTTY) {
      throw new UsageError('no stream on standard input (it is a terminal)', 'pipe a stream in, e.g. bt-scan DIR | …, or name a file')
    }
    // `tool < DIR` reads as an empty stream; say what it is instead.
    if (isDirectory(0)) throw new UsageError('standard input is a directory, not a stream', 'redirect a stream file (tool < FILE) or pipe one in')
    return addAbortSignal(signal, io.stdin)
  }
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    throw new IoError(`cannot read ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
  }
  if (isDirectory(fd)) {
    closeSync(fd)
    throw new UsageError(`${JSON.stringify(path)} is a directory, not a stream file`, 'name the stream file (bt-scan -o FILE writes one)')
  }
  return addAbortSignal(signal, createReadStream('', { fd, highWaterMark: 1 << 20 }))
}

export function maxHeader(io: Io): number | undefined {
  const v = io.env.BT_MAX_HEADER
  if (v === undefined || v === '') return undefined
  if (!/^[0-9]+$/.test(v)) throw new UsageError(`BT_MAX_HEADER must be a number of bytes, not ${JSON.stringify(v)}`)
  return Number(v)
}

function isDirectory(fd: number): boolean {
  try {
    return fstatSync(fd).isDirectory()
  } catch {
    return false // a closed or odd descriptor: the read that follows says what is wrong
  }
}
