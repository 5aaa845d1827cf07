// Is the store reachable and writable? backtory init asks before it writes a
// config that nightly runs would fail on. The probe writes one upload
// temporary (.bt-tmp.*, the name every listing skips and bt-put's stale
// cleanup removes) through the same transport bt-put uses, reads its size
// back and removes it; then bt-ls lists the store as every later run will.
import { Readable } from 'node:stream'
import { randomBytes } from 'node:crypto'
import { BtError, EXIT } from '../errors.js'
import { connect } from '../cli/remote.js'
import { type Io } from '../cli/io.js'
import { TEMP_PREFIX } from '../transport/names.js'
import { listStore } from './catalog.js'
import { type SetConfig } from './set.js'

export async function probeStore(store: SetConfig['store'], set: string, io: Io, signal: AbortSignal): Promise<number> {
  const opts = {
    'password-file': store.passwordFile, fingerprint: store.fingerprint, ca: store.ca,
    identity: store.identity ? [store.identity] : [], 'known-hosts': store.knownHosts, retries: '1', timeout: '30',
  }
  const { tx } = await connect(store.url, opts, io, signal)
  const name = `${TEMP_PREFIX}init-${randomBytes(6).toString('hex')}.0001`
  const data = Buffer.from('backtory init: a store write check; safe to delete\n')
  try {
    await tx.prepare()
    await tx.save(name, Readable.from([data]), 0)
    const back = await tx.stat(name)
    if (back?.size !== data.length) {
      throw new BtError('BT_STORE', EXIT.FAILURE, `the store ${tx.display} did not keep a test object whole (${back?.size ?? 'no'} bytes of ${data.length})`,
        ['check the free space and the account\'s quota on the server'])
    }
    await tx.remove(name)
  } finally {
    await tx.close()
  }
  const rows = await listStore(store, set, { env: io.env, stderr: io.stderr, signal })
  return rows.length
}
