// Applies decoded ops to a base held in memory. For tests and small files only:
// the real restore reads base ranges from disk and never holds a file whole.
import type { DeltaOp } from './format.js'
import { DeltaFormatError } from './errors.js'

export function applyOps(ops: Iterable<DeltaOp>, base: Uint8Array): Buffer {
  const parts: Uint8Array[] = []
  for (const op of ops) {
    if (op.kind === 'literal') {
      parts.push(op.data)
      continue
    }
    if (op.offset < 0 || op.length <= 0 || op.offset + op.length > base.length) {
      throw new DeltaFormatError(`copy of ${op.length} bytes from base offset ${op.offset} does not fit the base of ${base.length} bytes`)
    }
    parts.push(base.subarray(op.offset, op.offset + op.length))
  }
  return Buffer.concat(parts)
}
