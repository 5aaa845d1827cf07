// Disks and their partition tables: `sfdisk --json` for the fields, `sfdisk
// --dump` verbatim for recover.sh to replay. A disk with no table (a file system
// or a pool on the whole disk) has table null.
import { type Disk, type Partition } from '../layout.js'
import { type BlockDev, partNumber } from './blockdev.js'
import { CaptureError, type Ctx, output } from './context.js'

interface SfdiskJson {
  partitiontable: {
    label: 'gpt' | 'dos' | string
    id?: string
    device?: string
    sectorsize?: number
    partitions?: { node: string; start: number; size: number; type: string; uuid?: string; name?: string; attrs?: string; bootable?: boolean }[]
  }
}

export interface Table {
  table: 'gpt' | 'dos'
  tableId: string | null
  sectorSize: number | null
  partitions: Partition[]
}

/** Parses `sfdisk --json DISK`. Partition numbers come from the node names (sda2, nvme0n1p2). */
export function parseSfdiskJson(json: string, diskPath: string): Table {
  const t = (JSON.parse(json) as SfdiskJson).partitiontable
  if (t.label !== 'gpt' && t.label !== 'dos') throw new Error(`partition table of type ${JSON.stringify(t.label)}`)
  const dev = t.device ?? diskPath
  const partitions = (t.partitions ?? []).map((p, i): Partition => {
    const number = partNumber(dev, p.node) ?? i + 1
    const gpt = t.label === 'gpt'
    const dosId = t.id?.replace(/^0x/i, '').toLowerCase()
    return {
      number,
      startSector: p.start,
      sizeSectors: p.size,
      type: gpt ? p.type.toUpperCase() : p.type.toLowerCase(),
      // A DOS partition's PARTUUID is the disk identifier and the number in hex: 1234abcd-02.
      uuid: gpt ? (p.uuid ?? null)?.toUpperCase() ?? null : dosId ? `${dosId}-${number.toString(16).padStart(2, '0')}` : null,
      name: gpt ? (p.name ?? null) : null,
      bootable: gpt ? /\bLegacyBIOSBootable\b/.test(p.attrs ?? '') : p.bootable === true,
    }
  })
  return { table: t.label, tableId: t.id ?? null, sectorSize: t.sectorsize ?? null, partitions }
}

/** The Disk of `d`; `pttype` is blkid's PTTYPE for it (undefined: no table). */
export async function captureDisk(ctx: Ctx, d: BlockDev, pttype: string | undefined): Promise<Disk> {
  const disk: Disk = {
    name: d.name, path: d.path, sizeBytes: d.sizeBytes, sectorSize: d.sectorSize, model: d.model, serial: d.serial,
    table: null, tableId: null, sfdiskDump: null, partitions: [],
  }
  if (pttype === undefined) return disk
  const need = { what: `the partition table of ${d.path}`, device: d.path }
  const json = await output(ctx, ['sfdisk', '--json', d.path], need)
  const dump = await output(ctx, ['sfdisk', '--dump', d.path], need)
  let t: Table
  try {
    t = parseSfdiskJson(json!, d.path)
  } catch (err) {
    throw new CaptureTableError(d.path, (err as Error).message)
  }
  return { ...disk, table: t.table, tableId: t.tableId, sectorSize: t.sectorSize ?? d.sectorSize, sfdiskDump: dump, partitions: t.partitions }
}

class CaptureTableError extends CaptureError {
  constructor(path: string, detail: string) {
    super(`cannot capture the partition table of ${path}: ${detail}`, 'recover.sh rebuilds GPT and DOS tables; convert the disk or leave it out (--disk)')
  }
}
