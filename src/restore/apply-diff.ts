// bt-restore for a differential, in two phases. Phase 1 reads the whole
// stream and builds every new or patched object in a staging directory inside
// the target, checking each base file's hash, while the tree itself stays
// untouched; it also works out what to delete. Phase 2 runs only after the
// trailer verified, and replays the journal: renames, metadata, deletions. So
// a wrong base, a missing base file, a corrupt delta or a truncated stream
// changes nothing at all.
import { createHash } from 'node:crypto'
import {
  closeSync, linkSync, lstatSync, mkdirSync, openSync, readSync, readdirSync, rmSync, symlinkSync, constants,
} from 'node:fs'
import { InputError, UsageError, isErrno } from '../errors.js'
import { DeltaDecoder } from '../delta/format.js'
import { type EntryFrame, type EntryMeta, type Frame, type HeaderFrame } from '../format/frame.js'
import { sys } from '../sys/native.js'
import { asIoError, makeDir, replace, writeAll, writeFile } from './fsops.js'
import { readMarker, writeMarker } from './marker.js'
import { applyModeAndTimes, applyOwnerAndXattrs } from './metadata.js'
import { LineReader, LineWriter } from '../state/lines.js'
import { ensureDirs, isWithin, parentOf, safeRelative } from './safe-path.js'
import { type RestoreOptions, type RestoreSummary } from './extract.js'

type Step =
  | { op: 'dir'; path: string; meta: EntryMeta }
  | { op: 'place'; path: string; stage: string }
  | { op: 'meta'; path: string; meta: EntryMeta }
  | { op: 'link'; path: string; target: string }
  | { op: 'delete'; path: string }

// The journal holds metadata as JSON: xattr values as hex.
function toLine(s: Step): string {
  return JSON.stringify(s, (k, v: unknown) => (k === 'xattrs' ? (v as Array<[string, Buffer]>).map(([n, b]) => [n, b.toString('hex')]) : v))
}

function fromLine(line: string): Step {
  return JSON.parse(line, (k, v: unknown) => (k === 'xattrs' ? (v as Array<[string, string]>).map(([n, h]) => [n, Buffer.from(h, 'hex')]) : v)) as Step
}

const SPECIAL = /^(\.backtory-restore\.json(\.tmp)?|\.bt-stage-.*|\.bt-restore-.*)$/

function sha256File(abs: string): string {
  const h = createHash('sha256')
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW)
  try {
    const b = Buffer.allocUnsafe(1 << 20)
    for (let n; (n = readSync(fd, b, 0, b.length, null)) > 0;) h.update(b.subarray(0, n))
  } finally {
    closeSync(fd)
  }
  return h.digest('hex')
}

export async function applyDiff(header: HeaderFrame, frames: AsyncIterable<Frame>, o: RestoreOptions): Promise<RestoreSummary> {
  const sum: RestoreSummary = { entries: 0, bytes: 0, incomplete: 0 }
  const base = header.info.base ?? ''
  const marker = readMarker(o.target)
  if (!marker || marker.full !== base) {
    throw new InputError('BT_WRONG_BASE',
      `this differential needs full ${base}, but ${JSON.stringify(o.target)} holds ${marker ? `full ${marker.full}` : 'no restored full'}`,
      'restore the full it names first: bt-restore DIR < FULL, then this differential')
  }
  if (marker.diff !== null) {
    throw new InputError('BT_WRONG_BASE', `${JSON.stringify(o.target)} already holds differential ${marker.diff} on top of full ${marker.full}`,
      'a differential applies to the full alone: restore the full again, then this differential')
  }
  if (o.select) throw new UsageError('a differential is applied whole; PATTERN selects only from a full')
  const stage = `${o.target}/.bt-stage-${o.tmpTag}`
  // The stage lives inside the target (rename needs one filesystem); on failure
  // the target's own times are put back, so nothing at all has changed.
  const rootBefore = lstatSync(o.target, { bigint: true })
  const putRootTimesBack = () => {
    const ns = (t: bigint) => [Number(t / 1_000_000_000n), Number(t % 1_000_000_000n)] as const
    const [as, an] = ns(rootBefore.atimeNs)
    const [ms, mn] = ns(rootBefore.mtimeNs)
    sys().lutimens(o.target, as, an, ms, mn)
  }
  mkdirSync(stage, { mode: 0o700 })
  // Steps go to a journal file, not memory: a differential may touch a million paths.
  const journal = new LineWriter(`${stage}/journal`)
  const steps = { push: (s: Step) => journal.write(toLine(s)) }
  let n = 0
  const placed = new Set<string>()
  const absOf = (rel: string) => (rel === '.' ? o.target : `${o.target}/${rel}`)
  const fail = (what: string, err: unknown) => asIoError(what, err)
  try {
    const open: Array<{ rel: string; seen: Set<string> }> = []
    const leave = (rel: string) => {
      while (open.length > 0 && !isWithin(open[open.length - 1]!.rel, rel)) closeDir(open.pop()!)
    }
    const closeDir = (d: { rel: string; seen: Set<string> }) => {
      let names: string[] = []
      try {
        if (lstatSync(absOf(d.rel)).isDirectory()) names = readdirSync(absOf(d.rel))
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err
      }
      for (const name of names.sort()) {
        if (d.seen.has(name) || (d.rel === '.' && SPECIAL.test(name))) continue
        steps.push({ op: 'delete', path: d.rel === '.' ? name : `${d.rel}/${name}` })
      }
    }
    const baseFile = (rel: string, why: string): string => {
      const abs = absOf(rel)
      ensureDirs(o.target, parentOf(rel), rel, false)
      let ok = false
      try {
        ok = lstatSync(abs).isFile()
      } catch (err) {
        if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw err
      }
      if (!ok) {
        throw new InputError('BT_BASE_MISSING', `${JSON.stringify(rel)} (${why}) is not a regular file in ${JSON.stringify(o.target)}`,
          'the directory does not hold the full this differential was made against; restore that full again')
      }
      return abs
    }
    const staged = (m: EntryMeta, tmp: string) => {
      applyOwnerAndXattrs(tmp, m, o)
      applyModeAndTimes(tmp, m)
    }

    for await (const f of frames) {
      if (f.kind === 'incomplete') {
        sum.incomplete++
        o.warn(`${JSON.stringify(f.path)} was incomplete when backed up (${f.reason}); restored as it was stored`)
        continue
      }
      if (f.kind === 'trailer') break
      if (f.kind !== 'entry') continue
      const m = f.meta
      const rel = safeRelative(m.path)
      leave(rel)
      if (rel !== '.') {
        const top = open[open.length - 1]
        if (top && top.rel === parentOf(rel)) top.seen.add(rel.slice(rel.lastIndexOf('/') + 1))
      }
      const tmp = `${stage}/${n++}`
      try {
        if (rel === '.' || m.type === 'directory') {
          steps.push({ op: 'dir', path: rel, meta: m })
          open.push({ rel, seen: new Set() })
        } else if (m.type === 'file') {
          await stageFile(f, rel, tmp)
        } else if (m.type === 'hardlink') {
          // Checked now, not in phase 2: the target is a file this differential placed, or one the tree holds.
          const target = safeRelative(m.linkpath!)
          if (!placed.has(target)) baseFile(target, `the target of hard link ${JSON.stringify(rel)}`)
          steps.push({ op: 'link', path: rel, target })
        } else {
          if (m.type === 'symlink') symlinkSync(m.linkpath!, tmp)
          else if (m.type === 'fifo') sys().mkfifo(tmp, 0o600)
          else sys().mknod(tmp, (m.type === 'chardev' ? constants.S_IFCHR : constants.S_IFBLK) | 0o600, m.devmajor ?? 0, m.devminor ?? 0)
          staged(m, tmp)
          steps.push({ op: 'place', path: rel, stage: tmp })
        }
      } catch (err) {
        throw fail(`cannot restore ${JSON.stringify(rel)}`, err)
      }
    }
    while (open.length > 0) closeDir(open.pop()!)
    journal.close()

    async function stageFile(f: EntryFrame, rel: string, tmp: string): Promise<void> {
      const m = f.meta
      switch (m.op) {
        case 'unchanged':
          baseFile(rel, 'unchanged since the full')
          return
        case 'meta':
          baseFile(rel, 'its metadata changed')
          steps.push({ op: 'meta', path: rel, meta: m })
          return
        case 'copy': {
          const from = safeRelative(m.from!)
          const src = baseFile(from, `the source of ${JSON.stringify(rel)}`)
          await copyVerified(src, tmp, m.sha256!, `${JSON.stringify(rel)} (a copy of ${JSON.stringify(from)})`)
          break
        }
        case 'delta': {
          const abs = baseFile(rel, 'the base of its delta')
          const have = sha256File(abs)
          if (have !== m.baseSha256) {
            throw new InputError('BT_WRONG_BASE', `the base of ${JSON.stringify(rel)} does not match the full (sha256 ${have.slice(0, 16)}…, the delta needs ${m.baseSha256!.slice(0, 16)}…)`,
              'the file changed after the full was restored, or this is not the right full; restore the full again')
          }
          await patch(f, abs, tmp)
          break
        }
        default:
          await writeFile(tmp, f, sum, (fd) => {
            applyOwnerAndXattrs(tmp, m, o, fd)
            applyModeAndTimes(tmp, m, fd)
          })
          steps.push({ op: 'place', path: rel, stage: tmp })
          placed.add(rel)
          return
      }
      staged(m, tmp)
      steps.push({ op: 'place', path: rel, stage: tmp })
      // Only regular files can be hard-link targets; only new or changed ones need remembering.
      placed.add(rel)
    }

    async function patch(f: EntryFrame, baseAbs: string, tmp: string): Promise<void> {
      const m = f.meta
      const st = lstatSync(baseAbs)
      const dec = new DeltaDecoder({ baseLength: st.size })
      const bfd = openSync(baseAbs, constants.O_RDONLY | constants.O_NOFOLLOW)
      const out = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
      const h = createHash('sha256')
      let pos = 0
      try {
        const put = (b: Buffer) => {
          // Checked before writing, so a hostile delta cannot fill the disk through the stage.
          if (pos + b.length > m.size) {
            throw new InputError('BT_DELTA', `the delta of ${JSON.stringify(m.path)} produces more than the ${m.size} bytes the differential names`)
          }
          writeAll(out, b, 0, b.length, pos)
          h.update(b)
          pos += b.length
        }
        for await (const chunk of f.body) {
          for (const op of dec.push(chunk)) {
            if (op.kind === 'literal') {
              put(op.data)
              continue
            }
            for (let done = 0; done < op.length;) {
              const b = Buffer.allocUnsafe(Math.min(1 << 20, op.length - done))
              const got = readSync(bfd, b, 0, b.length, op.offset + done)
              if (got === 0) throw new InputError('BT_DELTA', `the delta of ${JSON.stringify(m.path)} reads past the end of its base`)
              put(got === b.length ? b : b.subarray(0, got))
              done += got
            }
          }
        }
        dec.end()
      } catch (err) {
        if (err instanceof Error && err.constructor.name === 'DeltaFormatError') {
          throw new InputError('BT_DELTA', `the delta of ${JSON.stringify(m.path)} is corrupt: ${err.message}`)
        }
        throw err
      } finally {
        closeSync(bfd)
        closeSync(out)
      }
      sum.bytes += pos
      const got = h.digest('hex')
      if (pos !== m.size || got !== m.sha256) {
        throw new InputError('BT_DELTA', `patching ${JSON.stringify(m.path)} gave ${pos} bytes with sha256 ${got.slice(0, 16)}…, not the ${m.size} bytes the differential names`,
          'the differential or the base is corrupt; nothing was changed')
      }
    }
  } catch (err) {
    try {
      journal.close()
    } catch {
      // already closed after the stream ended; the stage goes either way
    }
    rmSync(stage, { recursive: true, force: true })
    putRootTimesBack()
    throw err
  }

  // Phase 2: the stream verified and every object waits in the stage.
  try {
    const dirs: Array<{ rel: string; meta: EntryMeta }> = []
    const finish = (d: { rel: string; meta: EntryMeta }) => applyModeAndTimes(absOf(d.rel), d.meta)
    const lines = new LineReader(`${stage}/journal`)
    for (let line = lines.next(); line; line = lines.next()) {
      const s = fromLine(line)
      while (dirs.length > 0 && !isWithin(dirs[dirs.length - 1]!.rel, s.path)) finish(dirs.pop()!)
      const abs = absOf(s.path)
      if (s.path !== '.') ensureDirs(o.target, parentOf(s.path), s.path, true)
      switch (s.op) {
        case 'dir':
          if (s.path !== '.') makeDir(abs)
          applyOwnerAndXattrs(abs, s.meta, o)
          dirs.push({ rel: s.path, meta: s.meta })
          break
        case 'place':
          replace(s.stage, abs, s.path, { force: true })
          sum.entries++
          o.onVerbose?.(s.path)
          break
        case 'meta':
          applyOwnerAndXattrs(abs, s.meta, o)
          applyModeAndTimes(abs, s.meta)
          o.onVerbose?.(s.path)
          break
        case 'link': {
          ensureDirs(o.target, parentOf(s.target), s.path, false)
          const tmp = `${stage}/link-${n++}`
          linkSync(absOf(s.target), tmp)
          replace(tmp, abs, s.path, { force: true })
          break
        }
        case 'delete':
          rmSync(abs, { recursive: true, force: true })
          o.onVerbose?.(`deleted ${s.path}`)
          break
      }
    }
    lines.close()
    // The stage and the marker change the root; its times are set after them.
    rmSync(stage, { recursive: true, force: true })
    writeMarker(o.target, { full: base, diff: header.info.id })
    while (dirs.length > 0) finish(dirs.pop()!)
  } catch (err) {
    rmSync(stage, { recursive: true, force: true })
    throw fail('applying the differential failed part way; the tree is mixed: restore the full and this differential again', err)
  }
  return sum
}

async function copyVerified(src: string, tmp: string, want: string, what: string): Promise<void> {
  const h = createHash('sha256')
  const fd = openSync(src, constants.O_RDONLY | constants.O_NOFOLLOW)
  const out = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
  try {
    const b = Buffer.allocUnsafe(1 << 20)
    let pos = 0
    for (let n; (n = readSync(fd, b, 0, b.length, null)) > 0;) {
      h.update(b.subarray(0, n))
      writeAll(out, b, 0, n, pos)
      pos += n
    }
  } finally {
    closeSync(fd)
    closeSync(out)
  }
  if (h.digest('hex') !== want) {
    throw new InputError('BT_WRONG_BASE', `${what}: the source does not match the full`,
      'the file changed after the full was restored; restore the full again')
  }
}

