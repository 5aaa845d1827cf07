// File systems and swap on the chosen devices, mounted or not (an ESP often is
// not), with the mkfs options read from each; and which ZFS pools and LVM
// physical volumes are there, for zfs.ts and lvm-capture.ts.
import { type Filesystem, type Swap } from '../layout.js'
import { type BlockDev } from './blockdev.js'
import { parseDefaultSubvolume, parseSubvolumes } from './btrfs.js'
import { type Ctx, note, output } from './context.js'
import { type Devices } from './devices.js'
import { btrfsMkfsArgs, extMkfsArgs, vfatMkfsArgs, xfsMkfsArgs } from './mkfs-args.js'
import { type RootedMount } from './mounts-parse.js'
import { kindOf } from './probe.js'

export interface Found {
  filesystems: Filesystem[]
  swaps: Swap[]
  /** Pool names from the zfs_member labels. */
  pools: string[]
  pvs: BlockDev[]
}

export async function captureFilesystems(ctx: Ctx, devs: Devices, mounts: RootedMount[], inUse: Set<string>): Promise<Found> {
  const found: Found = { filesystems: [], swaps: [], pools: [], pvs: [] }
  const seenBtrfs = new Set<string>()
  for (const d of devs.devs) {
    const p = devs.probes.get(d.kname)!
    const kind = kindOf(p.TYPE)
    const ref = devs.refs.get(d.kname)
    if (kind === 'none' || kind === 'md' || kind === 'luks') continue
    if (kind === 'zfs') {
      if (p.LABEL && !found.pools.includes(p.LABEL)) found.pools.push(p.LABEL)
      continue
    }
    if (kind === 'lvm') {
      found.pvs.push(d)
      continue
    }
    if (!ref || kind === 'other') {
      note(ctx, `${d.path} holds ${p.TYPE}${ref ? '' : ` on a ${d.type} device`}: recover.sh does not rebuild it`)
      continue
    }
    if (kind === 'swap') {
      found.swaps.push({ device: ref, uuid: p.UUID ?? null, label: p.LABEL ?? null })
      continue
    }
    if (p.TYPE === 'btrfs' && p.UUID) {
      if (seenBtrfs.has(p.UUID)) {
        note(ctx, `btrfs ${p.UUID} spans several devices: recover.sh makes it on ${d.path}'s first device only`)
        continue
      }
      seenBtrfs.add(p.UUID)
    }
    const mnt = mounts.find((m) => m.device === d.path || m.device === `/dev/${d.kname}`)
    found.filesystems.push(await captureFs(ctx, d, ref, p, mnt, inUse.has(d.kname)))
  }
  return found
}

async function captureFs(ctx: Ctx, d: BlockDev, ref: string, p: Record<string, string>, mnt: RootedMount | undefined, inUse: boolean): Promise<Filesystem> {
  const fs: Filesystem = { device: ref, type: p.TYPE!, uuid: p.UUID ?? null, label: p.LABEL ?? null, mkfsArgs: [], subvolumes: [], defaultSubvolume: null }
  const need = (what: string) => ({ what: `${what} of ${d.path}`, device: inUse ? d.path : undefined })
  if (fs.type.startsWith('ext')) {
    const h = await output(ctx, ['dumpe2fs', '-h', d.path], need('the ext features'))
    if (h !== null) fs.mkfsArgs = extMkfsArgs(h)
  } else if (fs.type === 'xfs') {
    const x = await output(ctx, ['xfs_info', mnt?.target ?? d.path], need('the xfs geometry'))
    if (x !== null) fs.mkfsArgs = xfsMkfsArgs(x)
  } else if (fs.type === 'vfat') {
    fs.mkfsArgs = vfatMkfsArgs(p.VERSION)
  } else if (fs.type === 'btrfs') {
    if (!mnt) {
      note(ctx, `btrfs on ${d.path} is not mounted: its subvolumes and profiles are not captured`)
      return fs
    }
    const df = await output(ctx, ['btrfs', 'filesystem', 'df', mnt.target], need('the btrfs profiles'))
    if (df !== null) fs.mkfsArgs = btrfsMkfsArgs(df)
    const list = await output(ctx, ['btrfs', 'subvolume', 'list', mnt.target], need('the btrfs subvolumes'))
    fs.subvolumes = parseSubvolumes(list ?? '')
    const def = await output(ctx, ['btrfs', 'subvolume', 'get-default', mnt.target], need('the btrfs default subvolume'))
    fs.defaultSubvolume = parseDefaultSubvolume(def ?? '', fs.subvolumes)
  }
  return fs
}
