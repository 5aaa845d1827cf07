// The worker side of ParallelCheck (check-parallel.ts): runs a SealCheck over
// the buffers it is handed, hands each back as soon as it is hashed, and
// reports the outcome.
import { parentPort } from 'node:worker_threads'
import { BtError } from '../errors.js'
import { SealCheck } from './check.js'
import { type PublicKey } from './keys.js'

type In =
  | { t: 'start'; verify: PublicKey[] }
  | { t: 'data'; buf: ArrayBuffer; n: number }
  | { t: 'end' }

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
    if (m.t === 'start') {
      check = new SealCheck(m.verify)
    } else if (m.t === 'data') {
      // SealCheck keeps no reference to what it is given (it copies what it holds back), so the buffer goes back at once.
      check!.push(Buffer.from(m.buf, 0, m.n))
      port.postMessage({ t: 'ack', buf: m.buf }, [m.buf])
    } else {
      const r = check!.end()
      port.postMessage({ t: 'done', header: r.header, signed: r.signed })
    }
  } catch (err) {
    fail(err)
  }
})
