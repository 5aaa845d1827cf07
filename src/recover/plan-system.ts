// The system on the rebuilt disks: the mount tree under --target, the restore,
// fstab and crypttab where an identifier changed, the boot loader, unmounting.
import { type Layout, type Mount } from './layout.js'
import { type Step } from './plan.js'
import { words } from './sh-quote.js'

/** Mount options as captured, less those that name what a rebuild cannot keep (a subvolume's id). */
function mountOptions(m: Mount): string {
  const kept = m.options.split(',').filter((o) => o !== '' && !o.startsWith('subvolid='))
  if (m.subvolume && !kept.some((o) => o.startsWith('subvol='))) kept.push(`subvol=${m.subvolume}`)
  return kept.join(',') || 'defaults'
}

export function systemSteps(layout: Layout, notes: string[]): Step[] {
  const steps: Step[] = []
  const mounts = layout.mounts
  if (mounts.length > 0) {
    steps.push({
      title: `mount the tree under the target: ${mounts.map((m) => m.target).join(' ')}`,
      done: [words('bt_mounts_done', ...mounts.map((m) => m.target))],
      run: mounts.map((m) => words('bt_mount', m.target, m.source, m.fstype, mountOptions(m))),
    })
  }
  steps.push({
    title: `restore the backup${layout.backup.set ? ` of set ${layout.backup.set}` : ''} into the target`,
    done: ['bt_restore_done'],
    run: ['bt_restore'],
  })
  const ids = [
    ...layout.filesystems.filter((f) => f.uuid).map((f) => `${f.device}=${f.uuid}`),
    ...layout.swaps.filter((s) => s.uuid).map((s) => `${s.device}=${s.uuid}`),
    ...layout.luks.map((l) => `${l.device}=${l.uuid}`),
  ]
  if (ids.length > 0 && (layout.fstab !== null || layout.crypttab !== null)) {
    steps.push({ title: 'fstab and crypttab: identifiers that changed', done: [words('bt_ids_done', ...ids)], run: [words('bt_ids_fix', ...ids)] })
  }
  const boot = bootRun(layout, notes)
  if (boot) steps.push({ title: `boot loader (${layout.boot.firmware === 'efi' ? 'EFI' : 'BIOS'}, GRUB) in a chroot`, done: ['bt_boot_done'], run: boot })
  steps.push({ title: 'unmount the target', done: ['bt_umount_done'], run: ['bt_umount_all'] })
  return steps
}

function bootRun(layout: Layout, notes: string[]): string[] | null {
  const b = layout.boot
  if (b.loader !== 'grub') {
    notes.push('no boot loader was found on the captured machine: none is installed')
    return null
  }
  if (b.firmware === 'bios') {
    if (b.grubDisks.length === 0) notes.push('BIOS with GRUB, but no disk holds its boot code: grub-install runs on none')
    return [words('bt_boot_bios', ...b.grubDisks), 'bt_boot_finish']
  }
  if (!b.efi) {
    notes.push('EFI, but no ESP was found: the boot loader is not installed')
    return null
  }
  const id = b.efi.entries.map((e) => /^\\EFI\\([^\\]+)\\/i.exec(e.loader)?.[1]).find((x) => x) ?? 'debian'
  return [
    words('bt_boot_efi', b.efi.esp, id),
    ...b.efi.entries.map((e) => words('bt_efi_entry', e.label, e.loader, e.partition)),
    'bt_boot_finish',
  ]
}
