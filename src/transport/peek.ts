// Reads the sealed header at the start of a stored backup without fetching the
// rest: the transfer is abandoned as soon as the header is complete (a few
// KiB), and the connection dropped so the next call starts clean.
import { Writable } from 'node:stream'
import { type ParsedHeader, SealedParser } from '../crypto/opener.js'
import { type Transport } from './transport.js'

class Enough extends Error {}

export async function peekHeader(tx: Transport, name: string): Promise<ParsedHeader> {
  const p = new SealedParser()
  let header: ParsedHeader | undefined
  const enough = new Enough('the header is complete')
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      p.push(chunk)
      try {
        header = p.header()
      } catch (err) {
        return cb(err as Error)
      }
      cb(header ? enough : null)
    },
  })
  try {
    await tx.load(name, sink, 0)
  } catch (err) {
    if (header) {
      await tx.close() // an abandoned transfer leaves the session in no state to reuse
      return header
    }
    throw sink.errored && sink.errored !== enough ? sink.errored : err
  }
  return header ?? p.header(true)!
}
