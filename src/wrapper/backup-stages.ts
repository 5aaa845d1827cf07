// The pipeline of one backup, by source: exactly the processes an admin would
// pipe by hand (backtory(7)), so --dry-run can print it and sh can run it.
//   dir        bt-scan [--state S] DIR                      (with captures: bt-snap --path DIR)
//   zfs/...    bt-snap --zfs DATASET --set NAME [--state S]  (snapshot, scan, release)
//   then       bt-delta --full|--auto --state S | bt-seal ... | bt-put --state S URL
// A full is scanned without --state: a quick scan leaves unchanged files out,
// which only a differential may do. bt-delta --auto for a differential still
// falls back to a full should the state hold no confirmed full after all.
import { spec as putSpec } from '../cli/bt-put.js'
import { spec as snapSpec } from '../cli/bt-snap.js'
import { type CliSpec } from '../cli/args.js'
import { type Stage } from './pipeline.js'
import { type SetConfig } from './set.js'
import { layoutCapture } from './recovery.js'
import { storeArgs } from './store-args.js'

export type Kind = 'full' | 'diff'

/** -q where the filter has it: nothing on stderr when all is well. */
const quiet = (spec: CliSpec): string[] => (spec.options.some((o) => o.long === 'quiet') ? ['-q'] : [])

/** Whether bt-put prints the stored name (it does not with -q): else the wrapper finds it in the listing. */
export const putPrintsName = quiet(putSpec).length === 0

export function sourceStage(set: SetConfig, kind: Kind): Stage {
  const state = kind === 'diff' ? ['--state', set.state] : []
  const scanOpts = [...set.excludes.flatMap((p) => ['--exclude', p]), ...(set.oneFileSystem ? ['--one-file-system'] : [])]
  const captures = [...set.actions.filter((a) => a.kind === 'capture'), ...layoutCapture(set)]
  const src = set.source
  if (src.kind === 'dir' && captures.length === 0) return { tool: 'bt-scan', args: [...state, ...scanOpts, src.path] }
  const provider = src.kind === 'dir' ? ['--path', src.path]
    : src.kind === 'zfs' ? ['--zfs', src.dataset, ...(src.recursive ? ['--recursive'] : [])]
      : src.kind === 'btrfs' ? ['--btrfs', src.subvolume]
        : ['--lvm', src.volume, '--snapshot-size', src.snapshotSize ?? '']
  return {
    tool: 'bt-snap',
    args: [...quiet(snapSpec), ...provider, '--set', set.name, ...state, ...scanOpts,
      ...captures.flatMap((c) => ['--capture', `${c.name}=${c.command}`]),
      ...(set.hookTimeout !== undefined && captures.length > 0 ? ['--hook-timeout', String(set.hookTimeout)] : [])],
  }
}

export function backupStages(set: SetConfig, kind: Kind): Stage[] {
  return [
    sourceStage(set, kind),
    { tool: 'bt-delta', args: ['-q', kind === 'full' ? '--full' : '--auto', '--state', set.state] },
    {
      tool: 'bt-seal',
      args: [...set.recipients.flatMap((r) => ['--to', r]), '--sign', set.signKey, ...(set.compress ? ['--compress', set.compress] : []),
        '--set', set.name],
    },
    {
      tool: 'bt-put',
      // --index-key: the full's index stored beside it, so a lost state is rebuilt with the host's key alone.
      args: [...quiet(putSpec), '--state', set.state, '--index-key', set.signKey, ...(set.volumeSize ? ['--volume-size', set.volumeSize] : []), ...storeArgs(set.store),
        set.store.url],
    },
  ]
}
