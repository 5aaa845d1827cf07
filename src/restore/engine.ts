// bt-restore's engine, one for a full and a differential alike (a full is a
// differential against an empty tree):
//   1. plan and stage: read the stream to its verified end, check every entry
//      and build every new object in a stage inside the target, writing a
//      journal; the tree is only read, so any refusal changes nothing;
//   2. record: the marker names the stream being committed and its stage,
//      durably, before the first change;
//   3. commit: replay the journal. A kill here is finished by rerunning the
//      same restore with the same stream; any other differential is refused
//      until then.
import { lstatSync, mkdirSync, rmSync } from 'node:fs'
import { BtError, InputError, UsageError } from '../errors.js'
import { type Frame, type HeaderFrame } from '../format/frame.js'
import { sys } from '../sys/native.js'
import { refuseBusy, removeStale } from './cleanup.js'
import { commit } from './commit.js'
import { asIoError } from './fsops.js'
import { JOURNAL, JournalWriter } from './journal.js'
import { type Marker, type Pending, readMarker, removeMarker, syncDir, writeMarker } from './marker.js'
import { type MetaOptions } from './metadata.js'
import { stageName } from './names.js'
import { type PlanSummary, plan } from './plan.js'

export interface RestoreOptions extends MetaOptions {
  /** Absolute path of an existing directory. */
  target: string
  select?: (rel: string) => boolean
  /** Unique per process (the pid): names this run's stage. */
  tmpTag: string
  /** Whether the process `pid` is running: a stage of a live process is never removed. */
  alive(pid: number): boolean
  /** Called with each path put in place, and "deleted PATH" for a deletion. */
  onStep?(what: string): void
  /** Test hook: called before each commit step n, and once after the last. */
  beforeCommitStep?(n: number): void
}

export type RestoreSummary = PlanSummary

export async function restoreStream(frames: AsyncIterable<Frame>, o: RestoreOptions): Promise<RestoreSummary> {
  const it = frames[Symbol.asyncIterator]()
  const first = await it.next()
  if (first.done) return { entries: 0, bytes: 0, incomplete: 0 }
  const header = first.value as HeaderFrame
  const kind = streamKind(header)
  const name = stageName(o.tmpTag)
  refuseBusy(o.target, name, o.alive)
  const marker = readMarker(o.target)
  const pending = marker?.pending
  // A journal holds one selection; a run of PATTERN (or one finishing a run of PATTERN)
  // plans afresh instead, or a rerun for the whole full would finish only the pattern.
  const same = pending && pending.id === header.info.id && pending.kind === kind
  // A full whose journal is gone (its stage removed by a run that was itself cut short) is simply planned again.
  if (same && !pending.partial && !o.select && (kind === 'diff' || hasJournal(o.target, pending))) return resume(it, pending, o)
  if (pending && kind === 'diff') throw unfinished(o.target, pending, header.info.id)
  if (kind === 'diff') checkBase(o.target, marker, header.info.base ?? '')
  if (kind === 'diff' && o.select) throw new UsageError('a differential is applied whole; PATTERN selects only from a full')

  // The stage lives inside the target (rename needs one filesystem); a refusal puts the target's own times back.
  const root = lstatSync(o.target, { bigint: true })
  if (pending) rmSync(`${o.target}/${pending.stage}`, { recursive: true, force: true }) // superseded by this full
  removeStale(o.target, undefined, o.alive)
  const stage = `${o.target}/${name}`
  mkdirSync(stage, { mode: 0o700 })
  try {
    refuseBusy(o.target, name, o.alive) // again, now that this run's stage shows: two that started together both see the other
  } catch (err) {
    rmSync(stage, { recursive: true, force: true })
    throw err
  }
  let sum: PlanSummary
  const journal = new JournalWriter(`${stage}/${JOURNAL}`)
  try {
    sum = await plan(it, journal, { ...o, stage, kind, unlisted: header.info.unlisted })
    journal.close()
  } catch (err) {
    try {
      journal.abandon()
    } catch {
      // closed already: the journal failed at its sync; the stage goes either way
    }
    rmSync(stage, { recursive: true, force: true })
    putTimesBack(o.target, root.atimeNs, root.mtimeNs)
    throw err
  }
  syncDir(stage)
  const now: Pending = { id: header.info.id, kind, stage: name, ...(o.select ? { partial: true } : {}) }
  writeMarker(o.target, { full: kind === 'full' ? header.info.id : header.info.base!, diff: null, pending: now })
  finish(now, kind === 'full' ? header.info.id : header.info.base!, o)
  return sum
}

/** Reruns a commit that was cut short: the stream is read to its verified end first, then the journal is replayed. */
async function resume(it: AsyncIterator<Frame>, p: Pending, o: RestoreOptions): Promise<RestoreSummary> {
  const sum = { entries: 0, bytes: 0, incomplete: 0 }
  for (let r = await it.next(); !r.done; r = await it.next()) if (r.value.kind === 'entry') sum.entries++
  const marker = readMarker(o.target)!
  removeStale(o.target, p.stage, o.alive) // what runs killed since then left
  finish(p, marker.full, o)
  return sum
}

/** Phase 2 and the end: the journal, then the marker, then the stage goes. */
function finish(p: Pending, full: string, o: RestoreOptions): void {
  const stage = `${o.target}/${p.stage}`
  if (!hasJournal(o.target, p)) {
    throw new InputError('BT_MARKER', `the stage ${JSON.stringify(stage)} of the unfinished restore of ${p.kind} ${p.id} is missing`,
      'the target cannot be finished: restore the full again into an empty directory')
  }
  try {
    commit({ ...o, stage, beforeStep: o.beforeCommitStep }, () => {
      if (p.partial) removeMarker(o.target) // a partial restore proves nothing about the whole tree
      else writeMarker(o.target, { full, diff: p.kind === 'diff' ? p.id : null })
      rmSync(stage, { recursive: true, force: true })
    })
  } catch (err) {
    const e = asIoError(`restoring ${p.kind} ${p.id} failed in its commit phase`, err)
    if (e instanceof BtError) e.hints.push(
      `${JSON.stringify(o.target)} holds part of it; fix the cause, then run the same bt-restore again with the same stream to finish it`)
    throw e
  }
}

function hasJournal(target: string, p: Pending): boolean {
  try {
    lstatSync(`${target}/${p.stage}/${JOURNAL}`)
    return true
  } catch {
    return false
  }
}

function streamKind(h: HeaderFrame): 'full' | 'diff' {
  const s = h.info.stream
  if (s === 'full' || s === 'diff') return s
  throw new InputError('BT_STREAM_KIND', `bt-restore applies full and diff streams; the input is a ${JSON.stringify(s)} stream`,
    s === 'quick' ? 'a quick-checked scan is input for bt-delta, not a backup: pipe it through bt-delta' : 'use a backtory version that knows this kind of stream')
}

function checkBase(target: string, marker: Marker | undefined, base: string): void {
  if (!marker || marker.full !== base) {
    throw new InputError('BT_WRONG_BASE',
      `this differential needs full ${base}, but ${JSON.stringify(target)} holds ${marker ? `full ${marker.full}` : 'no restored full'}`,
      'restore the full it names first: bt-restore DIR < FULL, then this differential')
  }
  if (marker.diff !== null) {
    throw new InputError('BT_WRONG_BASE', `${JSON.stringify(target)} already holds differential ${marker.diff} on top of full ${marker.full}`,
      'a differential applies to the full alone: restore the full again, then this differential')
  }
}

function unfinished(target: string, p: Pending, id: string): InputError {
  return new InputError('BT_UNFINISHED',
    `${JSON.stringify(target)} holds an unfinished restore of ${p.kind} ${p.id}, killed in its commit phase; differential ${id} cannot apply until it is finished`,
    `run the same bt-restore again with ${p.kind} ${p.id} to finish it, then apply differential ${id}`)
}

function putTimesBack(target: string, atimeNs: bigint, mtimeNs: bigint): void {
  const ns = (t: bigint) => [Number(t / 1_000_000_000n), Number(t % 1_000_000_000n)] as const
  const [as, an] = ns(atimeNs)
  const [ms, mn] = ns(mtimeNs)
  sys().lutimens(target, as, an, ms, mn)
}
