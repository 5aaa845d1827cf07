// A "machine" on a loop image, for the end-to-end test of recover.sh: GPT with
// a vfat ESP (not mounted: vfat does not mount here), an ext4 root, a btrfs
// partition with two subvolumes mounted below the root, swap, and a zfs-fuse
// pool whose datasets are mounted below the root too. Built, filled, backed up
// (full, then a differential), and then it "dies": everything unmounted, the
// pool destroyed, the loop device detached.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { type Layout } from '../../src/recover/layout.js'

export interface Cmd { code: number | null; stdout: string; stderr: string }

export function cmd(argv: string[], env: NodeJS.ProcessEnv = {}): Cmd {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', ...env }, maxBuffer: 1 << 26 })
  if (r.error) return { code: null, stdout: '', stderr: r.error.message }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

export function ok(argv: string[]): string {
  const r = cmd(argv)
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: exit ${r.code}: ${r.stderr}`)
  return r.stdout
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

/** A loop device on a new sparse image of `mib` MiB; its partitions' nodes made by partx. */
export function attach(img: string, mib: number): string {
  ok(['truncate', '-s', `${mib}M`, img])
  return ok(['losetup', '-f', '--show', img]).trim()
}

/** Detaches `dev` and drops its partitions from the kernel first (losetup -d leaves them). */
export function detach(dev: string): void {
  cmd(['partx', '-d', dev])
  for (let i = 0; i < 20 && cmd(['losetup', '-d', dev]).code !== 0; i++) sleep(250)
}

export function umount(path: string): void {
  for (let i = 0; i < 20; i++) {
    const r = cmd(['umount', path])
    if (r.code === 0 || /not mounted|no mount point/.test(r.stderr)) return
    sleep(250)
  }
}

export const part = (dev: string, n: number) => `${dev}p${n}`
export const blkid = (dev: string, tag: string) => cmd(['blkid', '-p', '-o', 'value', '-s', tag, dev]).stdout.trim()

/** The partitions: 1 ESP, 2 root, 3 btrfs, 4 swap, 5 ZFS. */
const TABLE = `label: gpt
size=32M, type=U, name="EFI System"
size=200M, type=L, name="root"
size=160M, type=L, name="data"
size=16M, type=S, name="swap"
type=6A898CC3-1DD2-11B2-99A6-080020736631, name="zfs"
`
export const MIB = 640

export interface Machine {
  dev: string
  root: string
  pool: string
  layout: Layout
}

/** Builds the machine on `dev` (a blank loop device), its tree mounted at `root`. */
export function build(dev: string, root: string, pool: string): Machine {
  ok(['sh', '-c', `printf '%s' '${TABLE}' | sfdisk -q "${dev}"`])
  ok(['partx', '-u', dev])
  for (let i = 1; i <= 5 && !existsSync(part(dev, 5)); i++) sleep(200)
  ok(['mkfs.vfat', '-i', 'BEEF1234', '-n', 'ESP', part(dev, 1)])
  ok(['mkfs.ext4', '-q', '-L', 'root', '-O', '^metadata_csum', part(dev, 2)])
  ok(['mkfs.btrfs', '-q', '-f', '-L', 'data', part(dev, 3)])
  ok(['mkswap', '-L', 'swap', part(dev, 4)])
  mkdirSync(root, { recursive: true })
  // zfs-fuse mounts a new pool's top at the altroot itself, whatever -O mountpoint= says:
  // made while the root is an empty directory, and given mountpoint=none at once.
  ok(['zpool', 'create', '-f', '-o', 'cachefile=none', '-R', root, '-O', 'atime=off', pool, part(dev, 5)])
  ok(['zfs', 'set', 'mountpoint=none', pool])
  ok(['mount', part(dev, 2), root])
  const top = `${root}.btrfs-top`
  mkdirSync(top, { recursive: true })
  ok(['mount', part(dev, 3), top])
  ok(['btrfs', 'subvolume', 'create', `${top}/@srv`])
  ok(['btrfs', 'subvolume', 'create', `${top}/@logs`])
  umount(top)
  mkdirSync(`${root}/srv`, { recursive: true })
  mkdirSync(`${root}/var/log`, { recursive: true })
  ok(['mount', '-o', 'subvol=@srv', part(dev, 3), `${root}/srv`])
  ok(['mount', '-o', 'subvol=@logs', part(dev, 3), `${root}/var/log`])
  ok(['zfs', 'create', '-o', 'mountpoint=/home', '-o', 'compression=on', `${pool}/home`])
  ok(['zfs', 'create', '-o', 'copies=2', `${pool}/home/alice`])
  return { dev, root, pool, layout: layoutOf(dev, pool) }
}

function partitions(dev: string): Layout['disks'][number]['partitions'] {
  const j = JSON.parse(ok(['sfdisk', '--json', dev])) as { partitiontable: { partitions: { node: string; start: number; size: number; type: string; uuid?: string; name?: string }[] } }
  return j.partitiontable.partitions.map((p) => ({
    number: Number(/(\d+)$/.exec(p.node)![1]), startSector: p.start, sizeSectors: p.size, type: p.type, uuid: p.uuid ?? null, name: p.name ?? null, bootable: false,
  }))
}

/** The machine's Layout, written by hand from what the tools say (until the capture is in this build). */
function layoutOf(dev: string, pool: string): Layout {
  const name = dev.replace('/dev/', '')
  const p = (n: number) => `part:${name}:${n}`
  const fs = (n: number, type: string, subvolumes: { path: string; id: number }[] = []) => ({
    device: p(n), type, uuid: blkid(part(dev, n), 'UUID'), label: blkid(part(dev, n), 'LABEL'),
    mkfsArgs: type === 'ext4' ? ['-O', '^metadata_csum'] : [], subvolumes, defaultSubvolume: null,
  })
  const dump = ok(['sfdisk', '--dump', dev])
  const uuid = blkid(part(dev, 2), 'UUID')
  return {
    version: 1, capturedAt: new Date().toISOString(), host: 'loopm', os: 'linux', root: '/',
    boot: { firmware: 'efi', loader: 'none', grubDisks: [], efi: null },
    disks: [{
      name, path: dev, sizeBytes: MIB * 1024 * 1024, sectorSize: 512, model: null, serial: null, table: 'gpt',
      tableId: /label-id: (\S+)/.exec(dump)![1]!, sfdiskDump: dump, partitions: partitions(dev),
    }],
    md: [], luks: [], lvm: [],
    filesystems: [fs(1, 'vfat'), fs(2, 'ext4'), fs(3, 'btrfs', [{ path: '@srv', id: 256 }, { path: '@logs', id: 257 }])],
    swaps: [{ device: p(4), uuid: blkid(part(dev, 4), 'UUID'), label: 'swap' }],
    zfs: [{
      name: pool, vdevs: [{ type: 'disk', devices: [p(5)] }], properties: {},
      datasets: [
        { name: pool, type: 'filesystem', volsizeBytes: null, properties: { mountpoint: 'none', atime: 'off' } },
        { name: `${pool}/home`, type: 'filesystem', volsizeBytes: null, properties: { mountpoint: '/home', compression: 'on' } },
        { name: `${pool}/home/alice`, type: 'filesystem', volsizeBytes: null, properties: { copies: '2' } },
      ],
    }],
    mounts: [
      { target: '/', source: p(2), fstype: 'ext4', options: 'rw,relatime', subvolume: null },
      { target: '/srv', source: p(3), fstype: 'btrfs', options: 'rw,relatime,subvolid=256,subvol=/@srv', subvolume: '/@srv' },
      { target: '/var/log', source: p(3), fstype: 'btrfs', options: 'rw,relatime,subvolid=257,subvol=/@logs', subvolume: '/@logs' },
      { target: '/home', source: `zfs:${pool}/home`, fstype: 'zfs', options: 'rw', subvolume: null },
      { target: '/home/alice', source: `zfs:${pool}/home/alice`, fstype: 'zfs', options: 'rw', subvolume: null },
    ],
    fstab: `UUID=${uuid} / ext4 defaults 0 1\n`,
    crypttab: null,
    backup: { store: null, set: null, signer: null, signerPublicKey: null },
    notes: [],
  }
}

/** Day one's files in every file system of the machine. */
export function fill(root: string, fstab: string): void {
  const w = (rel: string, text: string | Buffer) => {
    mkdirSync(`${root}/${rel}`.replace(/\/[^/]*$/, ''), { recursive: true })
    writeFileSync(`${root}/${rel}`, text)
  }
  w('etc/hostname', 'loopm\n')
  w('etc/fstab', fstab)
  w('srv/www/index.html', '<h1>day one</h1>\n')
  w('srv/www/big.bin', Buffer.alloc(3 << 20, 7))
  w('var/log/syslog', 'boot\n')
  w('home/alice/notes.txt', 'remember the milk\n')
  w('home/alice/old.txt', 'deleted on day two\n')
  ok(['ln', '-s', 'www/index.html', `${root}/srv/index`])
  ok(['ln', `${root}/srv/www/index.html`, `${root}/srv/www/hard.html`])
}

/** Day two: changed, added and deleted files, in each file system. */
export function change(root: string): void {
  writeFileSync(`${root}/srv/www/index.html`, '<h1>day two</h1>\n')
  writeFileSync(`${root}/var/log/syslog`, 'boot\nday two\n')
  writeFileSync(`${root}/home/alice/new.txt`, 'new on day two\n')
  writeFileSync(`${root}/etc/motd`, 'recovered?\n')
  ok(['rm', `${root}/home/alice/old.txt`])
}

/** The machine dies: its tree unmounted, its pool destroyed, its disk detached. */
export function kill(m: Machine): void {
  for (let i = 0; i < 20; i++) {
    const r = cmd(['zpool', 'destroy', '-f', m.pool])
    if (r.code === 0 || /no such pool/.test(r.stderr)) break
    sleep(250)
  }
  umount(`${m.root}/var/log`)
  umount(`${m.root}/srv`)
  umount(m.root)
  detach(m.dev)
}
