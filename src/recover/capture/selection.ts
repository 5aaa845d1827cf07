// Which disks to capture, and which devices are in use. In use: every device
// holding a file system mounted at or below the root (a ZFS dataset through its
// pool's vdevs) or, on the live machine, active swap, and every device under
// those; a tool they need must not be missing. The disks: those under the
// devices in use, plus the --disk ones.
import { type BlockDev, byPath, disksOf, type Graph } from './blockdev.js'
import { CaptureError, type Ctx, note } from './context.js'
import { type RootedMount, ZFS_TYPES } from './mounts-parse.js'
import { type Zfs } from './zfs.js'

/** Parses /proc/swaps: the swap partitions in use (swap files are the restored tree's business). */
export function parseProcSwaps(text: string): string[] {
  return text.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((w) => w[1] === 'partition').map((w) => w[0]!.replace(/\\040/g, ' '))
}

export async function selectDisks(ctx: Ctx, g: Graph, zfs: Zfs, mounts: RootedMount[], extra: string[]): Promise<{ disks: string[]; inUse: Set<string> }> {
  const inUse = new Set<string>()
  const disks = new Set<string>()
  const mark = (d: BlockDev) => {
    for (const up = [d.kname]; up.length;) {
      const k = up.pop()!
      inUse.add(k)
      up.push(...(g.get(k)?.parents ?? []))
    }
    for (const k of disksOf(g, d.kname)) disks.add(k)
  }
  for (const m of mounts) {
    if (ZFS_TYPES.includes(m.fstype)) {
      for (const v of (await zfs.vdevs(m.device.split('/')[0]!, m.target))?.vdevs ?? []) {
        for (const n of v.devices) {
          const d = await zfs.device(n)
          if (d) mark(d)
        }
      }
    } else {
      const d = byPath(g, m.device)
      if (d) mark(d)
      else note(ctx, `${m.target}: ${m.device} is no block device lsblk knows: not captured`)
    }
  }
  // The live machine's active swap is part of it, on whichever disk it is.
  const swaps = ctx.prefix === '' ? await ctx.run.read('/proc/swaps') : null
  for (const path of parseProcSwaps(swaps?.toString() ?? '')) {
    const d = byPath(g, path)
    if (d) mark(d)
  }
  for (const p of extra) {
    const d = byPath(g, p)
    if (!d) throw new CaptureError(`--disk ${p}: no such block device`, 'list the disks with lsblk')
    if (d.parents.length) {
      throw new CaptureError(`--disk ${p}: is a ${d.type}, not a whole disk`, `name the disk it is on: ${disksOf(g, d.kname).map((k) => g.get(k)!.path).join(', ')}`)
    }
    disks.add(d.kname)
  }
  return { disks: [...disks].sort(), inUse }
}
