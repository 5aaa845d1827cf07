// captureLayout: the machine's layout as recover.sh needs it, from the tools
// that know each part (see the modules beside this one). Which disks: those
// holding, through md, LVM, LUKS or ZFS vdevs, the file systems mounted at or
// below the root, plus any named with --disk.
//
// FreeBSD (not implemented; what a port would run instead):
//   disks and tables   `geom disk list`, `gpart backup DISK` (replayed by
//                      `gpart restore -F`), `gpart show -p -r` for types and
//                      `gpart list` for GPT labels and rawuuids;
//   file systems       `dumpfs -m` (UFS: prints the newfs command), `glabel list`;
//   swap, encryption   `swapctl -l`, `geli dump` (the GELI metadata, not keys);
//   ZFS                the same zpool/zfs commands (OpenZFS: -P and -p work);
//   mounts and boot    `mount -p`, /etc/fstab; `efibootmgr -v` (FreeBSD's own)
//                      and the freebsd-boot partition (gptboot/gptzfsboot).
import { normalize } from 'node:path'
import { type BackupSource, type Layout, LAYOUT_VERSION, type Mount } from '../layout.js'
import { byPath, type Graph, parseLsblk } from './blockdev.js'
import { captureBoot } from './boot.js'
import { CaptureError, type Ctx, note, output, readText } from './context.js'
import { captureDevices } from './devices.js'
import { captureFilesystems } from './filesystems.js'
import { Lvm } from './lvm-capture.js'
import { mountsUnder, parseFindmnt, type RootedMount, subvolumeOf, ZFS_TYPES } from './mounts-parse.js'
import { recordingRunner, replayRunner } from './raw.js'
import { systemRunner } from './runner.js'
import { selectDisks } from './selection.js'
import { Zfs } from './zfs.js'

export { CaptureError } from './context.js'
export { type Runner, systemRunner } from './runner.js'
export { recordingRunner, replayRunner } from './raw.js'

export interface CaptureOptions {
  /** Mount tree to capture, '/' by default. */
  root: string
  /** Whole-disk device paths to include; null = every disk under root's mounts. */
  disks: string[] | null
  /** Filled by the CLI from its --store/--set/--verify options. */
  backup: BackupSource
  /** Directory: save each command's output / read them instead of running. */
  raw?: { record?: string; replay?: string }
  warn: (msg: string) => void
}

export async function captureLayout(o: CaptureOptions): Promise<Layout> {
  if (!o.root.startsWith('/')) throw new CaptureError(`the root ${JSON.stringify(o.root)} is not an absolute path`, 'give --root as /PATH')
  const root = normalize(o.root).replace(/(.)\/+$/, '$1')
  const base = o.raw?.replay ? replayRunner(o.raw.replay) : systemRunner()
  const ctx: Ctx = { run: o.raw?.record ? recordingRunner(base, o.raw.record) : base, prefix: root === '/' ? '' : root, notes: [], warn: o.warn }
  const must = async (argv: string[], what: string) => (await output(ctx, argv, { what, device: root }))!
  const os = (await must(['uname', '-s'], 'the operating system')).trim()
  if (os !== 'Linux') {
    throw new CaptureError(`capturing a ${os} machine is not implemented`, 'bt-mkrecover(1) lists the FreeBSD commands a capture would use')
  }
  const host = (await must(['uname', '-n'], 'the host name')).trim()
  const capturedAt = (await must(['date', '+%Y-%m-%dT%H:%M:%S%:z'], 'the time')).trim()
  const g = parseLsblk(await must(['lsblk', '--json', '-b', '-O'], 'the block devices'))
  const mounts = mountsUnder(parseFindmnt(await must(['findmnt', '--json', '--list', '-o', 'TARGET,SOURCE,FSTYPE,OPTIONS'], 'the mounts')), root)
  if (!mounts.some((m) => m.inside === '/')) note(ctx, `no real file system is mounted at ${root} itself`)

  const zfs = new Zfs(ctx, g)
  const { disks, inUse } = await selectDisks(ctx, g, zfs, mounts, o.disks ?? [])

  const fstab = await readText(ctx, '/etc/fstab')
  const crypttab = await readText(ctx, '/etc/crypttab')
  const lvm = new Lvm(ctx)
  const devs = await captureDevices(ctx, g, disks, inUse, crypttab, lvm)
  const found = await captureFilesystems(ctx, devs, mounts, inUse)
  const lvmGroups = await lvm.groups(found.pvs, g, devs.refs)
  const mountedPools = mounts.filter((m) => ZFS_TYPES.includes(m.fstype)).map((m) => m.device.split('/')[0]!)
  const pools = await zfs.pools([...new Set([...found.pools, ...mountedPools])], devs.refs)
  const layoutMounts = toLayoutMounts(ctx, mounts, g, devs.refs)
  const boot = await captureBoot(ctx, devs.disks, g, devs.refs, mounts)
  return {
    version: LAYOUT_VERSION, capturedAt, host, os: 'linux', root, boot,
    disks: devs.disks, md: devs.md, luks: devs.luks, lvm: lvmGroups, filesystems: found.filesystems, swaps: found.swaps,
    zfs: pools, mounts: layoutMounts, fstab, crypttab, backup: o.backup, notes: ctx.notes,
  }
}

/** The mounts as the Layout has them: by DeviceRef (zfs:DATASET for datasets), bind mounts left to fstab. */
function toLayoutMounts(ctx: Ctx, mounts: RootedMount[], g: Graph, refs: Map<string, string>): Mount[] {
  const out: Mount[] = []
  for (const m of mounts) {
    const isZfs = ZFS_TYPES.includes(m.fstype)
    const ref = isZfs ? `zfs:${m.device}` : refs.get(byPath(g, m.device)?.kname ?? '')
    if (!ref) continue
    if (m.subpath !== null && m.fstype !== 'btrfs') {
      note(ctx, `${m.inside} is a bind mount of ${m.source}: recover.sh does not make it (fstab does, at boot)`)
      continue
    }
    out.push({
      target: m.inside, source: ref, fstype: isZfs ? 'zfs' : m.fstype, options: m.options,
      subvolume: m.fstype === 'btrfs' ? subvolumeOf(m.options, m.subpath) : null,
    })
  }
  return out
}
