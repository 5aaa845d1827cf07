// The block-device graph from `lsblk --json -b -O`: which device sits on which.
// lsblk nests a child under each of its parents (an md array appears under
// every member), so the graph is rebuilt from those edges, keyed by kernel name.

export interface BlockDev {
  kname: string
  name: string
  path: string
  /** lsblk's TYPE: disk, loop, part, raid1, crypt, lvm, ... */
  type: string
  sizeBytes: number
  sectorSize: number
  /** First sector of a partition on its disk. */
  start: number | null
  model: string | null
  serial: string | null
  /** "MAJOR:MINOR" in decimal, for a device node that has another name. */
  majMin: string | null
  parents: string[]
  children: string[]
}

export type Graph = Map<string, BlockDev>

interface LsblkNode {
  kname?: string; name?: string; path?: string; type?: string; size?: number | string
  'log-sec'?: number | string; start?: number | string | null; model?: string | null; serial?: string | null; 'maj:min'?: string
  children?: LsblkNode[]
}

const num = (v: unknown): number | null => (v === null || v === undefined || v === '' ? null : Number(v))

/** Parses `lsblk --json -b -O` (any superset of KNAME,NAME,PATH,TYPE,SIZE,LOG-SEC). */
export function parseLsblk(json: string): Graph {
  const g: Graph = new Map()
  const visit = (n: LsblkNode, parent: string | null) => {
    const kname = n.kname ?? n.name!
    let d = g.get(kname)
    if (!d) {
      d = {
        kname, name: n.name ?? kname, path: n.path ?? `/dev/${n.name ?? kname}`, type: n.type ?? 'disk',
        sizeBytes: num(n.size) ?? 0, sectorSize: num(n['log-sec']) ?? 512, start: num(n.start),
        model: n.model?.trim() || null, serial: n.serial?.trim() || null, majMin: n['maj:min'] ?? null, parents: [], children: [],
      }
      g.set(kname, d)
    }
    if (parent !== null && !d.parents.includes(parent)) {
      d.parents.push(parent)
      g.get(parent)!.children.push(kname)
    }
    for (const c of n.children ?? []) visit(c, kname)
  }
  for (const n of (JSON.parse(json) as { blockdevices: LsblkNode[] }).blockdevices) visit(n, null)
  return g
}

/** The whole disks under a device: itself when it has no parents. */
export function disksOf(g: Graph, kname: string): string[] {
  const d = g.get(kname)
  if (!d) return []
  if (d.parents.length === 0) return [kname]
  return [...new Set(d.parents.flatMap((p) => disksOf(g, p)))]
}

/** Every device on the given disks, parents before children (an md array after all its members). */
export function below(g: Graph, disks: string[]): BlockDev[] {
  const depth = new Map<string, number>()
  const walk = (k: string, d: number) => {
    if ((depth.get(k) ?? -1) >= d || !g.has(k)) return
    depth.set(k, d)
    for (const c of g.get(k)!.children) walk(c, d + 1)
  }
  for (const k of disks) walk(k, 0)
  return [...depth.keys()].sort((a, b) => depth.get(a)! - depth.get(b)!).map((k) => g.get(k)!)
}

/** The device a path names: by lsblk's path, or /dev/KNAME. */
export function byPath(g: Graph, path: string): BlockDev | undefined {
  for (const d of g.values()) if (d.path === path || `/dev/${d.kname}` === path || `/dev/${d.name}` === path) return d
  return undefined
}

/** The partition number from the kernel's name: sda2, nvme0n1p2, loop0p2, mmcblk0p1. */
export function partNumber(disk: string, part: string): number | null {
  const m = /^p?(\d+)$/.exec(part.startsWith(disk) ? part.slice(disk.length) : '')
  return m ? Number(m[1]) : null
}
