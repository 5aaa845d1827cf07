// bt-snap: take a snapshot (ZFS, btrfs, LVM, or none), run the admin's hooks
// around it, scan it with bt-scan's code, and always release it.
import { tmpdir } from 'node:os'
import { type Capture, scanWithCaptures } from '../scan/capture.js'
import { scanStream } from '../scan/scan.js'
import { BtError, EXIT, UsageError } from '../errors.js'
import { BtrfsProvider } from '../snap/btrfs.js'
import { type CaptureSpec, commandCapture, parseCapture } from '../snap/capture-command.js'
import { systemRunner } from '../snap/exec.js'
import { runHook, type HookName } from '../snap/hooks.js'
import { LvmProvider, badSnapshotSize, badVgLv } from '../snap/lvm.js'
import { PathProvider } from '../snap/path.js'
import { type Provider, type SnapHost, type Snapshot, badSetName, procMounts, snapshotName } from '../snap/provider.js'
import { type ShellContext } from '../snap/shell.js'
import { ZfsProvider, badDatasetName } from '../snap/zfs.js'
import { type CliSpec, type Parsed, type Values } from './args.js'
import { exitCodeOf, isEpipe } from './exit.js'
import { type Io, quietIo } from './io.js'
import { openOutput } from './output.js'
import { pump } from './pump.js'
import { OUTPUT_OPTION, SCAN_OPTIONS as S, planScan, scanOptions } from './scan-options.js'

export const spec: CliSpec = {
  name: 'bt-snap',
  summary: 'snapshot a file system, scan the snapshot as a backtory stream, release it',
  usage: [
    '--zfs DATASET [--recursive] [OPTIONS]',
    '--btrfs SUBVOL [OPTIONS]',
    '--lvm VG/LV --snapshot-size SIZE [OPTIONS]',
    '--path DIR [OPTIONS]',
    '--cleanup (--zfs DATASET | --btrfs SUBVOL | --lvm VG/LV) [--set NAME]',
  ],
  options: [
    { long: 'btrfs', arg: 'SUBVOL', doc: 'snapshot the btrfs subvolume SUBVOL (read-only, deleted at the end)' },
    { long: 'capture', arg: 'NAME=CMD', repeat: true, doc: 'store the standard output of CMD as the file NAME at the root of the stream' },
    { long: 'cleanup', doc: 'remove snapshots of this source and set left by a crashed run, then exit' },
    S.exclude, S.excludeCaches, S.excludeFrom,
    { long: 'finally', arg: 'CMD', doc: 'run CMD at the very end, always, with BT_STATUS in its environment' },
    { long: 'hook-timeout', arg: 'SEC', doc: 'kill a hook that runs longer than SEC seconds (default: 600; 0: no limit)' },
    S.host,
    { long: 'lvm', arg: 'VG/LV', doc: 'snapshot the logical volume VG/LV with lvcreate, mounted read-only' },
    S.oneFileSystem, OUTPUT_OPTION,
    { long: 'path', arg: 'DIR', doc: 'take no snapshot: scan DIR live (warns that the view is not consistent)' },
    { long: 'post', arg: 'CMD', doc: 'run CMD right after the snapshot is taken (unlock what --pre locked)' },
    { long: 'pre', arg: 'CMD', doc: 'run CMD before the snapshot (flush, lock); if it fails nothing is taken' },
    S.quiet,
    { long: 'recursive', doc: 'with --zfs: snapshot the child datasets too, atomically' },
    { long: 'set', arg: 'NAME', doc: 'backup set named in the snapshot names (default: default)' },
    { long: 'snapshot-size', arg: 'SIZE', doc: 'with --lvm: space for changes while the snapshot exists (e.g. 2G, 20%ORIGIN)' },
    S.source('the live dataset, subvolume, VG/LV or directory, never the snapshot'), S.state,
    { long: 'zfs', arg: 'DATASET', doc: 'snapshot the ZFS file system DATASET' },
  ],
  notes: [
    'Hooks run through /bin/sh, their output on stderr, with BT_SET, BT_PROVIDER, BT_SOURCE,',
    'BT_SNAPSHOT, BT_SNAPSHOT_PATH (and, for --finally, BT_STATUS, BT_ERROR) in their environment.',
    'The snapshot is released on success, on error, on SIGINT/SIGTERM and on a broken pipe.',
  ],
}

export const DEFAULT_HOOK_TIMEOUT_S = 600

interface Plan {
  set: string
  hooks: Partial<Record<HookName, string>>
  timeoutMs: number
  captures: CaptureSpec[]
}

const PROVIDERS = ['zfs', 'btrfs', 'lvm', 'path'] as const

/** Checks the options that need no system: which provider, the set, hooks, captures. */
export function validate(opts: Values): Plan {
  const given = PROVIDERS.filter((p) => opts[p] !== undefined)
  if (given.length === 0) throw new UsageError('no source given', 'give one of --zfs DATASET, --btrfs SUBVOL, --lvm VG/LV or --path DIR')
  if (given.length > 1) throw new UsageError(`--${given[0]} and --${given[1]} given together`, 'bt-snap takes one source per run')
  const kind = given[0]!
  if (opts.recursive && kind !== 'zfs') throw new UsageError('--recursive goes with --zfs only')
  if (kind === 'lvm' && opts['snapshot-size'] === undefined && !opts.cleanup) {
    throw new UsageError('--lvm needs --snapshot-size SIZE', 'the snapshot holds the changes made while it exists: give e.g. --snapshot-size 2G')
  }
  if (kind !== 'lvm' && opts['snapshot-size'] !== undefined) throw new UsageError('--snapshot-size goes with --lvm only')
  const bad = kind === 'zfs' ? badDatasetName(opts.zfs as string) : kind === 'lvm' ? badVgLv(opts.lvm as string) : undefined
  if (bad) throw new UsageError(bad)
  const size = opts['snapshot-size'] as string | undefined
  if (size !== undefined && badSnapshotSize(size)) throw new UsageError(badSnapshotSize(size)!)
  const set = (opts.set as string | undefined) ?? 'default'
  const badSet = badSetName(set)
  if (badSet) throw new UsageError(`bad --set ${JSON.stringify(set)}: ${badSet}`)
  const t = (opts['hook-timeout'] as string | undefined) ?? String(DEFAULT_HOOK_TIMEOUT_S)
  if (!/^\d+(\.\d+)?$/.test(t)) throw new UsageError(`bad --hook-timeout ${JSON.stringify(t)}: give seconds, 0 for no limit`)
  const captures: CaptureSpec[] = []
  for (const arg of opts.capture as string[]) {
    let c: CaptureSpec
    try {
      c = parseCapture(arg)
    } catch (err) {
      throw new UsageError((err as Error).message, 'e.g. --capture db.sql=\'pg_dumpall\'')
    }
    if (captures.some((x) => x.name === c.name)) throw new UsageError(`--capture ${JSON.stringify(c.name)} given twice`)
    captures.push(c)
  }
  const hooks: Plan['hooks'] = {}
  for (const h of ['pre', 'post', 'finally'] as const) if (opts[h] !== undefined) hooks[h] = opts[h] as string
  if (opts.cleanup) {
    if (kind === 'path') throw new UsageError('--cleanup needs --zfs, --btrfs or --lvm', '--path takes no snapshots')
    const extra = ['pre', 'post', 'finally', 'output'].find((o) => opts[o] !== undefined) ?? (captures.length ? 'capture' : undefined)
    if (extra) throw new UsageError(`--cleanup does not go with --${extra}`, 'it only removes stale snapshots')
  }
  return { set, hooks, timeoutMs: Number(t) * 1000, captures }
}

export function makeProvider(opts: Values, host: SnapHost): Provider {
  if (opts.zfs !== undefined) return new ZfsProvider(opts.zfs as string, Boolean(opts.recursive), host)
  if (opts.btrfs !== undefined) return new BtrfsProvider(opts.btrfs as string, host)
  if (opts.lvm !== undefined) return new LvmProvider(opts.lvm as string, (opts['snapshot-size'] as string | undefined) ?? '', host)
  return new PathProvider(opts.path as string)
}

/** The exit status a run that failed with `err` will have (what run.ts decides), for BT_STATUS. */
function statusOf(err: unknown, signal: AbortSignal): number {
  const reason: unknown = signal.aborted ? signal.reason : undefined
  if (reason instanceof BtError && reason.code === 'BT_SIGNAL') return reason.exit
  if (isEpipe(reason) || isEpipe(err)) return EXIT.EPIPE
  return exitCodeOf(err)
}

async function cleanup(provider: Provider, set: string, io: Io): Promise<number> {
  const stale = await provider.listStale(set)
  const failed: BtError[] = []
  for (const s of stale) {
    try {
      await s.remove()
      io.notice(`removed ${s.what}`)
    } catch (err) {
      if (!(err instanceof BtError)) throw err
      failed.push(err)
      io.stderr.write(`bt-snap: error: cannot remove ${s.what}: ${err.message}\n`)
    }
  }
  if (stale.length === 0) io.notice(`no stale snapshots of set ${JSON.stringify(set)} on ${JSON.stringify(provider.source)}`)
  if (failed.length > 0) throw failed[0]
  return EXIT.OK
}

export async function main({ opts, args }: Parsed, io: Io, signal: AbortSignal): Promise<number> {
  if (args.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(args[0])}`, 'the source is an option: --zfs, --btrfs, --lvm or --path')
  const plan = validate(opts)
  if (opts.quiet) io = quietIo(io)
  const host: SnapHost = { run: systemRunner(io.env), tmpdir: tmpdir(), mounts: procMounts }
  const provider = makeProvider(opts, host)
  if (opts.cleanup) return cleanup(provider, plan.set, io)

  const scanPlan = planScan(opts, io, 'bt-snap')
  const out = openOutput(io, opts.output as string | undefined)
  const name = snapshotName(plan.set, new Date())
  // What the hooks learn about the run, added to as it goes.
  const facts: Record<string, string> = {
    BT_SET: plan.set, BT_PROVIDER: provider.kind, BT_SOURCE: provider.source, BT_SNAPSHOT: '', BT_SNAPSHOT_PATH: '',
  }
  const shell: ShellContext = {
    env: io.env, stderr: io.stderr,
    killGroup: (pid, sig) => process.kill(-pid, sig),
  }
  const hook = (h: HookName, interruptible: boolean) => runHook(h, plan.hooks[h]!, {
    ...shell, env: { ...io.env, ...facts }, timeoutMs: plan.timeoutMs, ...(interruptible ? { signal } : {}),
  })
  const say = (kind: string, err: unknown) => {
    io.stderr.write(`bt-snap: ${kind}: ${err instanceof Error ? err.message : String(err)}\n`)
    if (err instanceof BtError) for (const h of err.hints) io.stderr.write(`bt-snap: hint: ${h}\n`)
  }

  let failure: unknown
  let failed = false
  try {
    if (provider.kind !== 'path') {
      const stale = await provider.listStale(plan.set)
      if (stale.length > 0) {
        io.notice(`${stale.length} snapshot(s) of set ${JSON.stringify(plan.set)} left by an earlier run: ${stale.map((s) => s.what).join(', ')}`)
        io.notice(`remove them with "bt-snap --cleanup" and the same --${provider.kind} and --set, when no bt-snap of this set runs`)
      }
    }
    if (plan.hooks.pre) await hook('pre', true)
    let snap: Snapshot
    try {
      signal.throwIfAborted()
      if (provider.kind === 'path') {
        // Said, not counted: exit 3 on every run would hide the warnings that matter.
        io.notice('warning: --path takes no snapshot: files that change during the scan are read at different moments, so the copy is not a consistent view')
      }
      snap = await provider.take(name)
      facts.BT_SNAPSHOT = snap.id
      facts.BT_SNAPSHOT_PATH = snap.path
    } finally {
      // Whatever --pre locked is given back, even when the snapshot failed.
      if (plan.hooks.post) {
        try {
          await hook('post', false)
        } catch (err) {
          io.warn(err instanceof Error ? err.message : String(err))
        }
      }
    }
    signal.throwIfAborted()
    await scanSnapshot(snap)
    out.commit()
  } catch (err) {
    failed = true
    // An abort's own AbortError says nothing: its reason (a signal, a write error on stdout) does.
    failure = signal.aborted && err instanceof Error && err.name === 'AbortError' ? signal.reason : err
    out.abort()
  }

  // Always: release what was taken, then --finally. Signals after the first are ignored by run.ts.
  try {
    await provider.release()
  } catch (err) {
    if (failed) say('error', err)
    else {
      failed = true
      failure = err
    }
  }
  const status = failed ? statusOf(failure, signal) : io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK
  if (plan.hooks.finally) {
    facts.BT_STATUS = String(status)
    if (failed) facts.BT_ERROR = failure instanceof Error ? failure.message : String(failure)
    try {
      await hook('finally', false)
    } catch (err) {
      io.warn(err instanceof Error ? err.message : String(err))
    }
  }
  if (failed) throw failure
  return io.warnings() > 0 ? EXIT.PARTIAL : EXIT.OK

  async function scanSnapshot(snap: Snapshot): Promise<void> {
    const scan = scanOptions(scanPlan, { root: snap.path, source: provider.source, skip: [...snap.skip, ...out.paths] }, io)
    const captures = plan.captures.map((c) => commandCapture(c, { ...shell, env: { ...io.env, ...facts }, signal }))
    // A captured file belongs to whom its command runs as: us.
    scan.options.captureOwner = { uid: io.uid, gid: typeof process.getegid === 'function' ? process.getegid() : 0 }
    const gen = captures.length > 0 ? scanWithCaptures(scan.options, captures satisfies Capture[]) : scanStream(scan.options)
    try {
      await pump(gen, out.stream, signal, (b) => scan.options.pool.release(b))
    } finally {
      for (const c of captures) c.stop()
      scan.close()
    }
  }
}
