// How the machine boots: BIOS or EFI (from /sys/firmware/efi, which only the
// live machine can say; for a tree mounted elsewhere, from its disks: an ESP
// and no GRUB boot code in a first sector means EFI), the disks GRUB's boot
// code is on, and the firmware's boot entries that point at our ESP.
import { type Boot, type Disk, type EfiEntry } from '../layout.js'
import { type Graph, byPath } from './blockdev.js'
import { type Ctx, note, output } from './context.js'
import { type RootedMount } from './mounts-parse.js'
import { hasGrubBootCode, parseDebconfGrubDevices, parseEfibootmgr } from './boot-parse.js'

const ESP_GPT = 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B'

export async function captureBoot(ctx: Ctx, disks: Disk[], g: Graph, refs: Map<string, string>, mounts: RootedMount[]): Promise<Boot> {
  const live = ctx.prefix === ''
  const grubDisks: string[] = []
  for (const d of disks) {
    const sector = await ctx.run.read(d.path, 512)
    if (sector === null) note(ctx, `the first sector of ${d.path} is not readable: GRUB's boot code was not looked for there`)
    else if (hasGrubBootCode(sector)) grubDisks.push(`disk:${d.name}`)
  }
  // Debian's own record, for a disk whose boot code was not readable or not yet written.
  const debconf = await ctx.run.run(['sed', '-n', '/^Name: grub-pc\\/install_devices$/,/^$/p', `${ctx.prefix}/var/cache/debconf/config.dat`])
  for (const path of debconf.code === 0 ? parseDebconfGrubDevices(debconf.stdout) : []) {
    let d = byPath(g, path)
    if (!d) {
      const r = await ctx.run.run(['readlink', '-f', path])
      d = r.code === 0 ? byPath(g, r.stdout.trim()) : undefined
    }
    const ref = d && refs.get(d.kname)
    if (ref?.startsWith('disk:') && !grubDisks.includes(ref)) grubDisks.push(ref)
  }
  const esps = disks.flatMap((d) => d.partitions.filter((p) => p.type === ESP_GPT || p.type === 'ef').map((p) => ({ ref: `part:${d.name}:${p.number}`, uuid: p.uuid })))
  const bootEfi = mounts.find((m) => m.inside === '/boot/efi')
  const esp = esps.find((e) => bootEfi && refs.get(byPath(g, bootEfi.device)?.kname ?? '') === e.ref) ?? esps[0]
  const firmware = live ? ((await ctx.run.read('/sys/firmware/efi', 0)) !== null ? 'efi' : 'bios') : esp && grubDisks.length === 0 ? 'efi' : 'bios'
  let entries: EfiEntry[] = []
  if (firmware === 'efi' && live) {
    const text = await output(ctx, ['efibootmgr', '-v'], { what: 'the EFI boot entries' })
    entries = parseEfibootmgr(text ?? '').flatMap((e) => {
      const part = esps.find((s) => s.uuid !== null && s.uuid === e.partuuid)
      return part ? [{ label: e.label, loader: e.loader, partition: part.ref }] : []
    })
  }
  const grubTree = (await ctx.run.read(`${ctx.prefix}/boot/grub`, 0)) !== null
  const loader = grubDisks.length || grubTree || entries.some((e) => /grub|shim/i.test(e.loader)) ? 'grub' : 'none'
  return { firmware, loader, grubDisks, efi: firmware === 'efi' && esp ? { esp: esp.ref, entries } : null }
}
