// Where a tool's binary output goes: stdout, or a file that appears only on
// success (written as FILE.tmp-PID, renamed at the end, removed on failure).
import { type Stats, createWriteStream, openSync, renameSync, statSync, unlinkSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { type Writable } from 'node:stream'
import { BtError, EXIT, IoError, UsageError, isErrno, isSystemError } from '../errors.js'
import { type Io } from './io.js'

export interface Output {
  stream: Writable
  /** Absolute paths this output writes (the file and its temporary name). */
  paths: string[]
  commit(): void
  abort(): void
}

export function openOutput(io: Io, path: string | undefined): Output {
  if (path === undefined || path === '-') {
    // age's rule: a binary stream on a terminal is a mistake, unless "-o -" asks for it.
    if (path === undefined && io.stdout.isTTY) {
      throw new UsageError('refusing to write a binary stream to a terminal',
        'pipe it into the next tool or redirect it to a file; "-o -" forces it')
    }
    return { stream: io.stdout, paths: [], commit: () => undefined, abort: () => undefined }
  }
  const st = statOrUndefined(path)
  if (st?.isDirectory()) {
    throw new UsageError(`-o ${JSON.stringify(path)} is a directory`, `name the file to write, e.g. -o ${JSON.stringify(join(path, 'NAME'))}`)
  }
  if (st && !st.isFile()) {
    // A device or a FIFO (-o /dev/null, a named pipe): written in place; renaming onto it would replace it.
    const stream = createWriteStream(path, { flags: 'w' })
    return { stream: named(stream, path), paths: [resolve(path)], commit: () => undefined, abort: () => stream.destroy() }
  }
  const tmp = `${path}.tmp-${io.pid}`
  // Opened here, not by the stream, so that a failure names the file asked for, not its temporary.
  let fd: number
  try {
    fd = openSync(tmp, 'wx', 0o600)
  } catch (err) {
    const dir = dirname(resolve(path))
    const parent = statOrUndefined(dir)
    if (isErrno(err, 'ENOENT', 'ENOTDIR') && !parent?.isDirectory()) {
      const errno = (err as NodeJS.ErrnoException).code!
      throw new BtError(`BT_IO_${errno}`, EXIT.FAILURE, `cannot write ${JSON.stringify(path)}: ${JSON.stringify(dir)} ${parent ? 'is not a directory' : 'does not exist'}`,
        [parent ? 'check the path' : `create the directory first (mkdir -p ${JSON.stringify(dir)}) or write elsewhere`], err)
    }
    throw new IoError(`cannot write ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
  }
  const stream = named(createWriteStream('', { fd }), path)
  return {
    stream,
    paths: [resolve(path), resolve(tmp)],
    commit: () => renameSync(tmp, path),
    abort: () => {
      stream.destroy()
      try {
        unlinkSync(tmp)
      } catch {
        // Not created yet, or already gone: nothing to clean.
      }
    },
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path)
  } catch {
    return undefined
  }
}

/** A write error names the file asked for (not its temporary, nor nothing at all, as a write on a descriptor does). */
function named(stream: Writable, path: string): Writable {
  // A failed write destroys the stream with its error before anyone hears of it (end()'s callback included).
  const destroy = stream.destroy.bind(stream)
  stream.destroy = (err?: Error) => {
    if (isSystemError(err)) err.path = path
    return destroy(err)
  }
  return stream
}
