// The mkfs options that make a rebuilt file system like the captured one, per
// type, read from the file system itself. Only what changes its on-disk format
// or what admins choose on purpose; sizes follow the new partition.

/** `dumpe2fs -h`: the "Name:   value" lines. */
export function parseDumpe2fs(text: string): Map<string, string> {
  const m = new Map<string, string>()
  for (const line of text.split('\n')) {
    const i = line.indexOf(':')
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim())
  }
  return m
}

/** Features a present-day mke2fs turns on by itself: absent here, they are turned off explicitly. */
const EXT_DEFAULTS = ['has_journal', 'ext_attr', 'resize_inode', 'dir_index', 'filetype', 'extent', '64bit', 'flex_bg',
  'sparse_super', 'large_file', 'huge_file', 'dir_nlink', 'extra_isize', 'metadata_csum']
/** States, not choices: a journal to replay, orphans being processed. */
const EXT_STATES = ['needs_recovery', 'orphan_present']

export function extMkfsArgs(dumpe2fs: string): string[] {
  const h = parseDumpe2fs(dumpe2fs)
  const have = (h.get('Filesystem features') ?? '').split(/\s+/).filter((f) => f && !EXT_STATES.includes(f))
  const off = EXT_DEFAULTS.filter((f) => !have.includes(f)).map((f) => `^${f}`)
  const args = ['-O', [...have, ...off].join(',')]
  if (h.has('Block size')) args.push('-b', h.get('Block size')!)
  if (h.has('Inode size')) args.push('-I', h.get('Inode size')!)
  return args
}

/** `xfs_info`: every "key=value" pair by section (meta-data, data, naming, log, realtime). */
export function parseXfsInfo(text: string): Map<string, string> {
  const m = new Map<string, string>()
  let section = ''
  for (const line of text.split('\n')) {
    const s = /^([a-z-]+)\s*=/.exec(line)
    if (s) section = s[1]!
    for (const [, k, v] of line.matchAll(/([a-z0-9_-]+)=([^\s,]+)/gi)) if (!m.has(`${section}.${k}`)) m.set(`${section}.${k}`, v!)
  }
  return m
}

export function xfsMkfsArgs(xfsInfo: string): string[] {
  const x = parseXfsInfo(xfsInfo)
  const args: string[] = []
  const meta = ['crc', 'finobt', 'rmapbt', 'reflink', 'bigtime', 'inobtcount'].filter((k) => x.has(`meta-data.${k}`))
    .map((k) => `${k}=${x.get(`meta-data.${k}`)}`)
  // Without crc the other metadata features cannot be set; mkfs.xfs refuses them.
  if (x.get('meta-data.crc') === '0') args.push('-m', 'crc=0')
  else if (meta.length) args.push('-m', meta.join(','))
  if (x.has('meta-data.isize')) args.push('-i', `size=${x.get('meta-data.isize')}`)
  if (x.has('data.bsize')) args.push('-b', `size=${x.get('data.bsize')}`)
  if (x.has('naming.ftype')) args.push('-n', `ftype=${x.get('naming.ftype')}`)
  if (x.has('meta-data.sectsz')) args.push('-s', `size=${x.get('meta-data.sectsz')}`)
  return args
}

/** `btrfs filesystem df MNT`: the data and metadata profiles as mkfs.btrfs -d/-m. */
export function btrfsMkfsArgs(df: string): string[] {
  const args: string[] = []
  const data = /^Data, ([A-Za-z0-9]+):/m.exec(df)?.[1]
  const meta = /^Metadata, ([A-Za-z0-9]+):/m.exec(df)?.[1]
  if (data) args.push('-d', data.toLowerCase())
  if (meta) args.push('-m', meta.toLowerCase())
  return args
}

/** vfat: the FAT size from blkid's VERSION (FAT12, FAT16, FAT32); the volume id is the Filesystem's uuid. */
export function vfatMkfsArgs(version: string | undefined): string[] {
  const m = /^FAT(12|16|32)$/.exec(version ?? '')
  return m ? ['-F', m[1]!] : []
}
