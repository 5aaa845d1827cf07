// ZFS answers, from OpenZFS (zpool status -P, -p for exact numbers) or from
// zfs-fuse, whose older zpool/zfs lack -P and -p: both forms are read here.

export type VdevType = 'disk' | 'mirror' | 'raidz1' | 'raidz2' | 'raidz3'

export interface PoolStatus {
  /** Top-level data vdevs; devices as printed (a path with -P, a name without). */
  vdevs: { type: VdevType; devices: string[] }[]
  /** Sections recover.sh does not rebuild (logs, cache, spares, special, dedup) and odd vdevs. */
  skipped: string[]
}

/** Parses the config section of `zpool status [-P] POOL`. */
export function parseZpoolStatus(text: string, pool: string): PoolStatus {
  const lines = text.split('\n')
  const head = lines.findIndex((l) => /^\s*NAME\s+STATE\b/.test(l))
  const out: PoolStatus = { vdevs: [], skipped: [] }
  if (head < 0) return out
  let base = -1
  let section = ''
  for (const line of lines.slice(head + 1)) {
    if (!line.trim() || /^\S/.test(line)) break
    // One tab, then two blanks per level of the tree.
    const body = line.replace(/^\t/, '')
    const depth = body.length - body.trimStart().length
    const name = body.trim().split(/\s+/)[0]!
    if (base < 0) {
      if (name === pool) base = depth
      continue
    }
    if (depth === base) {
      section = name
      out.skipped.push(`${section} of pool ${pool}`)
      continue
    }
    if (section) continue
    if (depth === base + 2) {
      const m = /^(mirror|raidz([123])?)-\d+$/.exec(name)
      if (m) out.vdevs.push({ type: m[1] === 'mirror' ? 'mirror' : (`raidz${m[2] ?? '1'}` as VdevType), devices: [] })
      else if (/^(draid\d*|spare|replacing|indirect)[-:]/.test(name)) {
        out.skipped.push(`vdev ${name} of pool ${pool}`)
        out.vdevs.push({ type: 'disk', devices: [] })
      } else out.vdevs.push({ type: 'disk', devices: [name] })
    } else if (depth === base + 4 && out.vdevs.length) {
      const v = out.vdevs[out.vdevs.length - 1]!
      if (v.type !== 'disk') v.devices.push(name)
    }
  }
  out.vdevs = out.vdevs.filter((v) => v.devices.length)
  return out
}

const UNITS: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 }

/** An exact number (-p) or zfs-fuse's rounded "16M"; null for "-". */
export function parseZfsSize(v: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([BKMGTP]?)$/.exec(v)
  return m ? Math.round(Number(m[1]) * UNITS[m[2]!]!) : null
}

/** Parses `zpool get -H -p all POOL` (tab-separated) or zfs-fuse's `zpool get all POOL` (a table with a header). */
export function parseZpoolGet(text: string): { property: string; value: string; source: string }[] {
  const lines = text.split('\n').filter((l) => l.trim())
  if (lines[0]?.startsWith('NAME ')) {
    return lines.slice(1).map((l) => l.trim().split(/\s+/)).filter((w) => w.length >= 4)
      .map((w) => ({ property: w[1]!, value: w.slice(2, -1).join(' '), source: w[w.length - 1]! }))
  }
  return lines.map((l) => l.split('\t')).filter((w) => w.length >= 4).map((w) => ({ property: w[1]!, value: w[2]!, source: w[3]! }))
}

/**
 * Pool properties that matter when making it again, as `zpool create -o`:
 * ashift, and whatever was set locally, but not where the pool is cached or
 * mounted now, its features (the version decides them), or bootfs, which
 * names a dataset that does not exist yet when the pool is made.
 */
export function poolProperties(rows: { property: string; value: string; source: string }[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const r of rows) {
    if (r.property === 'ashift' && r.value !== '0' && r.value !== '-') out[r.property] = r.value
    else if (r.source === 'local' && !NOT_AT_CREATE.includes(r.property) && !r.property.startsWith('feature@')) out[r.property] = r.value
  }
  return out
}

const NOT_AT_CREATE = ['cachefile', 'altroot', 'ashift', 'bootfs']

/** Parses `zfs list -H [-p] -o name,type,volsize`. */
export function parseZfsList(text: string): { name: string; type: 'filesystem' | 'volume'; volsizeBytes: number | null }[] {
  return text.split('\n').filter((l) => l.trim()).map((l) => l.split('\t'))
    .filter((w) => w[1] === 'filesystem' || w[1] === 'volume')
    .map((w) => ({ name: w[0]!, type: w[1] as 'filesystem' | 'volume', volsizeBytes: w[1] === 'volume' ? parseZfsSize(w[2] ?? '-') : null }))
}

/** Parses `zfs get -H -p -s local all -r POOL`: locally set properties by dataset. */
export function parseZfsGetLocal(text: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>()
  for (const l of text.split('\n')) {
    const w = l.split('\t')
    if (w.length < 4 || w[3] !== 'local') continue
    const props = out.get(w[0]!) ?? {}
    props[w[1]!] = w[2]!
    out.set(w[0]!, props)
  }
  return out
}
