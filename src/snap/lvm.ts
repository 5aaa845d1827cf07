// --lvm VG/LV --snapshot-size SIZE: `lvcreate --snapshot`, mounted read-only on
// a temporary directory (nouuid for XFS, which refuses a second file system
// with the same UUID; noload for ext3/ext4, whose journal cannot be replayed
// on a read-only mount), then unmounted and removed.
import { rmdirSync } from 'node:fs'
import { basename } from 'node:path'
import { isErrno } from '../errors.js'
import { must, rows } from './exec.js'
import { SnapCommandError, SnapSourceError } from './errors.js'
import { isOurs, mountPoint, type Provider, type SnapHost, type Snapshot, type Stale, Undo } from './provider.js'

const LVM_NAME = '[A-Za-z0-9+_.][A-Za-z0-9+_.-]*'
const VGLV_RE = new RegExp(`^(${LVM_NAME})/(${LVM_NAME})$`)

export function badVgLv(s: string): string | undefined {
  return VGLV_RE.test(s) ? undefined : `${JSON.stringify(s)} is not VG/LV (a volume group and a logical volume name)`
}

/** A size for lvcreate: --size (512M, 2G, ...) or, with "%", --extents (20%ORIGIN, 10%VG, 50%FREE). */
export function badSnapshotSize(s: string): string | undefined {
  return /^\d+(\.\d+)?[bBsSkKmMgGtTpPeE]?$/.test(s) || /^\d+%(ORIGIN|VG|FREE|PVS)$/.test(s)
    ? undefined : `bad snapshot size ${JSON.stringify(s)} (give e.g. 2G, 512M or 20%ORIGIN)`
}

/** Mount options for a read-only look at a snapshot of a file system of type `fstype`. */
export function mountOptions(fstype: string): string {
  if (fstype === 'xfs') return 'ro,nouuid'
  if (fstype === 'ext3' || fstype === 'ext4') return 'ro,noload'
  return 'ro'
}

/** The device-mapper name of VG/LV: dashes doubled in each, joined by one. */
export function mapperName(vg: string, lv: string): string {
  return `${vg.replace(/-/g, '--')}-${lv.replace(/-/g, '--')}`
}

export class LvmProvider implements Provider {
  readonly kind = 'lvm'
  private readonly vg: string
  private readonly lv: string
  private readonly undo = new Undo()

  constructor(readonly source: string, private readonly size: string, private readonly host: SnapHost) {
    const m = VGLV_RE.exec(source)!
    this.vg = m[1]!
    this.lv = m[2]!
  }

  private async check(): Promise<void> {
    try {
      await must(this.host.run, ['lvs', '--noheadings', '-o', 'lv_name', this.source])
    } catch (err) {
      if (!(err instanceof SnapCommandError) || err.stderr === '') throw err
      throw new SnapSourceError(`no logical volume ${JSON.stringify(this.source)}: ${err.stderr.trim().split('\n').pop()}`,
        'list them with "lvs"')
    }
  }

  async take(name: string): Promise<Snapshot> {
    await this.check()
    const run = this.host.run
    const snap = `${this.vg}/${name}`
    const size = this.size.includes('%') ? ['--extents', this.size] : ['--size', this.size]
    await must(run, ['lvcreate', '--snapshot', ...size, '--name', name, this.source],
      { hints: ['the volume group needs free extents for the snapshot (vgs); give a smaller --snapshot-size or free space'] })
    this.undo.push(`the LVM snapshot ${snap}`, async () => void await must(run, ['lvremove', '--force', snap], { retryOn: /in use|busy/i }))
    const dev = `/dev/${snap}`
    const fstype = (await must(run, ['blkid', '-p', '-o', 'value', '-s', 'TYPE', dev])).trim()
    if (!fstype) throw new SnapSourceError(`no file system found on ${JSON.stringify(this.source)}`, 'bt-snap reads file systems, not raw volumes')
    const mnt = mountPoint(this.host, name, this.undo)
    await must(run, ['mount', '-t', fstype, '-o', mountOptions(fstype), dev, mnt])
    this.undo.push(`the mount on ${JSON.stringify(mnt)}`, async () => void await must(run, ['umount', mnt], { retryOn: /busy/i }))
    return { path: mnt, id: snap, skip: [] }
  }

  async release(): Promise<void> {
    await this.undo.run()
  }

  async listStale(set: string): Promise<Stale[]> {
    await this.check()
    const run = this.host.run
    const out = await must(run, ['lvs', '--noheadings', '--separator', '|', '-o', 'lv_name,origin', this.vg])
    const stale: Stale[] = []
    for (const [name = '', origin = ''] of rows(out, '|')) {
      if (!isOurs(name, set) || origin !== this.lv) continue
      const devs = [`/dev/${this.vg}/${name}`, `/dev/mapper/${mapperName(this.vg, name)}`]
      const mounts = this.host.mounts().filter(([dev]) => devs.includes(dev)).map(([, mnt]) => mnt)
      stale.push({
        what: `LVM snapshot ${this.vg}/${name}${mounts.length ? ` (mounted on ${mounts.map((m) => JSON.stringify(m)).join(', ')})` : ''}`,
        remove: async () => {
          for (const mnt of mounts.reverse()) {
            await must(run, ['umount', mnt], { retryOn: /busy/i })
            if (mnt.startsWith(`${this.host.tmpdir}/`) && basename(mnt).startsWith(`${name}-`)) {
              try {
                rmdirSync(mnt)
              } catch (err) {
                if (!isErrno(err, 'ENOENT')) throw err
              }
            }
          }
          await must(run, ['lvremove', '--force', `${this.vg}/${name}`], { retryOn: /in use|busy/i })
        },
      })
    }
    return stale
  }
}
