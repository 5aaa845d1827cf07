// End to end on loop devices: a machine (GPT; vfat ESP, ext4 root, btrfs with
// two subvolumes mounted below the root, swap, a zfs-fuse pool with datasets
// below the root) is backed up, full then differential, to a file:// store;
// bt-mkrecover writes recover.sh; the machine dies; recover.sh rebuilds it on
// a blank image of the same size and on a larger one. Compared: partition
// tables, UUIDs, labels, subvolumes, ZFS properties, and the tree, which must be
// the differential's day. Also: a rerun after success changes nothing; a
// smaller target and one holding a file system are refused, untouched; without
// node, openssl and tar restore the full and the differential step says what
// is missing.
import t, { type Test } from 'tap'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { BIN, ROOT } from '../helpers.js'
import { missing } from '../snap/fixtures.js'
import { compareTrees } from '../tree.js'
import { MIB, type Machine, attach, blkid, build, change, cmd, detach, fill, kill, ok, part, umount } from './loop-machine.js'

// Until the capture is in this build, the machine's layout is written by hand
// (loop-machine.ts) and given with --layout; true: bt-mkrecover --root --disk captures it.
const CAPTURE = true
// bt-restore into a tree of several file systems fails with EXDEV until it
// stages per file system; until then the node path's tree checks are "todo".
const XDEV_FIXED = true

const skip = missing('zfs', t) || missing('btrfs', t)
const K = `${ROOT}test/fixtures/keys`
const SET = 'loopm'
const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
const PATH = `${BIN}:${process.env.PATH}`

/** The table as sfdisk dumps it, without what names the device or depends on the disk's size. */
const table = (dev: string) => ok(['sfdisk', '--dump', dev]).split('\n')
  .filter((l) => !/^(device|last-lba):/.test(l)).map((l) => l.replace(/^\/dev\/\S+?(\d+) :/, '$1 :')).join('\n')

function startZfs(t: Test, dir: string): void {
  if (cmd(['zpool', 'list']).code === 0) return
  ok(['zfs-fuse', '--pidfile', `${dir}/zfs-fuse.pid`, '--no-kstat-mount', '-x'])
  for (let i = 0; i < 100 && cmd(['zpool', 'list']).code !== 0; i++) sleep(100)
  t.teardown(() => {
    const pid = Number(cmd(['cat', `${dir}/zfs-fuse.pid`]).stdout.trim())
    if (pid > 0) cmd(['kill', String(pid)])
  })
}

/** A PATH with every command of this system but node: a rescue system without Node. */
function pathWithoutNode(dir: string): string {
  const bin = `${dir}/no-node-bin`
  mkdirSync(bin, { recursive: true })
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    let names: string[] = []
    try {
      names = readdirSync(d)
    } catch {
      continue
    }
    for (const n of names) {
      if (/^(node|nodejs|npm|npx|backtory.*|bt-.*)$/.test(n)) continue
      try {
        symlinkSync(`${d}/${n}`, `${bin}/${n}`)
      } catch {
        // The same name from an earlier directory wins, as on PATH.
      }
    }
  }
  return bin
}

t.test('recover.sh rebuilds a loop-device machine and restores it', { skip }, async (t) => {
  const dir = mkdtempSync(`${tmpdir()}/bt-recover-test-`)
  chmodSync(dir, 0o755)
  const devs: string[] = []
  const newDisk = (name: string, mib: number) => {
    const d = attach(`${dir}/${name}.img`, mib)
    devs.push(d)
    return d
  }
  const pool = `btrec${process.pid}`
  const T = `${dir}/target`
  t.teardown(() => {
    // Whatever a failed test left: the pool (export -f when a dataset is stuck), mounts (lazily at last), loops.
    if (cmd(['zpool', 'destroy', '-f', pool]).code !== 0) cmd(['zpool', 'export', '-f', pool])
    for (const m of cmd(['sh', '-c', `grep -o " ${dir}[^ ]* " /proc/mounts | sort -r`]).stdout.split('\n').map((s) => s.trim()).filter(Boolean)) {
      if (cmd(['umount', m]).code !== 0) cmd(['umount', '-l', m])
    }
    for (const d of devs) detach(d)
    rmSync(dir, { recursive: true, force: true })
  })
  startZfs(t, dir)

  // --- the machine, its two days of backups, its recover.sh
  const m: Machine = build(newDisk('source', MIB), `${dir}/machine`, pool)
  fill(m.root, m.layout.fstab!)
  const store = `${dir}/store`
  const S = `${dir}/state`
  mkdirSync(S)
  const seal = `bt-seal.js --set ${SET} --to ${K}/admin.pub --sign ${K}/host.key | bt-put.js --state "${S}" "file://${store}"`
  const full = cmd(['sh', '-c', `bt-scan.js "${m.root}" | bt-delta.js -q --full --state "${S}" | ${seal}`], { PATH })
  t.equal(full.code, 0, `full backup: ${full.stderr}`)
  ok(['cp', '-a', m.root, `${dir}/day1`])
  sleep(1100)
  change(m.root)
  const diff = cmd(['sh', '-c', `bt-scan.js --state "${S}" "${m.root}" | bt-delta.js -q --auto --state "${S}" | ${seal}`], { PATH })
  t.equal(diff.code, 0, `differential: ${diff.stderr}`)
  t.match(diff.stdout, /_diff_/)
  ok(['cp', '-a', m.root, `${dir}/day2`])
  // Mount points show with the altroot in front: the machine's and the target's.
  const zprops = (altroot: string) => ok(['zfs', 'get', '-H', '-r', '-s', 'local', '-o', 'name,property,value', 'all', pool])
    .split('\n').filter(Boolean).map((l) => l.replace(`\t${altroot}/`, '\t/')).sort().join('\n')
  const wantProps = zprops(m.root)
  const wantTable = table(m.dev)
  writeFileSync(`${dir}/layout.json`, JSON.stringify(m.layout))
  const source = CAPTURE ? ['--root', m.root, '--disk', m.dev] : ['--layout', `${dir}/layout.json`]
  const mk = cmd([process.execPath, `${BIN}/bt-mkrecover.js`, ...source, '--store', `file://${store}`, '--verify', `${K}/host.pub`, '-o', `${dir}/recover.sh`])
  t.equal(mk.code, 0, mk.stderr)
  const sc = cmd(['shellcheck', '-s', 'sh', `${dir}/recover.sh`])
  t.equal(sc.code, 0, `shellcheck: ${sc.stdout}`)
  kill(m)
  const old = m.dev.replace('/dev/', '')

  const recover = (dev: string, extra: string[] = [], path = PATH) =>
    cmd(['sh', `${dir}/recover.sh`, '--map', `${old}=${dev}`, '--key', `${K}/admin.key`, '--target', T, '--no-boot', '--log', `${dir}/recover.log`, ...extra], { PATH: path })

  /** Mounts the recovered tree at T as the machine had it, runs fn, unmounts. */
  const mounted = (dev: string, fn: () => void) => {
    ok(['mount', part(dev, 2), T])
    ok(['mount', '-o', 'subvol=@srv', part(dev, 3), `${T}/srv`])
    ok(['mount', '-o', 'subvol=@logs', part(dev, 3), `${T}/var/log`])
    mkdirSync(`${dir}/zdev`, { recursive: true })
    rmSync(`${dir}/zdev/p5`, { force: true })
    symlinkSync(part(dev, 5), `${dir}/zdev/p5`)
    ok(['zpool', 'import', '-R', T, '-d', `${dir}/zdev`, pool])
    try {
      fn()
    } finally {
      cmd(['zpool', 'export', pool])
      umount(`${T}/var/log`)
      umount(`${T}/srv`)
      umount(T)
    }
  }

  const sameTree = (t: Test, dev: string, day: string, what: string, todo: string | false) => mounted(dev, () => {
    const d = compareTrees(`${dir}/${day}`, T, { holes: false, rootMeta: false })
      .filter((x) => !/^var\/lib\/backtory-recover(\/|$)/.test(x.path) && !(x.path === 'var/lib' || x.path === 'var') && !/^(lost\+found)/.test(x.path))
    t.same(d, [], `${what}: the tree is ${day === 'day2' ? "the differential's" : "the full's"} day`, { todo })
  })

  const checkDisk = (t: Test, dev: string) => {
    t.equal(table(dev), wantTable, 'the partition table is the machine\'s (label-id, partitions, types, GUIDs, names)')
    for (const f of m.layout.filesystems) {
      const n = Number(f.device.split(':')[2])
      t.equal(blkid(part(dev, n), 'TYPE'), f.type, `${f.device}: ${f.type}`)
      t.equal(blkid(part(dev, n), 'UUID'), f.uuid, `${f.device}: its UUID`)
      t.equal(blkid(part(dev, n), 'LABEL'), f.label, `${f.device}: its label`)
    }
    t.equal(blkid(part(dev, 4), 'UUID'), m.layout.swaps[0]!.uuid, 'swap: its UUID')
    t.equal(blkid(part(dev, 4), 'LABEL'), 'swap', 'swap: its label')
    mkdirSync(`${dir}/top`, { recursive: true })
    ok(['mount', '-o', 'subvolid=5', part(dev, 3), `${dir}/top`])
    const subs = ok(['btrfs', 'subvolume', 'list', `${dir}/top`]).split('\n').filter(Boolean).map((l) => l.replace(/.* path /, '')).sort()
    umount(`${dir}/top`)
    t.same(subs, ['@logs', '@srv'], 'btrfs: its subvolumes')
    mounted(dev, () => t.equal(zprops(T), wantProps, 'ZFS: the datasets with their local properties'))
  }

  /** The full run: with node (all of it), or, until EXDEV is fixed, with the restore a "todo" and finished by --no-restore. */
  const fullRun = (t: Test, dev: string, what: string) => {
    const r = recover(dev)
    t.equal(r.code, 0, `${what}: recover.sh succeeds: ${r.stderr.slice(-3000)}`, { todo: XDEV_FIXED ? false : 'bt-restore across file systems (EXDEV)' })
    if (r.code !== 0 && !XDEV_FIXED) {
      t.match(r.stderr, /step \d+\/\d+ \(restore the backup/, 'the failure names the restore step')
      t.match(r.stderr, /fix that, then run the same command again: finished steps are skipped/)
      const rest = recover(dev, ['--no-restore'])
      t.equal(rest.code, 0, `${what}: the steps after the restore finish: ${rest.stderr.slice(-3000)}`)
      t.match(rest.stderr, /partition table of .*: done already, skipped/, 'the disks are not rebuilt a second time')
    }
    checkDisk(t, dev)
    sameTree(t, dev, 'day2', what, XDEV_FIXED ? false : 'bt-restore across file systems (EXDEV)')
  }

  t.test('--plan prints the steps for the new disk and touches nothing', async (t) => {
    const r = cmd(['sh', `${dir}/recover.sh`, '--plan', '--map', `${old}=/dev/loop99`])
    t.equal(r.code, 0, r.stderr)
    t.match(r.stdout, new RegExp(`${old} \\(${MIB * 1024 * 1024} bytes, gpt, was /dev/${old}\\) -> /dev/loop99`))
    t.match(r.stdout, /sfdisk --no-reread .* \/dev\/loop99 </)
    t.match(r.stdout, /mkfs\.btrfs -f -q -U \S+ -L data (-[dm] \S+ )*\/dev\/loop99p3/, 'btrfs with its UUID, label and the captured profiles')
  })

  t.test('a smaller disk is refused, with the sizes, and left untouched', async (t) => {
    const small = newDisk('small', MIB - 64)
    const r = recover(small)
    t.equal(r.code, 1)
    t.match(r.stderr, new RegExp(`${small} is smaller than ${old} was: ${(MIB - 64) * 1024 * 1024} bytes, ${old} had ${MIB * 1024 * 1024} bytes`))
    t.equal(statSync(`${dir}/small.img`).blocks, 0, 'not one block of the image was written')
  })

  t.test('a disk holding a file system is refused without --force, and kept', async (t) => {
    const used = newDisk('used', MIB)
    ok(['mkfs.ext4', '-q', '-L', 'precious', used])
    const uuid = blkid(used, 'UUID')
    const r = recover(used)
    t.equal(r.code, 1)
    t.match(r.stderr, new RegExp(`${used} holds data`))
    t.match(r.stderr, /hint: fix that, then run the same command again/)
    t.equal(blkid(used, 'UUID'), uuid, 'its file system is still there')
  })

  const same = newDisk('same', MIB)
  t.test('onto a blank disk of the same size', async (t) => fullRun(t, same, 'same size'))

  t.test('a rerun after success changes nothing and succeeds', async (t) => {
    const before = [table(same), ...[1, 2, 3, 4].map((n) => blkid(part(same, n), 'UUID'))]
    const r = recover(same, XDEV_FIXED ? [] : ['--no-restore'])
    t.equal(r.code, 0, r.stderr)
    t.notMatch(r.stderr, /\$ (sfdisk|mkfs|mkswap|zpool create|btrfs subvolume create)/, 'nothing is made again')
    t.same([table(same), ...[1, 2, 3, 4].map((n) => blkid(part(same, n), 'UUID'))], before)
    sameTree(t, same, 'day2', 'rerun', XDEV_FIXED ? false : 'bt-restore across file systems (EXDEV)')
  })

  t.test('onto a larger blank disk', async (t) => {
    // Two btrfs of one UUID cannot be attached at once (mkfs.btrfs refuses): the first copy goes.
    detach(same)
    devs.splice(devs.indexOf(same), 1)
    const large = newDisk('large', MIB + 256)
    fullRun(t, large, 'larger')
  })

  t.test('with node, into one file system: backtory restores the full and the differential, the tree is the differential\'s day', async (t) => {
    // The node path, proved today on a layout whose tree is the root alone (no EXDEV to meet).
    const large = devs.pop()!
    detach(large)
    const one = newDisk('one', MIB)
    writeFileSync(`${dir}/layout-root.json`, JSON.stringify({ ...m.layout, mounts: m.layout.mounts.slice(0, 1) }))
    const mk1 = cmd([process.execPath, `${BIN}/bt-mkrecover.js`, '--layout', `${dir}/layout-root.json`, '--store', `file://${store}`, '--verify', `${K}/host.pub`, '-o', `${dir}/recover-root.sh`])
    t.equal(mk1.code, 0, mk1.stderr)
    const r = cmd(['sh', `${dir}/recover-root.sh`, '--map', `${old}=${one}`, '--key', `${K}/admin.key`, '--target', T, '--no-boot', '--log', `${dir}/recover.log`], { PATH })
    t.equal(r.code, 0, r.stderr)
    t.match(r.stderr, /\$ node \S+backtory\.js restore --store file:\/\/\S+ --key \S+admin\.key --verify \S+host\.pub --numeric-owner --to /)
    ok(['mount', part(one, 2), T])
    try {
      const d = compareTrees(`${dir}/day2`, T, { holes: false, rootMeta: false })
        .filter((x) => !/^var\/lib\/backtory-recover(\/|$)/.test(x.path) && !(x.path === 'var/lib' || x.path === 'var') && !/^lost\+found/.test(x.path))
      t.same(d, [], 'the tree is the differential\'s day')
    } finally {
      umount(T)
    }
  })

  t.test('without node: openssl and tar restore the full, and the differential step says what is missing', async (t) => {
    detach(devs.pop()!)
    const bare = newDisk('bare', MIB)
    const r = recover(bare, [], pathWithoutNode(dir))
    t.equal(r.code, 1)
    t.match(r.stderr, /the full \S+_full_\S+ is restored into \S+, the differential \S+_diff_\S+ is not: applying it needs backtory, and there is no node on this rescue system and no backtory in the restored system \(looked for \S+\/usr\/local\/bin\/bt-restore, and \S+\/opt\/backtory\/bin\/bt-restore\.js with node\)/)
    t.match(r.stderr, /hint: install node and backtory here/)
    // The full's own point in time needs no backtory: the same command with --at finishes, without
    // extracting the full a second time.
    const at = /_(\d{8}T\d{6}Z)_full_/.exec(full.stdout)![1]!
    const r2 = recover(bare, ['--at', at], pathWithoutNode(`${dir}/again`))
    t.equal(r2.code, 0, r2.stderr)
    t.notMatch(r2.stderr, /\$ bt_open_to/, 'the full is not extracted again')
    sameTree(t, bare, 'day1', 'openssl and tar', false)
  })
})
