// ZFS pools: their vdevs (which devices, so also which disks), the properties
// set when they were made, and their datasets with the locally set properties.
import { type ZPool } from '../layout.js'
import { type BlockDev, type Graph, byPath } from './blockdev.js'
import { type Ctx, note, output, outputOr } from './context.js'
import { parseZfsGetLocal, parseZfsList, parseZpoolGet, parseZpoolStatus, poolProperties, type PoolStatus } from './zfs-parse.js'

export class Zfs {
  private readonly status = new Map<string, Promise<PoolStatus | null>>()

  constructor(private readonly ctx: Ctx, private readonly g: Graph) {}

  /** The pool's vdevs; `device` names a mount in use that needs the answer. */
  vdevs(pool: string, device?: string): Promise<PoolStatus | null> {
    if (!this.status.has(pool)) {
      this.status.set(pool, (async () => {
        const r = await outputOr(this.ctx, ['zpool', 'status', '-P', pool], ['zpool', 'status', pool], { what: `the vdevs of pool ${pool}`, device })
        return r === null ? null : parseZpoolStatus(r.text, pool)
      })())
    }
    return this.status.get(pool)!
  }

  /**
   * The block device a vdev names: a path (-P), a name under /dev, a symlink
   * such as /dev/disk/by-id/..., or a device node elsewhere (zfs-fuse users
   * make them), found by its major and minor numbers.
   */
  async device(name: string): Promise<BlockDev | undefined> {
    const path = name.startsWith('/') ? name : `/dev/${name}`
    const d = byPath(this.g, path)
    if (d) return d
    const r = await this.ctx.run.run(['readlink', '-f', path])
    const real = r.code === 0 ? byPath(this.g, r.stdout.trim()) : undefined
    if (real) return real
    const s = await this.ctx.run.run(['stat', '-L', '-c', '%F %t:%T', path])
    const m = /^block special file ([0-9a-f]+):([0-9a-f]+)$/.exec(s.stdout.trim())
    if (s.code !== 0 || !m) return undefined
    const majMin = `${parseInt(m[1]!, 16)}:${parseInt(m[2]!, 16)}`
    return [...this.g.values()].find((x) => x.majMin === majMin)
  }

  /**
   * A mount point as the captured tree sees it: for a tree mounted elsewhere,
   * without the root's path, as the mounts' targets are ('/srv', not '/mnt/x/srv').
   */
  private inside(props: Record<string, string>): Record<string, string> {
    const mp = props.mountpoint
    const p = this.ctx.prefix
    if (!p || mp === undefined || (mp !== p && !mp.startsWith(`${p}/`))) return props
    return { ...props, mountpoint: mp.slice(p.length) || '/' }
  }

  async pools(names: string[], refs: Map<string, string>): Promise<ZPool[]> {
    const out: ZPool[] = []
    for (const pool of names) {
      const st = await this.vdevs(pool)
      if (!st) continue
      for (const s of st.skipped) note(this.ctx, `${s}: recover.sh does not rebuild it`)
      const vdevs = []
      for (const v of st.vdevs) {
        const devices: string[] = []
        for (const n of v.devices) {
          const d = await this.device(n)
          const ref = d && refs.get(d.kname)
          // A vdev on a file, or on a disk left out: kept by its path, which recover.sh cannot map.
          if (!ref) note(this.ctx, `pool ${pool}: vdev ${n} is not on a captured disk: recover.sh cannot make it`)
          devices.push(ref ?? n)
        }
        vdevs.push({ type: v.type, devices })
      }
      const what = (w: string) => ({ what: `${w} of pool ${pool}` })
      const get = await outputOr(this.ctx, ['zpool', 'get', '-H', '-p', 'all', pool], ['zpool', 'get', 'all', pool], what('the properties'))
      const list = await outputOr(this.ctx, ['zfs', 'list', '-H', '-p', '-o', 'name,type,volsize', '-t', 'filesystem,volume', '-r', pool],
        ['zfs', 'list', '-H', '-o', 'name,type,volsize', '-t', 'filesystem,volume', '-r', pool], what('the datasets'))
      const local = parseZfsGetLocal((await output(this.ctx, ['zfs', 'get', '-H', '-p', '-s', 'local', 'all', '-r', pool], what('the dataset properties'))) ?? '')
      const props = parseZpoolGet(get?.text ?? '')
      const bootfs = props.find((r) => r.property === 'bootfs' && r.source === 'local')
      if (bootfs) note(this.ctx, `pool ${pool}: bootfs=${bootfs.value} is not part of the layout: set it again after recovery (zpool set bootfs=${bootfs.value} ${pool})`)
      out.push({
        name: pool, vdevs, properties: poolProperties(props),
        datasets: parseZfsList(list?.text ?? '').map((ds) => ({ ...ds, properties: this.inside(local.get(ds.name) ?? {}) })),
      })
    }
    return out
  }
}
