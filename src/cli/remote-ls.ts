// bt-ls URL: the backups stored in a directory, from their object names
// alone (no key, no download): the names are the catalog.
import { catalog, isoTime } from '../transport/names.js'
import { type Values } from './args.js'
import { type Io } from './io.js'
import { connect } from './remote.js'
import { writeLine } from './write.js'

export async function listRemote(url: string, opts: Values, io: Io, signal: AbortSignal): Promise<void> {
  const { tx } = await connect(url, opts, io, signal)
  try {
    const c = catalog(await tx.list())
    for (const b of c.backups) {
      if (!b.complete && !opts.all) continue
      const row = {
        name: b.name, id: b.id, set: b.set, kind: b.kind, time: isoTime(b.time), base: b.base ?? null, size: b.size,
        volumes: b.count, complete: b.complete,
      }
      await writeLine(io.stdout, opts.json ? JSON.stringify(row)
        : [row.time, row.set, row.kind, row.id, row.base ?? '-', String(row.size), `${b.volumes.length}/${b.count}`, b.complete ? 'complete' : 'INCOMPLETE', row.name].join('\t'))
    }
    if (opts.all) {
      for (const o of c.temporaries) {
        await writeLine(io.stdout, opts.json ? JSON.stringify({ temporary: o.name, size: o.size, mtime: o.mtime?.toISOString() ?? null }) : `temporary\t${o.size}\t${o.mtime?.toISOString() ?? '-'}\t${o.name}`)
      }
    }
    const hidden = c.backups.filter((b) => !b.complete).length + c.temporaries.length
    if (hidden && !opts.all) io.notice(`${hidden} incomplete upload${hidden === 1 ? '' : 's'} not listed (see --all)`)
  } finally {
    await tx.close()
  }
}
