// The layout of a machine as bt-mkrecover captures it and recover.sh rebuilds it.
//
// One plain JSON document (version 1), embedded in recover.sh and carried in
// every backup, so that it can be read by a person, by jq, or by a second
// implementation without this code. Everything here is data: which command
// produced it is the capture's business (src/recover/capture/), what is done
// with it is the plan's (src/recover/plan.ts).
//
// Block devices are named by references that do not depend on the kernel names
// the rescue system will give them; recover.sh resolves them at run time after
// --map has said which new disk stands for which old one:
//   disk:sda          a whole disk, by its name on the captured machine
//   part:sda:2        partition 2 of that disk
//   md:root           an md array, by its name (/dev/md/root)
//   lv:vg0/root       a logical volume
//   luks:cryptroot    an opened LUKS mapping (/dev/mapper/cryptroot)
//   zvol:tank/swap    a ZFS volume
export type DeviceRef = string

export const LAYOUT_VERSION = 1

export interface Layout {
  version: typeof LAYOUT_VERSION
  /** ISO 8601 with zone, when the capture ran. */
  capturedAt: string
  host: string
  os: 'linux' | 'freebsd'
  /** The mount tree captured: '/' on a live machine, a directory for a tree mounted elsewhere. */
  root: string
  boot: Boot
  disks: Disk[]
  md: MdArray[]
  luks: LuksVolume[]
  lvm: VolumeGroup[]
  filesystems: Filesystem[]
  swaps: Swap[]
  zfs: ZPool[]
  /** The mount tree below root, parents before children; targets as on the machine ('/', '/boot/efi'). */
  mounts: Mount[]
  /** /etc/fstab and /etc/crypttab of the captured tree, as text, or null when absent. */
  fstab: string | null
  crypttab: string | null
  backup: BackupSource
  /** Warnings of the capture (a device it could not read, a kind it does not rebuild). */
  notes: string[]
}

export interface Boot {
  firmware: 'bios' | 'efi'
  /** 'grub' when GRUB is installed; 'none' when no boot loader was found. */
  loader: 'grub' | 'none'
  /** BIOS: the disks GRUB is installed on (its boot code in their first sectors). */
  grubDisks: DeviceRef[]
  /** EFI: the ESP partitions and the firmware's boot entries that point at them. */
  efi: { esp: DeviceRef; entries: EfiEntry[] } | null
}

export interface EfiEntry {
  label: string
  /** The loader path on the ESP, as efibootmgr prints it: \EFI\debian\shimx64.efi */
  loader: string
  partition: DeviceRef
}

export interface Disk {
  name: string
  /** The device path on the captured machine (/dev/sda), for messages only. */
  path: string
  sizeBytes: number
  sectorSize: number
  model: string | null
  serial: string | null
  table: 'gpt' | 'dos' | null
  /** The table's own id: the GPT disk GUID or the DOS disk identifier (0x1234abcd). */
  tableId: string | null
  /** `sfdisk --dump` of the disk, verbatim: what recover.sh replays with sfdisk. */
  sfdiskDump: string | null
  partitions: Partition[]
}

export interface Partition {
  number: number
  startSector: number
  sizeSectors: number
  /** GPT type GUID (upper case) or DOS type in hex (83, ef, fd). */
  type: string
  /** GPT partition GUID or DOS PARTUUID. */
  uuid: string | null
  /** GPT partition name. */
  name: string | null
  bootable: boolean
}

export interface MdArray {
  /** Name under /dev/md/ (the array's name without its homehost). */
  name: string
  level: string
  metadata: string
  uuid: string
  members: DeviceRef[]
  chunkKiB: number | null
  layout: string | null
}

export interface LuksVolume {
  device: DeviceRef
  /** Mapping name under /dev/mapper/ (from crypttab when there, else the open mapping's). */
  mapping: string
  uuid: string
  version: 1 | 2
  cipher: string
  keyBits: number
  hash: string | null
  pbkdf: string | null
  sectorSize: number | null
  label: string | null
}

export interface VolumeGroup {
  name: string
  uuid: string
  extentBytes: number
  pvs: { device: DeviceRef; uuid: string }[]
  lvs: LogicalVolume[]
  /** `vgcfgbackup -f -` of the group, verbatim (vgcfgrestore can replay it). */
  vgcfgbackup: string | null
}

export interface LogicalVolume {
  name: string
  uuid: string
  sizeBytes: number
  /** lvs' segtype: linear, striped, raid1, thin-pool, thin, ... */
  segtype: string
  stripes: number | null
}

export interface Filesystem {
  device: DeviceRef
  type: string
  uuid: string | null
  label: string | null
  /** The mkfs options that matter, per type, as mkfs arguments: ['-O', '^metadata_csum,64bit', '-I', '256']. */
  mkfsArgs: string[]
  /** btrfs: subvolumes by path inside the file system, parents first; the default one when not the top. */
  subvolumes: { path: string; id: number }[]
  defaultSubvolume: string | null
}

export interface Swap {
  device: DeviceRef
  uuid: string | null
  label: string | null
}

export interface ZPool {
  name: string
  /** The pool's top-level vdevs; type 'disk' is a single device. */
  vdevs: { type: 'disk' | 'mirror' | 'raidz1' | 'raidz2' | 'raidz3'; devices: DeviceRef[] }[]
  /** Pool properties set at creation that matter (ashift, ...), as zpool create -o name=value. */
  properties: Record<string, string>
  /** Datasets, parents first, with their locally set properties (zfs get -s local). */
  datasets: { name: string; type: 'filesystem' | 'volume'; volsizeBytes: number | null; properties: Record<string, string> }[]
}

export interface Mount {
  target: string
  /** A DeviceRef, or zfs:DATASET for a ZFS dataset. */
  source: DeviceRef
  fstype: string
  options: string
  /** btrfs: the subvolume mounted (subvol=), else null. */
  subvolume: string | null
}

export interface BackupSource {
  /** The store URL (no password) the machine's backups go to. */
  store: string | null
  set: string | null
  /** SHA-256 fingerprint of the signer's public key, as bt-keygen prints it. */
  signer: string | null
  /** The signer's public key itself (PEM), so that recover.sh verifies with no other file. */
  signerPublicKey: string | null
}
