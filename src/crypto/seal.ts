// The sealed payload: chunked AES-256-GCM in the manner of age's STREAM
// (backtory-seal(5), "Payload"). Plaintext is cut into chunks of a fixed size;
// chunk i is sealed under the nonce i (11 bytes, big-endian) || final flag
// (1 byte: 0x01 on the last chunk, else 0x00). The counter stops reordering,
// the flag stops truncation at a chunk boundary. Pure and synchronous.
import { createCipheriv, createDecipheriv } from 'node:crypto'

export const TAG = 16
export const KEY_LENGTH = 32
export const DEFAULT_CHUNK = 1 << 16

export function chunkNonce(counter: number, final: boolean): Buffer {
  const n = Buffer.alloc(12)
  n.writeUIntBE(Math.floor(counter / 2 ** 32), 3, 4)
  n.writeUInt32BE(counter >>> 0, 7)
  n[11] = final ? 1 : 0
  return n
}

export function sealChunk(key: Buffer, counter: number, final: boolean, plain: Buffer): Buffer {
  const c = createCipheriv('aes-256-gcm', key, chunkNonce(counter, final))
  const body = c.update(plain)
  c.final()
  return Buffer.concat([body, c.getAuthTag()], plain.length + TAG)
}

/** The plaintext, or undefined when the chunk does not authenticate as (counter, final). */
export function openChunk(key: Buffer, counter: number, final: boolean, sealed: Buffer): Buffer | undefined {
  if (sealed.length < TAG) return undefined
  const d = createDecipheriv('aes-256-gcm', key, chunkNonce(counter, final))
  d.setAuthTag(sealed.subarray(sealed.length - TAG))
  const plain = d.update(sealed.subarray(0, sealed.length - TAG))
  try {
    d.final()
  } catch {
    return undefined // the tag did not verify; the caller names the chunk
  }
  return plain
}

/** How far the diagnosis of a failed chunk looks for the position it came from. */
const SEARCH = 64

/**
 * Why chunk `counter` did not open as (counter, final): it is another chunk of
 * this archive (moved), the final chunk where more follows, or just changed.
 */
export function diagnoseChunk(key: Buffer, counter: number, final: boolean, sealed: Buffer): string {
  if (openChunk(key, counter, !final, sealed)) {
    return final ? `chunk ${counter} is not the final chunk: the archive was cut short after it`
      : `chunk ${counter} is the final chunk, but more data follows it`
  }
  for (let j = Math.max(0, counter - SEARCH); j <= counter + SEARCH; j++) {
    if (j === counter) continue
    for (const f of [false, true]) {
      if (openChunk(key, j, f, sealed)) return `chunk ${counter} is chunk ${j} of this archive: chunks were reordered, swapped or duplicated`
    }
  }
  return `chunk ${counter} failed authentication: it was changed`
}

/** Cuts plaintext into sealed chunks; a full chunk goes out only once more data shows it is not the last. */
export class ChunkSealer {
  private readonly buf: Buffer
  private fill = 0
  private counter = 0

  constructor(private readonly key: Buffer, readonly chunk: number) {
    this.buf = Buffer.alloc(chunk)
  }

  push(data: Buffer): Buffer[] {
    const out: Buffer[] = []
    let off = 0
    while (off < data.length) {
      if (this.fill === this.chunk) {
        out.push(sealChunk(this.key, this.counter++, false, this.buf))
        this.fill = 0
      }
      const n = data.copy(this.buf, this.fill, off)
      this.fill += n
      off += n
    }
    return out
  }

  /** The final chunk: what is left (empty only when there was no plaintext at all). */
  final(): Buffer {
    return sealChunk(this.key, this.counter, true, this.buf.subarray(0, this.fill))
  }
}

/** A FIFO of buffers that hands out exact lengths, copying only across buffer borders. */
export class ByteQueue {
  private parts: Buffer[] = []
  length = 0

  push(b: Buffer): void {
    if (b.length === 0) return
    this.parts.push(b)
    this.length += b.length
  }

  take(n: number): Buffer {
    if (n > this.length) throw new RangeError(`take(${n}) from ${this.length} bytes`)
    this.length -= n
    const first = this.parts[0]
    if (first && first.length >= n) {
      if (first.length === n) this.parts.shift()
      else this.parts[0] = first.subarray(n)
      return first.subarray(0, n)
    }
    const out = Buffer.allocUnsafe(n)
    let got = 0
    while (got < n) {
      const p = this.parts[0]!
      const k = Math.min(p.length, n - got)
      p.copy(out, got, 0, k)
      got += k
      if (k === p.length) this.parts.shift()
      else this.parts[0] = p.subarray(k)
    }
    return out
  }

  /** The first `n` bytes (or fewer, when fewer are queued), left in the queue. */
  peek(n: number): Buffer {
    const first = this.parts[0]
    if (!first) return Buffer.alloc(0)
    if (first.length >= n) return first.subarray(0, n)
    return this.peekAll().subarray(0, n)
  }

  /** Everything queued, as one buffer (left in the queue). */
  peekAll(): Buffer {
    if (this.parts.length > 1) this.parts = [Buffer.concat(this.parts, this.length)]
    return this.parts[0] ?? Buffer.alloc(0)
  }
}
