// File systems with the UUIDs, labels and options they had, swap, btrfs
// subvolumes, and ZFS pools with their datasets.
import { type Filesystem, type Layout, type ZPool } from './layout.js'
import { type Step } from './plan.js'
import { words } from './sh-quote.js'

/** mkfs argv per type; null for a type recover.sh does not make. */
function mkfs(f: Filesystem): string[] | null {
  const label = (flag: string) => (f.label ? [flag, f.label] : [])
  const uuid = (flag: string, v = f.uuid) => (v ? [flag, v] : [])
  switch (f.type) {
    case 'ext2': case 'ext3': case 'ext4':
      return [`mkfs.${f.type}`, '-F', '-q', ...uuid('-U'), ...label('-L'), ...f.mkfsArgs]
    case 'xfs':
      return ['mkfs.xfs', '-f', ...(f.uuid ? ['-m', `uuid=${f.uuid}`] : []), ...label('-L'), ...f.mkfsArgs]
    case 'btrfs':
      return ['mkfs.btrfs', '-f', '-q', ...uuid('-U'), ...label('-L'), ...f.mkfsArgs]
    case 'vfat':
      // blkid shows a FAT volume id as ABCD-1234; mkfs.vfat -i takes it as 8 hex digits.
      return ['mkfs.vfat', ...uuid('-i', f.uuid?.replace('-', '')), ...label('-n'), ...f.mkfsArgs]
    default:
      return null
  }
}

export function fsSteps(layout: Layout, notes: string[]): Step[] {
  const steps: Step[] = []
  for (const f of layout.filesystems) {
    const argv = mkfs(f)
    if (!argv) {
      notes.push(`${f.device}: file system type ${f.type} is not made by recover.sh; make it by hand before the mount step`)
      continue
    }
    steps.push({
      title: `${f.type} on ${f.device}${f.label ? ` (label ${f.label})` : ''}`,
      done: [words('bt_fs_done', f.device, f.type, f.uuid ?? '')],
      run: [words('bt_run', ...argv, `@${f.device}`)],
    })
  }
  for (const s of layout.swaps) {
    steps.push({
      title: `swap on ${s.device}`,
      done: [words('bt_fs_done', s.device, 'swap', s.uuid ?? '')],
      run: [words('bt_run', 'mkswap', ...(s.uuid ? ['-U', s.uuid] : []), ...(s.label ? ['-L', s.label] : []), `@${s.device}`)],
    })
  }
  for (const f of layout.filesystems) {
    const subs = f.subvolumes.map((s) => s.path.replace(/^\/+/, '')).filter((p) => p !== '')
    if (f.type !== 'btrfs' || subs.length === 0) continue
    steps.push({
      title: `btrfs subvolumes on ${f.device}: ${subs.join(', ')}`,
      done: [words('bt_subvols_done', f.device, ...subs)],
      run: [words('bt_subvols', f.device, f.defaultSubvolume?.replace(/^\/+/, '') || '-', ...subs)],
    })
  }
  for (const p of layout.zfs) steps.push(...zfsSteps(p))
  return steps
}

const CREATE_ONLY = new Set(['casesensitivity', 'normalization', 'utf8only', 'encryption', 'keyformat', 'keylocation', 'pbkdf2iters'])

function zfsSteps(p: ZPool): Step[] {
  const vdevs = p.vdevs.flatMap((v) => [...(v.type === 'disk' ? [] : [v.type]), ...v.devices.map((d) => `@${d}`)])
  const opts = Object.entries(p.properties).flatMap(([k, v]) => ['-o', `${k}=${v}`])
  const top = Object.entries(p.datasets.find((d) => d.name === p.name)?.properties ?? {})
  // Only what cannot change later goes to zpool create -O; the rest is set once the pool is
  // there, which also works where -O mountpoint= is not honoured with -R (zfs-fuse).
  const rootOpts = top.filter(([k]) => CREATE_ONLY.has(k)).flatMap(([k, v]) => ['-O', `${k}=${v}`])
  const rootSet = top.filter(([k]) => !CREATE_ONLY.has(k)).map(([k, v]) => `${k}=${v}`)
  const children = p.datasets.filter((d) => d.name !== p.name)
  const steps: Step[] = [{
    title: `ZFS pool ${p.name} (${p.vdevs.map((v) => v.type).join(', ')})`,
    done: [words('bt_zpool_done', p.name)],
    run: [words('bt_zpool', p.name, ...opts, ...rootOpts, '--', ...vdevs), ...rootSet.map((kv) => words('bt_run', 'zfs', 'set', kv, p.name))],
  }]
  if (children.length > 0) {
    steps.push({
      title: `ZFS datasets of ${p.name}: ${children.map((d) => d.name.slice(p.name.length + 1)).join(', ')}`,
      done: [words('bt_datasets_done', ...children.map((d) => d.name))],
      run: children.map((d) => words('bt_zfs_create', d.name, ...(d.type === 'volume' && d.volsizeBytes !== null ? ['-V', String(d.volsizeBytes)] : []),
        ...Object.entries(d.properties).flatMap(([k, v]) => ['-o', `${k}=${v}`]))),
    })
  }
  return steps
}
