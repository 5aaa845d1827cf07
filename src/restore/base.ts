// What a differential builds on: the files of the full in the target, as they
// are now. Each is checked (a regular file, reached through real directories,
// with the hash the record names) and read in phase 1, never written.
import { createHash } from 'node:crypto'
import { closeSync, lstatSync, openSync, readSync, constants } from 'node:fs'
import { InputError, isErrno } from '../errors.js'
import { DeltaDecoder } from '../delta/format.js'
import { type EntryFrame } from '../format/frame.js'
import { nameToFs } from '../format/fsname.js'
import { writeAll } from './fsops.js'
import { ensureDirs, parentOf, safeRelative } from './safe-path.js'

/** The absolute path of the base file `rel`, refused unless it is a regular file; `why` says what needs it, `hint` what to do. */
export function baseFile(target: string, rel: string, why: string, hint?: string): string {
  const abs = `${target}/${rel}`
  ensureDirs(target, parentOf(rel), rel, false)
  let ok = false
  try {
    ok = lstatSync(nameToFs(abs)).isFile()
  } catch (err) {
    if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err
  }
  if (!ok) {
    throw new InputError('BT_BASE_MISSING', `${JSON.stringify(rel)} (${why}) is not a regular file in ${JSON.stringify(target)}`,
      hint ?? 'the directory does not hold the full this differential was made against; restore that full again')
  }
  return abs
}

/**
 * The content of a file record of a differential, as one interpretation for
 * a restore and for --to-stdout: "base" when it is the file at its path in
 * the base tree `root` (unchanged, or only its metadata changed; checked to be
 * there), or "built" once written to `tmp` and verified (a copy of another
 * file of the full, or a delta applied to the file at its path).
 * `hint` says what to do when a copy's source is missing.
 */
export async function buildContent(f: EntryFrame, rel: string, root: string, tmp: string, sum: { bytes: number },
  hint?: (from: string) => string | undefined): Promise<'base' | 'built'> {
  const m = f.meta
  switch (m.op) {
    case 'unchanged':
      baseFile(root, rel, 'unchanged since the full')
      return 'base'
    case 'meta':
      baseFile(root, rel, 'its metadata changed')
      return 'base'
    case 'copy': {
      const from = safeRelative(m.from!)
      const src = baseFile(root, from, `the source of ${JSON.stringify(rel)}`, hint?.(from))
      copyVerified(src, tmp, m.sha256!, `${JSON.stringify(rel)} (a copy of ${JSON.stringify(from)})`)
      return 'built'
    }
    case 'delta': {
      const base = baseFile(root, rel, 'the base of its delta')
      checkDeltaBase(base, rel, m.baseSha256!)
      await patch(f, base, tmp, sum)
      return 'built'
    }
    default:
      throw new Error(`buildContent: record ${m.op ?? 'literal'} of ${JSON.stringify(rel)} has no base`)
  }
}

export function sha256File(abs: string): string {
  const h = createHash('sha256')
  const fd = openSync(nameToFs(abs), constants.O_RDONLY | constants.O_NOFOLLOW)
  try {
    const b = Buffer.allocUnsafe(1 << 20)
    for (let n; (n = readSync(fd, b, 0, b.length, null)) > 0;) h.update(b.subarray(0, n))
  } finally {
    closeSync(fd)
  }
  return h.digest('hex')
}

/** Copies the base file `src` to `tmp`, refusing a copy whose SHA-256 is not `want`. */
export function copyVerified(src: string, tmp: string, want: string, what: string): void {
  const h = createHash('sha256')
  const fd = openSync(nameToFs(src), constants.O_RDONLY | constants.O_NOFOLLOW)
  const out = openSync(nameToFs(tmp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
  try {
    const b = Buffer.allocUnsafe(1 << 20)
    let pos = 0
    for (let n; (n = readSync(fd, b, 0, b.length, null)) > 0;) {
      h.update(b.subarray(0, n))
      writeAll(out, b, 0, n, pos)
      pos += n
    }
  } finally {
    closeSync(fd)
    closeSync(out)
  }
  if (h.digest('hex') !== want) {
    throw new InputError('BT_WRONG_BASE', `${what}: the source does not match the full`,
      'the file changed after the full was restored; restore the full again')
  }
}

/** Refuses a delta whose base is not the file the full held. */
export function checkDeltaBase(abs: string, rel: string, want: string): void {
  const have = sha256File(abs)
  if (have !== want) {
    throw new InputError('BT_WRONG_BASE', `the base of ${JSON.stringify(rel)} does not match the full (sha256 ${have.slice(0, 16)}…, the delta needs ${want.slice(0, 16)}…)`,
      'the file changed after the full was restored, or this is not the right full; restore the full again')
  }
}

/** Applies the delta in `f`'s body to the base file `baseAbs`, writing `tmp`; the result must have the size and hash the record names. */
export async function patch(f: EntryFrame, baseAbs: string, tmp: string, sum: { bytes: number }): Promise<void> {
  const m = f.meta
  const dec = new DeltaDecoder({ baseLength: lstatSync(nameToFs(baseAbs)).size })
  const bfd = openSync(nameToFs(baseAbs), constants.O_RDONLY | constants.O_NOFOLLOW)
  const out = openSync(nameToFs(tmp), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
  const h = createHash('sha256')
  let pos = 0
  const put = (b: Buffer) => {
    // Checked before writing, so a hostile delta cannot fill the disk through the stage.
    if (pos + b.length > m.size) {
      throw new InputError('BT_DELTA', `the delta of ${JSON.stringify(m.path)} produces more than the ${m.size} bytes the differential names`)
    }
    writeAll(out, b, 0, b.length, pos)
    h.update(b)
    pos += b.length
  }
  try {
    for await (const chunk of f.body) {
      for (const op of dec.push(chunk)) {
        if (op.kind === 'literal') put(op.data)
        else copyRange(bfd, op.offset, op.length, put, m.path)
      }
    }
    dec.end()
  } catch (err) {
    if (err instanceof Error && err.constructor.name === 'DeltaFormatError') {
      throw new InputError('BT_DELTA', `the delta of ${JSON.stringify(m.path)} is corrupt: ${err.message}`)
    }
    throw err
  } finally {
    closeSync(bfd)
    closeSync(out)
  }
  sum.bytes += pos
  const got = h.digest('hex')
  if (pos !== m.size || got !== m.sha256) {
    throw new InputError('BT_DELTA', `patching ${JSON.stringify(m.path)} gave ${pos} bytes with sha256 ${got.slice(0, 16)}…, not the ${m.size} bytes the differential names`,
      'the differential or the base is corrupt; nothing was changed')
  }
}

function copyRange(fd: number, offset: number, length: number, put: (b: Buffer) => void, path: string): void {
  for (let done = 0; done < length;) {
    const b = Buffer.allocUnsafe(Math.min(1 << 20, length - done))
    const got = readSync(fd, b, 0, b.length, offset + done)
    if (got === 0) throw new InputError('BT_DELTA', `the delta of ${JSON.stringify(path)} reads past the end of its base`)
    put(got === b.length ? b : b.subarray(0, got))
    done += got
  }
}
