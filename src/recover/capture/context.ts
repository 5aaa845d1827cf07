// What every part of the capture shares: the runner, the tree being captured,
// and the notes. The rule for a tool that is missing or fails: when the device
// it is needed for holds something in use, the capture stops (a layout without
// it would rebuild a different machine); otherwise it becomes a note in the
// Layout and a warning, and the capture goes on.
import { BtError, EXIT } from '../../errors.js'
import { lastLines, showCommand } from '../../snap/errors.js'
import { type Runner } from './runner.js'

export interface Ctx {
  run: Runner
  /** The captured tree without its trailing slash; '' for the live machine's '/'. */
  prefix: string
  notes: string[]
  warn: (msg: string) => void
}

/** The Debian package each tool comes in, for the hint. */
const PACKAGES: Record<string, string> = {
  lsblk: 'util-linux', blkid: 'util-linux', findmnt: 'util-linux', sfdisk: 'fdisk', readlink: 'coreutils',
  mdadm: 'mdadm', cryptsetup: 'cryptsetup-bin', pvs: 'lvm2', vgs: 'lvm2', lvs: 'lvm2', vgcfgbackup: 'lvm2',
  dumpe2fs: 'e2fsprogs', xfs_info: 'xfsprogs', btrfs: 'btrfs-progs', zpool: 'zfsutils-linux (or zfs-fuse)',
  zfs: 'zfsutils-linux (or zfs-fuse)', efibootmgr: 'efibootmgr', uname: 'coreutils', date: 'coreutils',
}

export function packageOf(tool: string): string {
  return PACKAGES[tool] ?? tool
}

export function note(ctx: Ctx, msg: string): void {
  ctx.notes.push(msg)
  ctx.warn(msg)
}

export class CaptureError extends BtError {
  constructor(message: string, ...hints: string[]) {
    super('BT_CAPTURE', EXIT.FAILURE, message, hints)
  }
}

export interface Need {
  /** What the output is for, in the note: "the partition table of /dev/sda". */
  what: string
  /** The device in use it is needed for: then a failure stops the capture. */
  device?: string
}

/** The command's stdout when it exits 0; else null and a note, or a CaptureError for a device in use. */
export async function output(ctx: Ctx, argv: readonly string[], need: Need): Promise<string | null> {
  const r = await ctx.run.run(argv)
  if (r.code === 0) return r.stdout
  const tool = argv[0]!
  const install = `install ${packageOf(tool)} (apt-get install ${packageOf(tool).split(' ')[0]})`
  if (r.code === 127) {
    if (need.device) throw new CaptureError(`cannot capture ${need.device}: ${tool} is not installed`, `${install} and run again`)
    note(ctx, `${tool} is not installed: ${need.what} is not captured; ${install}`)
    return null
  }
  const why = `${showCommand(argv)} failed (exit ${r.code}${lastLines(r.stderr) ? `: ${lastLines(r.stderr)}` : ''})`
  if (need.device) throw new CaptureError(`cannot capture ${need.device}: ${why}`, 'run the command by hand to see why; the capture needs its answer')
  note(ctx, `${why}: ${need.what} is not captured`)
  return null
}

/** Like output, but an OpenZFS option zfs-fuse lacks (exit 1 or 2, "invalid option") falls back to `older`. */
export async function outputOr(ctx: Ctx, argv: readonly string[], older: readonly string[], need: Need): Promise<{ text: string; older: boolean } | null> {
  const r = await ctx.run.run(argv)
  if (r.code === 0) return { text: r.stdout, older: false }
  if (r.code !== 127 && /invalid option|invalid property|bad property list|usage:/i.test(r.stderr)) {
    const text = await output(ctx, older, need)
    return text === null ? null : { text, older: true }
  }
  const text = await output(ctx, argv, need)
  return text === null ? null : { text, older: false }
}

/** Text lines of a file in the captured tree, or null when absent. */
export async function readText(ctx: Ctx, path: string): Promise<string | null> {
  const b = await ctx.run.read(`${ctx.prefix}${path}`)
  return b === null ? null : b.toString()
}
