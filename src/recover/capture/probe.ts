// What is on a device, by `blkid -o export -p DEV`: -p reads the device itself,
// not the cache, so a file system made a moment ago is seen as it is.

/** Parses `blkid -o export` (KEY=VALUE lines, blanks and specials escaped with a backslash). */
export function parseBlkidExport(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq <= 0) continue
    out[line.slice(0, eq)] = line.slice(eq + 1).replace(/\\(.)/g, '$1')
  }
  return out
}

/** The kinds recover.sh rebuilds, by blkid's TYPE. */
export type Kind = 'filesystem' | 'swap' | 'zfs' | 'md' | 'luks' | 'lvm' | 'other' | 'none'

export const FS_TYPES = ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'vfat']

export function kindOf(type: string | undefined): Kind {
  if (type === undefined) return 'none'
  if (FS_TYPES.includes(type)) return 'filesystem'
  if (type === 'swap') return 'swap'
  if (type === 'zfs_member') return 'zfs'
  if (type === 'linux_raid_member') return 'md'
  if (type === 'crypto_LUKS') return 'luks'
  if (type === 'LVM2_member') return 'lvm'
  return 'other'
}
