// A real S3 service for the s3:// tests: a throwaway single-host Ceph
// cluster (Debian's ceph 16.2) on 127.0.0.1 — one ceph-mon, one ceph-osd on
// memstore (RAM: it starts in about two seconds and leaves nothing on disk),
// no ceph-mgr, cephx off — and radosgw's beast frontend on a free port.
// Each call to startRadosgw() makes its own cluster in a temp dir, on its own
// ports, so test files running in parallel never share one; stop() kills the
// daemons and removes the dir.
//
// Two settings are not obvious: with cephx off the client side of radosgw
// must still be allowed a plain (crc) messenger mode to the monitor, whose
// default for daemons is "secure", which needs cephx; and pools of size 1 with
// no redundancy warning, since there is one OSD.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, skipReason } from './system.js'

export interface Radosgw {
  /** http://127.0.0.1:PORT */
  endpoint: string
  port: number
  accessKey: string
  secretKey: string
  /** Runs radosgw-admin against this cluster (quotas, users); returns stdout. */
  admin(args: string[]): string
  /** The tail of the daemons' logs, for failure messages. */
  log(): string
  stop(): Promise<void>
}

const BINS = ['/usr/bin/ceph-mon', '/usr/bin/ceph-osd', '/usr/bin/radosgw', '/usr/bin/radosgw-admin', '/usr/bin/monmaptool']

/** Why the S3 tests cannot run here, or undefined when they can. */
export function radosgwMissing(): string | undefined {
  const missing = BINS.filter((b) => !existsSync(b))
  const why = missing.length ? `Ceph is not installed (${missing.join(', ')} missing; apt-get install radosgw ceph-mon ceph-osd)` : undefined
  return skipReason('s3', why)
}

export async function startRadosgw(o: { objectstore?: 'memstore' | 'bluestore' } = {}): Promise<Radosgw> {
  const base = mkdtempSync(join(tmpdir(), 'bt-ceph-'))
  for (const d of ['run', 'log', 'mon.a', 'osd.0']) mkdirSync(join(base, d))
  const monPort = await freePort()
  const port = await freePort()
  const accessKey = `bt${randomBytes(8).toString('hex')}`
  const secretKey = randomBytes(24).toString('base64url')
  const fsid = randomUUID()
  const conf = join(base, 'ceph.conf')
  writeFileSync(conf, `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
run dir = ${base}/run
admin socket = ${base}/run/$name.asok
log file = ${base}/log/$name.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
paxos propose interval = 0.05
osd objectstore = ${o.objectstore ?? 'memstore'}
[mon]
mon data = ${base}/mon.$id
mon cluster log file = ${base}/log/cluster.log
[osd]
osd data = ${base}/osd.$id
memstore device bytes = ${8 * 2 ** 30}
bluestore block path = ${base}/osd.$id.block
bluestore block create = true
bluestore block size = ${40 * 2 ** 30}
bluestore fsck on mkfs = false
bluestore fsck on mount = false
osd memory target = ${2 ** 30}
[client]
ms mon client mode = crc
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:${port}
rgw dns name = 127.0.0.1
# Deleted objects' data goes at once, not after two hours: memstore keeps it in RAM.
rgw gc obj min wait = 0
rgw gc processor period = 5
`)
  const C = ['-c', conf]
  const children: ChildProcess[] = []
  const out = (name: string) => join(base, 'log', `${name}.out`)
  const daemon = (cmd: string, args: string[], name: string): void => {
    const p = spawn(cmd, [...C, ...args, '-f'], { stdio: ['ignore', 'pipe', 'pipe'] })
    p.stdout!.on('data', (b: Buffer) => appendFileSync(out(name), b))
    p.stderr!.on('data', (b: Buffer) => appendFileSync(out(name), b))
    children.push(p)
  }
  const sync = (cmd: string, args: string[], timeoutMs = 120_000): string => {
    const r = spawnSync(cmd, [...C, ...args], { encoding: 'utf8', timeout: timeoutMs })
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}\n${tail()}`)
    return r.stdout
  }
  const tail = (): string => {
    let s = ''
    for (const f of existsSync(join(base, 'log')) ? readdirSync(join(base, 'log')) : []) {
      const text = readFileSync(join(base, 'log', f), 'utf8')
      s += `--- ${f}\n${text.split('\n').slice(-15).join('\n')}\n`
    }
    return s
  }
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    const exits = children.map((p) => (p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => p.once('exit', () => r()))))
    for (const p of [...children].reverse()) p.kill('SIGTERM')
    const late = setTimeout(() => children.forEach((p) => p.kill('SIGKILL')), 3000)
    await Promise.all(exits)
    clearTimeout(late)
    rmSync(base, { recursive: true, force: true })
  }
  try {
    const monmap = join(base, 'monmap')
    spawnSync('monmaptool', ['--create', '--fsid', fsid, '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, monmap], { stdio: 'ignore' })
    sync('ceph-mon', ['-i', 'a', '--mkfs', '--monmap', monmap])
    daemon('ceph-mon', ['-i', 'a'], 'mon')
    const osdUuid = randomUUID()
    sync('ceph', ['osd', 'new', osdUuid], 60_000) // becomes osd.0
    sync('ceph-osd', ['-i', '0', '--mkfs', '--osd-uuid', osdUuid])
    daemon('ceph-osd', ['-i', '0'], 'osd') // adds itself to the CRUSH map
    // Waits for the OSD and creates the rgw pools on the way.
    sync('radosgw-admin', ['user', 'create', '--uid=bt', '--display-name=backtory tests', `--access-key=${accessKey}`, `--secret-key=${secretKey}`])
    daemon('radosgw', ['-n', 'client.rgw'], 'rgw')
    const deadline = Date.now() + 60_000
    while (!(await answers(port))) {
      if (Date.now() > deadline || children.some((p) => p.exitCode !== null)) throw new Error(`radosgw did not start\n${tail()}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  } catch (err) {
    await stop()
    throw err
  }
  return {
    endpoint: `http://127.0.0.1:${port}`, port, accessKey, secretKey,
    admin: (args) => sync('radosgw-admin', args),
    log: tail,
    stop,
  }
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', timeout: 1000 }, (res) => {
      res.resume()
      resolve(true)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => req.destroy())
    req.end()
  })
}
