// md RAID arrays: `mdadm --detail --export` for the identity and the members,
// plain `mdadm --detail` for what --export leaves out (chunk size, layout).

export interface MdExport {
  level: string
  metadata: string
  uuid: string
  /** The name under /dev/md/, without the homehost. */
  name: string | null
  /** Member device paths, active ones by role, then spares. */
  members: string[]
}

/** Parses `mdadm --detail --export /dev/mdX`. */
export function parseMdExport(text: string): MdExport {
  const kv = new Map<string, string>()
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) kv.set(line.slice(0, eq), line.slice(eq + 1).trim())
  }
  const devs: { path: string; role: number }[] = []
  for (const [k, v] of kv) {
    const m = /^MD_DEVICE_(.+)_DEV$/.exec(k)
    if (!m) continue
    const role = kv.get(`MD_DEVICE_${m[1]}_ROLE`) ?? ''
    devs.push({ path: v, role: /^\d+$/.test(role) ? Number(role) : Number.MAX_SAFE_INTEGER })
  }
  devs.sort((a, b) => a.role - b.role || (a.path < b.path ? -1 : 1))
  const named = kv.get('MD_DEVNAME') ?? kv.get('MD_NAME')?.replace(/^[^:]*:/, '') ?? null
  return {
    level: kv.get('MD_LEVEL') ?? 'unknown',
    metadata: kv.get('MD_METADATA') ?? 'unknown',
    uuid: kv.get('MD_UUID') ?? '',
    name: named,
    members: devs.map((d) => d.path),
  }
}

/** Chunk size (KiB) and layout from plain `mdadm --detail`; null where the level has none. */
export function parseMdDetail(text: string): { chunkKiB: number | null; layout: string | null } {
  const chunk = /^\s*Chunk Size : (\d+)([KMG])/m.exec(text)
  const scale = { K: 1, M: 1024, G: 1024 * 1024 } as const
  return {
    chunkKiB: chunk ? Number(chunk[1]) * scale[chunk[2] as 'K' | 'M' | 'G'] : null,
    layout: /^\s*Layout : (\S+)/m.exec(text)?.[1] ?? null,
  }
}
