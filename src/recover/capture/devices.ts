// The block devices of the chosen disks, parents first: what each holds (blkid),
// and for each kind the tool that tells how to make it again. DeviceRefs name
// them as recover.sh will: disk:sda, part:sda:2, md:root, luks:cryptroot, lv:vg/lv.
import { type Disk, type LuksVolume, type MdArray } from '../layout.js'
import { type BlockDev, type Graph, below, byPath, partNumber } from './blockdev.js'
import { type Ctx, note, output, packageOf, CaptureError } from './context.js'
import { type Lvm } from './lvm-capture.js'
import { crypttabName, parseCrypttab, parseLuksDump } from './luks.js'
import { parseMdDetail, parseMdExport } from './md.js'
import { captureDisk } from './partitions.js'
import { kindOf, parseBlkidExport } from './probe.js'

export interface Devices {
  devs: BlockDev[]
  probes: Map<string, Record<string, string>>
  disks: Disk[]
  md: MdArray[]
  luks: LuksVolume[]
  /** kname -> DeviceRef, filled as the kinds are learnt. */
  refs: Map<string, string>
}

/** blkid -p: exit 2 means nothing recognisable is on the device, which is an answer, not a failure. */
async function probe(ctx: Ctx, d: BlockDev, inUse: boolean): Promise<Record<string, string>> {
  const argv = ['blkid', '-o', 'export', '-p', d.path]
  const r = await ctx.run.run(argv)
  if (r.code === 0) return parseBlkidExport(r.stdout)
  if (r.code === 2) return {}
  await output(ctx, argv, { what: `what ${d.path} holds`, device: inUse ? d.path : undefined })
  return {}
}

export async function captureDevices(ctx: Ctx, g: Graph, diskKnames: string[], inUse: Set<string>, crypttab: string | null, lvm: Lvm): Promise<Devices> {
  const devs = below(g, diskKnames)
  const probes = new Map<string, Record<string, string>>()
  for (const d of devs) probes.set(d.kname, await probe(ctx, d, inUse.has(d.kname)))
  const refs = new Map<string, string>()
  const out: Devices = { devs, probes, disks: [], md: [], luks: [], refs }
  for (const k of diskKnames) {
    const d = g.get(k)!
    out.disks.push(await captureDisk(ctx, d, probes.get(k)!.PTTYPE))
    refs.set(k, `disk:${d.name}`)
  }
  for (const d of devs) {
    if (refs.has(d.kname)) continue
    if (d.type === 'part') {
      // The number in the table, found by where the partition starts; the kernel's name says it too (sda2, nvme0n1p2).
      const disk = g.get(d.parents[0]!)!
      const table = out.disks.find((x) => x.name === disk.name)?.partitions.find((p) => p.startSector === d.start)
      refs.set(d.kname, `part:${disk.name}:${table?.number ?? partNumber(disk.kname, d.kname) ?? partNumber(disk.name, d.name) ?? d.kname}`)
    } else if (/^(raid\d*|linear|md)$/.test(d.type)) {
      const md = await captureMd(ctx, d, refs, g, inUse.has(d.kname))
      if (md) out.md.push(md)
    } else if (d.type === 'lvm') {
      const ref = await lvm.ref(d, inUse.has(d.kname))
      if (ref) refs.set(d.kname, ref)
    } else if (d.type === 'crypt') {
      const parent = g.get(d.parents[0]!)!
      const v = await captureLuks(ctx, parent, d, refs, crypttab, probes.get(parent.kname)!, inUse.has(d.kname))
      if (v) out.luks.push(v)
    }
    // Anything else (a zvol, a dm device of another kind) is not rebuilt and gets no ref.
  }
  for (const d of devs) {
    const p = probes.get(d.kname)!
    if (kindOf(p.TYPE) === 'luks' && !d.children.some((c) => g.get(c)?.type === 'crypt')) {
      note(ctx, `${d.path} holds a LUKS volume that is not open: its mapping is named from crypttab or luks-UUID`)
      const v = await captureLuks(ctx, d, null, refs, crypttab, p, false)
      if (v) out.luks.push(v)
    }
  }
  return out
}

async function captureMd(ctx: Ctx, d: BlockDev, refs: Map<string, string>, g: Graph, inUse: boolean): Promise<MdArray | null> {
  const need = { what: `the md array ${d.path}`, device: inUse ? d.path : undefined }
  const text = await output(ctx, ['mdadm', '--detail', '--export', d.path], need)
  if (text === null) return null
  const exp = parseMdExport(text)
  const detail = parseMdDetail((await output(ctx, ['mdadm', '--detail', d.path], need)) ?? '')
  const name = exp.name ?? d.name
  refs.set(d.kname, `md:${name}`)
  const members = exp.members.map((p) => refs.get(byPath(g, p)?.kname ?? '') ?? p)
  return { name, level: exp.level, metadata: exp.metadata, uuid: exp.uuid, members, chunkKiB: detail.chunkKiB, layout: detail.layout }
}

async function captureLuks(ctx: Ctx, dev: BlockDev, open: BlockDev | null, refs: Map<string, string>, crypttab: string | null,
  probe: Record<string, string>, inUse: boolean): Promise<LuksVolume | null> {
  const text = await output(ctx, ['cryptsetup', 'luksDump', dev.path], { what: `the LUKS header of ${dev.path}`, device: inUse ? dev.path : undefined })
  if (text === null) return null
  let h
  try {
    h = parseLuksDump(text)
  } catch (err) {
    throw new CaptureError(`cannot capture the LUKS header of ${dev.path}: ${(err as Error).message}`, `update ${packageOf('cryptsetup')}`)
  }
  const mapping = crypttabName(parseCrypttab(crypttab ?? ''), h.uuid, [dev.path], probe.PART_ENTRY_UUID ?? null) ?? open?.name ?? `luks-${h.uuid}`
  if (open) refs.set(open.kname, `luks:${mapping}`)
  return {
    device: refs.get(dev.kname) ?? dev.path, mapping, uuid: h.uuid, version: h.version, cipher: h.cipher, keyBits: h.keyBits,
    hash: h.hash, pbkdf: h.pbkdf, sectorSize: h.sectorSize, label: h.label,
  }
}
