// What `bt-open --info` prints: the sealed header, one "name: value" line each.
import { type ParsedHeader } from './opener.js'
import { type PublicKey } from './keys.js'

export function infoLines(p: ParsedHeader, signer: PublicKey | undefined): string[] {
  const h = p.header
  const lines = [`format: backtory-seal/v1`, `id: ${h.id}`, `set: ${h.set}`, `kind: ${h.kind}`, `time: ${h.time}`]
  if (h.base !== undefined) lines.push(`base: ${h.base}`)
  lines.push(`compress: ${h.compress}`, `chunk: ${h.chunk}`)
  for (const s of h.stanzas) {
    lines.push(s.type === 'scrypt' ? `passphrase: scrypt log2(N)=${s.logN} r=${s.r} p=${s.p}` : `recipient: ${s.type} ${s.fingerprint}`)
  }
  lines.push(`signer: ${h.signer.alg} ${h.signer.fingerprint} (${signer ? `header signature verified with ${JSON.stringify(signer.path)}` : 'not verified'})`)
  return lines
}
