// The worker side of ParallelCheck (check-parallel.ts): runs a SealCheck over
// the slots of the shared ring it is told about, acknowledging each one as
// soon as it is hashed, and reports the outcome.
import { parentPort } from 'node:worker_threads'
import { BtError } from '../errors.js'
import { SealCheck } from './check.js'
import { type PublicKey } from './keys.js'

type In =
  | { t: 'start'; verify: PublicKey[]; ring: SharedArrayBuffer; slot: number }
  | { t: 'data'; slot: number; n: number }
  | { t: 'end' }

let check: SealCheck | undefined
let ring: Buffer
let size = 0
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
      ring = Buffer.from(m.ring)
      size = m.slot
    } else if (m.t === 'data') {
      // SealCheck keeps no reference to what it is given (it copies what it holds back), so the slot is free again at once.
      check!.push(ring.subarray(m.slot * size, m.slot * size + m.n))
      port.postMessage({ t: 'ack', slot: m.slot })
    } else {
      const r = check!.end()
      port.postMessage({ t: 'done', header: r.header, signed: r.signed })
    }
  } catch (err) {
    fail(err)
  }
})
