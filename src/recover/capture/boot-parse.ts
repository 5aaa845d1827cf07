// The boot setup's answers: efibootmgr's entries, the GRUB boot code in a
// disk's first sector, and Debian's record of the disks GRUB goes on.

export interface EfiBootEntry { num: string; label: string; loader: string; partuuid: string | null; active: boolean }

/**
 * Parses `efibootmgr -v`: "Boot0001* debian<TAB>HD(1,GPT,<partuuid>,0x800,0x100000)/File(\EFI\debian\shimx64.efi)".
 * efibootmgr 18 prints the path without File(...); both are read.
 */
export function parseEfibootmgr(text: string): EfiBootEntry[] {
  const out: EfiBootEntry[] = []
  for (const line of text.split('\n')) {
    const m = /^Boot([0-9A-Fa-f]{4})(\*?)\s+(.*?)\s*\t(.*)$/.exec(line) ?? /^Boot([0-9A-Fa-f]{4})(\*?)\s+(.*?)\s+((?:HD|PciRoot|BBS|Fv|VenHw|VenMedia)\(.*)$/.exec(line)
    if (!m) continue
    const path = m[4]!
    const hd = /HD\(\d+,GPT,([0-9a-fA-F-]{36})/.exec(path)
    const file = /(?:^|\/)File\(([^)]*)\)/.exec(path)?.[1] ?? /\)\/(\\[^\s]*)/.exec(path)?.[1]
    if (!file) continue
    out.push({ num: m[1]!, label: m[3]!, loader: file, partuuid: hd ? hd[1]!.toUpperCase() : null, active: m[2] === '*' })
  }
  return out
}

/** Whether a first sector holds GRUB's boot code (its boot.img carries the string "GRUB"). */
export function hasGrubBootCode(sector: Buffer): boolean {
  return sector.length >= 440 && sector.subarray(0, 440).includes('GRUB')
}

/** The grub-pc/install_devices value from debconf's config.dat: device paths, comma-separated. */
export function parseDebconfGrubDevices(configDat: string): string[] {
  for (const stanza of configDat.split(/\n\s*\n/)) {
    if (!/^Name: grub-pc\/install_devices$/m.test(stanza)) continue
    const v = /^Value: (.*)$/m.exec(stanza)?.[1] ?? ''
    return v.split(/,\s*/).map((s) => s.trim()).filter(Boolean)
  }
  return []
}
