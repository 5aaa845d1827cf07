// Phase 1's builders: each new object is made in the stage, complete with its
// metadata, so that the commit only has to rename it into place.
import { symlinkSync, constants } from 'node:fs'
import { type EntryFrame, type EntryMeta } from '../format/frame.js'
import { nameToFs } from '../format/fsname.js'
import { sys } from '../sys/native.js'
import { removeQuietly, writeFile } from './fsops.js'
import { type MetaOptions, applyModeAndTimes, applyOwnerAndXattrs } from './metadata.js'

/** A literal regular file: content as it arrives, owner and mode through the open descriptor. */
export async function stageFile(f: EntryFrame, tmp: string, o: MetaOptions, sum: { bytes: number }): Promise<void> {
  await writeFile(tmp, f, sum, (fd) => {
    applyOwnerAndXattrs(tmp, f.meta, o, fd)
    applyModeAndTimes(tmp, f.meta, fd)
  })
}

/** A symlink, device or FIFO. */
export function stageSpecial(m: EntryMeta, tmp: string, o: MetaOptions): void {
  const path = nameToFs(tmp)
  if (m.type === 'symlink') symlinkSync(nameToFs(m.linkpath!), path)
  else if (m.type === 'fifo') sys().mkfifo(path, 0o600)
  else sys().mknod(path, (m.type === 'chardev' ? constants.S_IFCHR : constants.S_IFBLK) | 0o600, m.devmajor ?? 0, m.devminor ?? 0)
  finishStaged(m, tmp, o)
}

/** Metadata of an object built in the stage by path (a patched or copied file, a special). */
export function finishStaged(m: EntryMeta, tmp: string, o: MetaOptions): void {
  try {
    applyOwnerAndXattrs(tmp, m, o)
    applyModeAndTimes(tmp, m)
  } catch (err) {
    removeQuietly(tmp)
    throw err
  }
}
