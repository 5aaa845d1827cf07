// LVM as the capture meets it: the reports are asked for once, the first time
// a physical or logical volume turns up on the chosen disks.
import { type VolumeGroup } from '../layout.js'
import { type BlockDev, type Graph, byPath } from './blockdev.js'
import { type Ctx, output } from './context.js'
import { LVS, type LvRow, parseLvs, parsePvs, parseVgs, PVS, VGS, vgcfgbackupCommand } from './lvm.js'

export class Lvm {
  private reports: Promise<{ pvs: ReturnType<typeof parsePvs>; vgs: ReturnType<typeof parseVgs>; lvs: LvRow[] }> | null = null

  constructor(private readonly ctx: Ctx) {}

  private load(device?: string) {
    this.reports ??= (async () => {
      const need = (what: string) => ({ what, device })
      return {
        pvs: parsePvs((await output(this.ctx, PVS, need('the LVM physical volumes'))) ?? '{"report":[]}'),
        vgs: parseVgs((await output(this.ctx, VGS, need('the LVM volume groups'))) ?? '{"report":[]}'),
        lvs: parseLvs((await output(this.ctx, LVS, need('the LVM logical volumes'))) ?? '{"report":[]}'),
      }
    })()
    return this.reports
  }

  /** lv:VG/LV for a device-mapper node of a logical volume. */
  async ref(d: BlockDev, inUse: boolean): Promise<string | null> {
    const { lvs } = await this.load(inUse ? d.path : undefined)
    const lv = lvs.find((l) => l.dmPath === d.path || l.dmPath === `/dev/mapper/${d.name}`)
    return lv ? `lv:${lv.vg}/${lv.lv}` : null
  }

  /** The volume groups with a physical volume among `pvDevs`. */
  async groups(pvDevs: BlockDev[], g: Graph, refs: Map<string, string>): Promise<VolumeGroup[]> {
    if (pvDevs.length === 0) return []
    const { pvs, vgs, lvs } = await this.load()
    const ours = pvs.filter((p) => pvDevs.some((d) => byPath(g, p.pv)?.kname === d.kname))
    const out: VolumeGroup[] = []
    for (const vg of vgs.filter((v) => ours.some((p) => p.vg === v.vg))) {
      const backup = await output(this.ctx, vgcfgbackupCommand(vg.vg), { what: `the metadata of volume group ${vg.vg}` })
      out.push({
        name: vg.vg, uuid: vg.uuid, extentBytes: vg.extentBytes,
        pvs: pvs.filter((p) => p.vg === vg.vg).map((p) => ({ device: refs.get(byPath(g, p.pv)?.kname ?? '') ?? p.pv, uuid: p.pvUuid })),
        lvs: lvs.filter((l) => l.vg === vg.vg).map((l) => ({ name: l.lv, uuid: l.uuid, sizeBytes: l.sizeBytes, segtype: l.segtype, stripes: l.stripes })),
        vgcfgbackup: backup,
      })
    }
    return out
  }
}
