// The plan of hand-written layouts (not captured from a machine): the steps in
// the order recover.sh must take them, each command with the identifiers the
// layout gives, and the --plan output against golden files
// (test/recover/golden/*.txt, "from a hand-written layout").
// BT_UPDATE_GOLDEN=1 rewrites the golden files.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { buildPlan } from '../../src/recover/plan.js'
import { renderRecoverScript } from '../../src/recover/script.js'
import { ROOT } from '../helpers.js'
import { LAYOUTS, biosMdLvm, efiGpt, luks, zfsMirror } from './layouts.js'

const titles = (l: ReturnType<typeof biosMdLvm>) => buildPlan(l).steps.map((s) => s.title)
const runOf = (l: ReturnType<typeof biosMdLvm>, title: RegExp) => buildPlan(l).steps.find((s) => title.test(s.title))?.run.join('\n') ?? ''

t.test('BIOS with md RAID1 and LVM: tables, arrays, volume group, file systems, mounts, restore, GRUB on both disks', async (t) => {
  const want = [/^check the new disks/, /^partition table of sda/, /^partition table of sdb/, /^md array boot/, /^md array pv/,
    /^LVM volume group vg0/, /^activate volume group vg0/, /^ext4 on md:boot/, /^ext4 on lv:vg0\/root/, /^swap on lv:vg0\/swap/,
    /^mount the tree under the target: \/ \/boot$/, /^restore/, /^fstab and crypttab/, /^boot loader \(BIOS, GRUB\)/, /^unmount/]
  const got = titles(biosMdLvm())
  t.equal(got.length, want.length, got.join('\n'))
  want.forEach((re, i) => t.match(got[i], re))
  t.match(runOf(biosMdLvm(), /^md array pv/), /bt_md pv 6b8c4f2e:11d0a9b3:7e5f6a4c:2d3e1f0b raid1 1\.2 - - @part:sda:2 @part:sdb:2/)
  t.match(runOf(biosMdLvm(), /^LVM volume group/), /pvcreate --yes --uuid AbCdEf-1234-5678-9abc-def0-1234-567890 --restorefile "\$BT_WORK\/vg-vg0" @md:pv/)
  t.match(runOf(biosMdLvm(), /^ext4 on md:boot/), /mkfs\.ext4 -F -q -U 0b0e5f6a-1c2d-4e3f-8a9b-0c1d2e3f4a5b -L boot -O '\^metadata_csum' @md:boot/)
  t.match(runOf(biosMdLvm(), /^boot loader/), /bt_boot_bios disk:sda disk:sdb\nbt_boot_finish/)
})

t.test('EFI on GPT: vfat ESP with its volume id, xfs root with its UUID, grub-install for EFI and the firmware entry', async (t) => {
  t.match(runOf(efiGpt(), /^vfat/), /mkfs\.vfat -i A1B2C3D4 -n ESP -F 32 @part:nvme0n1:1/)
  t.match(runOf(efiGpt(), /^xfs/), /mkfs\.xfs -f -m uuid=9c8b7a65-4321-4fed-bca9-876543210fed -L 'web'\\''s root' -m reflink=1 @part:nvme0n1:2/)
  t.match(runOf(efiGpt(), /^boot loader \(EFI/), /bt_boot_efi part:nvme0n1:1 debian\nbt_efi_entry debian '\\EFI\\debian\\shimx64\.efi' part:nvme0n1:1/)
  t.notOk(titles(efiGpt()).some((x) => /md array|LVM|LUKS|ZFS/.test(x)), 'nothing of what the layout lacks')
})

t.test('LUKS: formatted with its UUID and parameters (asking for the passphrase), opened, then the file system inside', async (t) => {
  const got = titles(luks())
  const i = got.findIndex((x) => /^LUKS on part:nvme0n1:2/.test(x))
  t.ok(i > 0 && /^open LUKS part:nvme0n1:2 as cryptroot/.test(got[i + 1]!), got.join('\n'))
  t.ok(got.findIndex((x) => /^ext4 on luks:cryptroot/.test(x)) > i + 1, 'the file system comes after the mapping')
  t.match(runOf(luks(), /^LUKS on/), /bt_run_tty cryptsetup luksFormat --batch-mode --verify-passphrase --type=luks2 --uuid=c0ffee00-1234-4abc-9def-0123456789ab --cipher=aes-xts-plain64 --key-size=512 --hash=sha256 --pbkdf=argon2id --sector-size=4096 @part:nvme0n1:2/)
  t.match(buildPlan(luks()).steps.find((s) => /^fstab/.test(s.title))!.run[0], /luks:cryptroot=7f3e|part:nvme0n1:2=c0ffee00-1234-4abc-9def-0123456789ab/)
})

t.test('ZFS mirror: the pool with its properties before its vdevs, datasets parents first, mounted in order; no boot loader', async (t) => {
  // Only what zfs cannot change later is given to zpool create -O; the rest is set on the new pool.
  t.equal(runOf(zfsMirror(), /^ZFS pool tank/), 'bt_zpool tank -o ashift=12 -O normalization=formD -- mirror @part:sdb:1 @part:sdc:1\nbt_run zfs set compression=lz4 tank\nbt_run zfs set mountpoint=/tank tank')
  t.equal(runOf(zfsMirror(), /^ZFS datasets/), 'bt_zfs_create tank/srv -o mountpoint=/srv -o atime=off\nbt_zfs_create tank/srv/db -o recordsize=16K\nbt_zfs_create tank/swap -V 4294967296 -o volblocksize=4096')
  t.equal(runOf(zfsMirror(), /^mount the tree/), 'bt_mount /srv zfs:tank/srv zfs rw,noatime\nbt_mount /srv/db zfs:tank/srv/db zfs rw')
  t.notOk(titles(zfsMirror()).some((x) => /boot loader/.test(x)))
  t.match(buildPlan(zfsMirror()).notes.join('\n'), /no boot loader was found/)
})

t.test('a btrfs subvolume mount keeps subvol= and drops the subvolid the rebuild cannot keep', async (t) => {
  const l = efiGpt()
  l.filesystems[1] = { ...l.filesystems[1]!, type: 'btrfs', subvolumes: [{ path: '@', id: 256 }, { path: '@/home', id: 257 }], defaultSubvolume: '@' }
  l.mounts[0] = { target: '/', source: 'part:nvme0n1:2', fstype: 'btrfs', options: 'rw,noatime,subvolid=256,subvol=/@', subvolume: '/@' }
  t.equal(runOf(l, /^btrfs subvolumes/), 'bt_subvols part:nvme0n1:2 @ @ @/home')
  t.match(runOf(l, /^mount the tree/), /^bt_mount \/ part:nvme0n1:2 btrfs rw,noatime,subvol=\/@$/m)
})

for (const [name, make] of Object.entries(LAYOUTS)) {
  t.test(`--plan of the hand-written layout ${name} is its golden file, the same under dash and busybox sh`, async (t) => {
    const dir = t.testdir()
    writeFileSync(`${dir}/recover.sh`, renderRecoverScript(make()))
    const golden = `${ROOT}test/recover/golden/${name}.txt`
    const outs: string[] = []
    for (const shell of [['dash'], ['busybox', 'sh']]) {
      for (const map of [[], name === 'bios-md-lvm' ? ['--map', 'sda=/dev/vdb,sdb=/dev/vdc'] : []]) {
        const r = spawnSync(shell[0]!, [...shell.slice(1), `${dir}/recover.sh`, '--plan', ...map], { encoding: 'utf8' })
        t.equal(r.status, 0, `${shell.join(' ')}: ${r.stderr}`)
        t.equal(r.stderr, '', 'nothing on stderr')
        outs.push(r.stdout)
      }
    }
    t.equal(outs[2], outs[0], 'dash and busybox sh print the same plan')
    t.equal(outs[3], outs[1], 'dash and busybox sh print the same plan, with --map')
    const text = `# --plan of recover.sh from a hand-written layout (test/recover/layouts.ts: ${name}), not from a captured machine\n${outs[0]}${outs[1] === outs[0] ? '' : `# with --map\n${outs[1]}`}`
    if (process.env.BT_UPDATE_GOLDEN === '1' || !existsSync(golden)) writeFileSync(golden, text)
    t.equal(text, readFileSync(golden, 'utf8'), `${name}: --plan is unchanged (BT_UPDATE_GOLDEN=1 rewrites it)`)
  })
}

t.test('recover.sh is clean under shellcheck -s sh', async (t) => {
  const dir = t.testdir()
  for (const [name, make] of Object.entries(LAYOUTS)) {
    writeFileSync(`${dir}/${name}.sh`, renderRecoverScript(make()))
    const r = spawnSync('shellcheck', ['-s', 'sh', `${dir}/${name}.sh`], { encoding: 'utf8' })
    t.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`)
  }
})

t.test('--layout prints the embedded layout, which is the layout', async (t) => {
  const dir = t.testdir()
  writeFileSync(`${dir}/recover.sh`, renderRecoverScript(zfsMirror()))
  const r = spawnSync('dash', [`${dir}/recover.sh`, '--layout'], { encoding: 'utf8' })
  t.equal(r.status, 0)
  t.same(JSON.parse(r.stdout), zfsMirror())
})

t.test('recover.sh refuses a bad command line (exit 2), and a run without --map or a terminal to confirm on (exit 1)', async (t) => {
  const dir = t.testdir()
  writeFileSync(`${dir}/recover.sh`, renderRecoverScript(zfsMirror()))
  const run = (...args: string[]) => spawnSync('dash', [`${dir}/recover.sh`, ...args], { encoding: 'utf8', input: '' })
  const cases: Array<[string[], number, RegExp]> = [
    [['--bogus'], 2, /recover\.sh: error: unknown option --bogus/],
    [['--map'], 2, /option --map needs a value/],
    [['--map', 'sdx=/dev/vdb'], 2, /--map names disk "sdx", which the layout does not have\nrecover\.sh: hint: its disks: sdb sdc/],
    [['--map', 'sdb'], 2, /--map wants OLD=NEW, not "sdb"/],
    [['--at', 'x', '--id', 'y'], 2, /give --at or --id, not both/],
    [['--target', 'rel'], 2, /--target must be an absolute path: "rel"/],
    [['--key', 'k'], 1, /no --map for disk\(s\) sdb sdc, and no terminal to confirm on\nrecover\.sh: hint: say which new disk/],
  ]
  for (const [args, code, re] of cases) {
    const r = run(...args)
    t.equal(r.status, code, args.join(' '))
    t.match(r.stderr, re)
  }
})
