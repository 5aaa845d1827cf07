// The worker side of ParallelCheck (check-parallel.ts): runs a SealCheck over
// the bytes it is sent, on its own core, and reports the outcome.
import { parentPort } from 'node:worker_threads'
import { BtError } from '../errors.js'
import { SealCheck } from './check.js'
import { type PublicKey } from './keys.js'

type In = { t: 'start'; verify: PublicKey[] } | { t: 'data'; b: Uint8Array } | { t: 'end' }

let check: SealCheck | undefined
let failed = false
const port = parentPort!

function fail(err: unknown): void {
  failed = true
  const e = err instanceof BtError ? { code: err.code, exit: err.exit, message: err.message, hints: err.hints }
    : { code: 'BT_INTERNAL', exit: 70, message: err instanceof Error ? err.message : String(err), hints: [] }
  port.postMessage({ t: 'error', e })
}

port.on('message', (m: In) => {
  if (failed) return
  try {
    if (m.t === 'start') check = new SealCheck(m.verify)
    else if (m.t === 'data') {
      check!.push(Buffer.from(m.b.buffer, m.b.byteOffset, m.b.byteLength))
      port.postMessage({ t: 'ack', n: m.b.byteLength })
    } else {
      const r = check!.end()
      port.postMessage({ t: 'done', header: r.header, signed: r.signed })
    }
  } catch (err) {
    fail(err)
  }
})
