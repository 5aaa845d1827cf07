// btrfs subvolumes, from `btrfs subvolume list MNT` and `get-default MNT` on
// any mount of the file system. Listed from a subvolume's mount, the paths of
// subvolumes below it are relative to their parent; they are made whole here
// through the parent ids, so the answer does not depend on which mount was used.

export interface Subvolume { path: string; id: number }

const LINE = /^ID (\d+) gen \d+ (?:cgen \d+ )?(?:parent \d+ )?top level (\d+) (?:parent_uuid \S+ )?(?:uuid \S+ )?path (.+)$/

/** Parses `btrfs subvolume list`: every subvolume by its whole path from the top, parents first. */
export function parseSubvolumes(text: string): Subvolume[] {
  const rows = new Map<number, { parent: number; path: string }>()
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim())
    if (m) rows.set(Number(m[1]), { parent: Number(m[2]), path: m[3]!.replace(/^<FS_TREE>\//, '') })
  }
  const whole = new Map<number, string>()
  const resolve = (id: number, depth = 0): string => {
    if (whole.has(id)) return whole.get(id)!
    const r = rows.get(id)
    if (!r || depth > 64) return ''
    const up = r.parent === 5 ? '' : resolve(r.parent, depth + 1)
    const p = !up || r.path.startsWith(`${up}/`) ? r.path : `${up}/${r.path}`
    whole.set(id, p)
    return p
  }
  return [...rows.keys()].map((id) => ({ path: resolve(id), id }))
    .sort((a, b) => a.path.split('/').length - b.path.split('/').length || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** Parses `btrfs subvolume get-default`: the default subvolume's path, or null when it is the top (ID 5). */
export function parseDefaultSubvolume(text: string, subvolumes: Subvolume[]): string | null {
  const m = /^ID (\d+)/.exec(text.trim())
  if (!m || m[1] === '5') return null
  return subvolumes.find((s) => s.id === Number(m[1]))?.path ?? null
}
