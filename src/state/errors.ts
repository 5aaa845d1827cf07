// Operating-system failures in bt-delta's own files, said with the directory
// they concern and what to do: a full disk or a permission problem is not a
// damaged state, and ENOSPC alone does not say whether the state directory or
// TMPDIR ran out of room.
import { BtError, EXIT, IoError, describeErrno, isErrno, isSystemError } from '../errors.js'

function wrap(message: string, err: NodeJS.ErrnoException, hints: string[]): BtError {
  return new BtError(`BT_IO_${err.code ?? 'EIO'}`, EXIT.FAILURE, `${message}: ${describeErrno(err)}`, hints, err)
}

/** `err` from reading or writing `path` in the state directory `dir`; anything but a system error passes through. */
export function stateIoError(action: 'read' | 'write', path: string, dir: string, err: unknown): unknown {
  if (!isSystemError(err)) return err
  const message = `cannot ${action} the state ${path === dir ? 'directory' : 'file'} ${JSON.stringify(path)}`
  if (isErrno(err, 'ENOSPC', 'EDQUOT')) {
    return wrap(message, err, [`the filesystem of the state directory ${JSON.stringify(dir)} is full: free space there (df -h), ` +
      'or move the directory to a larger filesystem and give it with --state (it holds one index, about 1% of a full)'])
  }
  if (isErrno(err, 'EACCES', 'EPERM')) {
    return wrap(message, err, [`a permission problem, not damage: run as the user who owns ${JSON.stringify(dir)}, or give this user access to it`])
  }
  return new IoError(message, err)
}

/** `err` from bt-delta's temporary files in `base` (TMPDIR). */
export function tmpIoError(base: string, err: unknown): unknown {
  if (!isSystemError(err)) return err
  const message = `cannot write bt-delta's temporary file in ${JSON.stringify(base)} (TMPDIR)`
  if (isErrno(err, 'ENOSPC', 'EDQUOT')) {
    return wrap(message, err, ['TMPDIR\'s filesystem is full: bt-delta holds each changed file\'s delta there while encoding it (up to the size ' +
      'of the largest changed file); free space there, or set TMPDIR to a directory on a larger filesystem'])
  }
  if (isErrno(err, 'EACCES', 'EPERM')) return wrap(message, err, ['this user may not write there: set TMPDIR to a directory it may write'])
  return new IoError(message, err)
}
