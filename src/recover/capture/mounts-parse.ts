// The mount tree from `findmnt --json --list`: real file systems (a block
// device or a ZFS dataset) mounted at or below the captured root, with their
// targets as the captured system sees them ('/', '/boot/efi').

export interface FindmntRow { target: string; source: string; fstype: string; options: string }

interface Node extends Partial<FindmntRow> { children?: Node[] }

/** Parses `findmnt --json` in list or tree form, in mount order (a tree is flattened parents first). */
export function parseFindmnt(json: string): FindmntRow[] {
  const out: FindmntRow[] = []
  const walk = (n: Node) => {
    out.push({ target: n.target ?? '', source: n.source ?? '', fstype: n.fstype ?? '', options: n.options ?? '' })
    for (const c of n.children ?? []) walk(c)
  }
  for (const n of (JSON.parse(json) as { filesystems: Node[] }).filesystems) walk(n)
  return out
}

export const ZFS_TYPES = ['zfs', 'fuse.zfs']

export interface RootedMount extends FindmntRow {
  /** The target as the captured system sees it. */
  inside: string
  /** The device path without findmnt's [/subpath], or the dataset. */
  device: string
  /** findmnt's [/subpath]: a btrfs subvolume, or for others a bind mount. */
  subpath: string | null
}

/** The real mounts at or below `root`; one per target, the last mounted (the visible one); parents first. */
export function mountsUnder(rows: FindmntRow[], root: string): RootedMount[] {
  const prefix = root === '/' ? '' : root.replace(/\/+$/, '')
  const byTarget = new Map<string, RootedMount>()
  for (const r of rows) {
    if (r.target !== (prefix || '/') && !r.target.startsWith(`${prefix}/`)) continue
    const zfs = ZFS_TYPES.includes(r.fstype)
    if (!zfs && !r.source.startsWith('/dev/')) continue
    const m = /^(.*?)\[(.*)\]$/.exec(r.source)
    const inside = r.target === prefix ? '/' : r.target.slice(prefix.length) || '/'
    byTarget.delete(r.target)
    byTarget.set(r.target, { ...r, inside, device: m ? m[1]! : r.source, subpath: m ? m[2]! : null })
  }
  return [...byTarget.values()].sort((a, b) => depth(a.inside) - depth(b.inside))
}

const depth = (p: string) => (p === '/' ? 0 : p.split('/').length - 1)

/** The btrfs subvolume a mount shows (subvol= without its leading slash), or null for the top. */
export function subvolumeOf(options: string, subpath: string | null): string | null {
  const opt = /(?:^|,)subvol=([^,]*)/.exec(options)?.[1] ?? subpath ?? '/'
  const s = opt.replace(/^\/+/, '')
  return s === '' ? null : s
}
