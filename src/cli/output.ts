// Where a tool's binary output goes: stdout, or a file that appears only on
// success (written as FILE.tmp-PID, renamed at the end, removed on failure).
import { createWriteStream, renameSync, statSync, unlinkSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Writable } from 'node:stream'
import { UsageError } from '../errors.js'
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
  if (!isRegularOrMissing(path)) {
    // A device or a FIFO (-o /dev/null, a named pipe): written in place; renaming onto it would replace it.
    const stream = createWriteStream(path, { flags: 'w' })
    return { stream, paths: [resolve(path)], commit: () => undefined, abort: () => stream.destroy() }
  }
  const tmp = `${path}.tmp-${io.pid}`
  const stream = createWriteStream(tmp, { flags: 'wx', mode: 0o600 })
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

function isRegularOrMissing(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return true
  }
}
