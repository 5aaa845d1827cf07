// What a set's store holds, as `bt-ls --json URL` says it: the names are the
// catalog (src/transport/names.ts), so list, restore, verify and prune all
// read the same rows a script would, from the same process an admin would run.
import { type Writable } from 'node:stream'
import { BtError, EXIT } from '../errors.js'
import { runPipeline, type Stage } from './pipeline.js'
import { type SetConfig } from './set.js'
import { storeArgs } from './store-args.js'

export interface StoredBackup {
  name: string
  set: string
  kind: 'full' | 'diff' | string
  id: string
  /** The id of the full a differential was made against. */
  base: string | null
  time: Date
  size: number
  volumes: number
  complete: boolean
  /** A differential whose full is not stored whole beside it: it cannot be restored. */
  baseMissing: boolean
  /** A full's index object (bt-put --index-key), stored whole beside it: what a lost state is rebuilt from. */
  indexName?: string
  /** Volumes present (bt-ls --all lists incomplete backups too). */
  stored: number
  /** Whether volume 0001 is present: bt-rm removes it first, so one without it is a removal that was cut. */
  firstVolume: boolean
}

/** The rows of `bt-ls --json URL`, oldest first. Lines that are not backups (temporaries) are left out. */
export function parseListing(text: string): StoredBackup[] {
  const out: StoredBackup[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const r = JSON.parse(line) as Record<string, unknown>
    if (typeof r.name !== 'string' || typeof r.time !== 'string') continue
    out.push({
      name: r.name, set: String(r.set), kind: String(r.kind), id: String(r.id), base: (r.base as string | null) ?? null,
      time: new Date(r.time), size: Number(r.size), volumes: Number(r.volumes), complete: r.complete === true,
      baseMissing: r.base_missing === true,
      ...(typeof r.index_name === 'string' && r.index === true ? { indexName: r.index_name } : {}),
      stored: typeof r.stored === 'number' ? r.stored : Number(r.volumes), firstVolume: r.first_volume !== false,
    })
  }
  return out.sort((a, b) => a.time.getTime() - b.time.getTime() || a.name.localeCompare(b.name))
}

/** The bt-ls stage that lists `store`. */
export function listStage(store: SetConfig['store'], all = false): Stage {
  return { tool: 'bt-ls', args: ['--json', ...(all ? ['--all'] : []), ...storeArgs(store), store.url] }
}

export interface ListContext {
  env: NodeJS.ProcessEnv
  stderr: Writable
  signal: AbortSignal
}

/** The backups of set `set` (every set when undefined) stored at `store`, oldest first. */
export async function listStore(store: SetConfig['store'], set: string | undefined, ctx: ListContext, all = false): Promise<StoredBackup[]> {
  const r = await runPipeline([listStage(store, all)], { env: ctx.env, stderr: ctx.stderr, signal: ctx.signal })
  if (r.code !== EXIT.OK) {
    throw new BtError('BT_STORE', r.code === EXIT.USAGE ? EXIT.USAGE : EXIT.FAILURE, `cannot list the store ${store.url}: bt-ls exited ${r.code}`,
      ['its message is above; check the store URL and its credentials in the set\'s config'])
  }
  const rows = parseListing(r.stdout)
  return set === undefined ? rows : rows.filter((b) => b.set === set)
}
