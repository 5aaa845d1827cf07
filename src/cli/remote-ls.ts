// bt-ls URL: the backups stored in a directory, from their object names
// alone (no key, no download): the names are the catalog. With --headers it
// also reads each backup's sealed header and checks that it says what the
// name says (with --verify, that the host signed it). A differential whose
// base full is not stored whole beside it cannot be restored: it is marked.
import { InputError } from '../errors.js'
import { checkHeader } from '../crypto/opener.js'
import { type Backup, catalog, indexOf, isoTime } from '../transport/names.js'
import { peekHeader } from '../transport/peek.js'
import { holdsFull } from '../transport/put.js'
import { type Transport } from '../transport/transport.js'
import { loadPublic } from './keyfile.js'
import { type Values } from './args.js'
import { type Io } from './io.js'
import { connect } from './remote.js'
import { showName } from './escape.js'
import { writeLine } from './write.js'

export async function listRemote(url: string, opts: Values, io: Io, signal: AbortSignal): Promise<void> {
  const { tx } = await connect(url, opts, io, signal)
  try {
    const verify = (opts.verify as string[]).map(loadPublic)
    const headers = Boolean(opts.headers) || verify.length > 0
    const c = catalog(await tx.list())
    const wrong: string[] = []
    let orphans = 0
    for (const b of c.backups) {
      if (!b.complete && !opts.all) continue
      const baseMissing = b.base !== undefined && !holdsFull(c, b.base)
      if (baseMissing && b.complete) orphans++
      // A full's index object is a flag of that full, not a row: only a complete one counts.
      const index = b.kind === 'full' ? indexOf(c, b) : undefined
      const indexed = index?.complete === true
      const row: Record<string, unknown> = {
        name: b.name, id: b.id, set: b.set, kind: b.kind, time: isoTime(b.time), base: b.base ?? null, size: b.size,
        volumes: b.count, complete: b.complete, base_missing: baseMissing,
        // Which volumes are there: one without its first is a removal that was cut (bt-rm removes it first).
        stored: b.volumes.length, first_volume: /\.0*1-of-\d+\.sealed$/.test(b.volumes[0]?.name ?? ''),
        ...(b.kind === 'full' ? { index: indexed, index_name: indexed ? index!.name : null } : {}),
      }
      // The flag rides on the status word, so the columns stay where scripts expect them.
      const status = !b.complete ? 'INCOMPLETE' : baseMissing ? 'BASE-MISSING' : indexed ? 'complete+index' : 'complete'
      const cols = [row.time, row.set, row.kind, row.id, row.base ?? '-', String(row.size), `${b.volumes.length}/${b.count}`, status]
      if (tx.retention) {
        // A store with Object Lock (s3://): the lock of the first volume; bt-put sets the same on every one.
        const r = b.volumes[0] ? await tx.retention(b.volumes[0].name) : undefined
        row.retain_until = r?.until.toISOString() ?? null
        row.retain_mode = r?.mode.toLowerCase() ?? null
        cols.push(r ? `locked-until=${r.until.toISOString()}(${r.mode.toLowerCase()})` : 'unlocked')
      }
      if (headers && b.volumes[0]?.name.includes('.0001-of-')) {
        const h = await headerOf(tx, b, verify)
        row.header = h
        if (h.problem) wrong.push(`${b.name}: ${h.problem}`)
        // Only the header's signature was checked, not the contents: say exactly that, not "verified".
        cols.push(h.problem ? `HEADER MISMATCH (${h.problem})` : `signer ${h.signer.slice(0, 16)}${h.verified ? ' header-signature-good' : ''}`)
      }
      await writeLine(io.stdout, opts.json ? JSON.stringify(row) : [...cols, showName(b.name)].join('\t'))
    }
    if (wrong.length) {
      throw new InputError('BT_REMOTE_MISMATCH', `${wrong.length} stored backup${wrong.length === 1 ? ' is' : 's are'} not what ${wrong.length === 1 ? 'its name says' : 'their names say'}: ${wrong.join('; ')}`,
        'an object was renamed or replaced in storage, or signed by another host; do not trust it')
    }
    if (opts.all) {
      // Index objects whose full is gone, or that are incomplete: leftovers a prune or a cut upload left.
      for (const x of c.indexes) {
        const full = c.backups.some((b) => b.kind === 'full' && b.set === x.set && b.id === x.id && b.complete)
        if (x.complete && full) continue
        await writeLine(io.stdout, opts.json ? JSON.stringify({ index_object: x.name, id: x.id, set: x.set, size: x.size, complete: x.complete, full })
          : `index-object\t${x.size}\t${x.complete ? 'complete' : 'INCOMPLETE'}\t${full ? 'full-stored' : 'NO-FULL'}\t${showName(x.name)}`)
      }
      for (const o of c.temporaries) {
        await writeLine(io.stdout, opts.json ? JSON.stringify({ temporary: o.name, size: o.size, mtime: o.mtime?.toISOString() ?? null }) : `temporary\t${o.size}\t${o.mtime?.toISOString() ?? '-'}\t${showName(o.name)}`)
      }
    }
    if (verify.length) io.notice('checked each backup\'s sealed header and its signature, not its contents: bt-get --verify checks every byte')
    if (c.backups.length === 0 && c.indexes.length === 0 && c.temporaries.length === 0) {
      // `bt-ls DIR` of a source tree or of a folder of stream files: an empty listing alone would puzzle.
      io.notice(`no backups are stored in ${tx.display}${c.others.length ? ` (it holds ${c.others.length} other file${c.others.length === 1 ? '' : 's'})` : ''}; ` +
        'to list a stream, name its file (bt-ls FILE) or pipe it in')
    }
    if (orphans) {
      io.notice(`${orphans} differential${orphans === 1 ? '' : 's'} listed as BASE-MISSING: ${orphans === 1 ? 'its' : 'their'} base full is not stored whole here, ` +
        'so restoring ' + (orphans === 1 ? 'it' : 'them') + ' is impossible')
    }
    const hidden = c.backups.filter((b) => !b.complete).length + c.temporaries.length + c.indexes.filter((x) => !x.complete).length
    if (hidden && !opts.all) io.notice(`${hidden} incomplete upload${hidden === 1 ? '' : 's'} not listed (see --all)`)
  } finally {
    await tx.close()
  }
}

/** `verified`: the header's signature, and only it, verified (`checked` says so in --json). */
interface HeaderFacts { signer: string; recipients: string[]; passphrase: boolean; compress: string; verified: boolean; checked: 'header-signature' | 'header'; problem?: string }

/** The sealed header of `b`'s first volume, compared with its name (and checked against `verify`). */
async function headerOf(tx: Transport, b: Backup, verify: ReturnType<typeof loadPublic>[]): Promise<HeaderFacts> {
  const p = await peekHeader(tx, b.volumes[0]!.name)
  const h = p.header
  const facts: HeaderFacts = {
    signer: h.signer.fingerprint,
    recipients: h.stanzas.flatMap((s) => (s.type === 'rsa-oaep-sha256' ? [s.fingerprint] : [])),
    passphrase: h.stanzas.some((s) => s.type === 'scrypt'),
    compress: h.compress,
    verified: false,
    checked: verify.length ? 'header-signature' : 'header',
  }
  const said = [h.set, h.kind, h.id, h.base ?? '-'].join(' ')
  const named = [b.set, b.kind, b.id, b.base ?? '-'].join(' ')
  if (said !== named) facts.problem = `its header says ${said}`
  else if (verify.length) {
    try {
      checkHeader(p, verify, false)
      facts.verified = true
    } catch (err) {
      facts.problem = (err as Error).message
    }
  }
  return facts
}
