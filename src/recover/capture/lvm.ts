// LVM: pvs, vgs and lvs as JSON reports in bytes, and each group's own
// metadata through vgcfgbackup, verbatim, so that vgcfgrestore can replay it.

interface Report<K extends string> { report: Record<K, Record<string, string>[]>[] }

function rowsOf<K extends string>(json: string, key: K): Record<string, string>[] {
  return (JSON.parse(json) as Report<K>).report.flatMap((r) => r[key] ?? [])
}

export const PVS = ['pvs', '--reportformat', 'json', '-o', 'pv_name,pv_uuid,vg_name,vg_uuid']
export const VGS = ['vgs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,vg_uuid,vg_extent_size']
export const LVS = ['lvs', '--reportformat', 'json', '--units', 'b', '--nosuffix', '-o', 'vg_name,lv_name,lv_uuid,lv_size,segtype,stripes,lv_dm_path']

/** `vgcfgbackup -f FILE VG` writes a file: a temporary one, printed and removed, so the answer is one recordable output. */
export function vgcfgbackupCommand(vg: string): string[] {
  return ['sh', '-c', 'f=$(mktemp) || exit 1; vgcfgbackup -q -f "$f" "$1" >&2 && cat "$f"; r=$?; rm -f "$f"; exit $r', 'vgcfgbackup', vg]
}

export function parsePvs(json: string): { pv: string; pvUuid: string; vg: string }[] {
  return rowsOf(json, 'pv').map((r) => ({ pv: r.pv_name!, pvUuid: r.pv_uuid!, vg: r.vg_name ?? '' }))
}

export function parseVgs(json: string): { vg: string; uuid: string; extentBytes: number }[] {
  return rowsOf(json, 'vg').map((r) => ({ vg: r.vg_name!, uuid: r.vg_uuid!, extentBytes: Number(r.vg_extent_size) }))
}

export interface LvRow { vg: string; lv: string; uuid: string; sizeBytes: number; segtype: string; stripes: number | null; dmPath: string }

export function parseLvs(json: string): LvRow[] {
  return rowsOf(json, 'lv').map((r) => ({
    vg: r.vg_name!, lv: r.lv_name!, uuid: r.lv_uuid!, sizeBytes: Number(r.lv_size), segtype: r.segtype ?? 'linear',
    stripes: r.stripes ? Number(r.stripes) : null, dmPath: r.lv_dm_path ?? `/dev/mapper/${r.vg_name!.replace(/-/g, '--')}-${r.lv_name!.replace(/-/g, '--')}`,
  }))
}
