// rsync's weak rolling checksum (Tridgell and Mackerras, TR-CS-96-05, section 3).
// Over a window x[k..l] of B = l-k+1 bytes:
//   a = sum x_i                mod 2^16
//   b = sum (l-i+1) * x_i      mod 2^16   (the first byte weighs B, the last 1)
//   weak = b << 16 | a, a signed int32 so it can live in an Int32Array and be
//   compared with === against one, with no boxing and no BigInt.
// Both halves roll in O(1): dropping x_k and taking x_{l+1},
//   a' = a - x_k + x_{l+1}
//   b' = b - B * x_k + a'
// The matcher inlines this recurrence in its hot loop; these functions are the
// reference it must agree with, and what the signature side uses.

/** The weak checksum of buf[start, end) computed from scratch. */
export function rollsum(buf: Uint8Array, start: number, end: number): number {
  let a = 0
  let b = 0
  // b accumulates a after each byte: after the last byte, byte i has been added
  // (end - i) times, which is its weight B - (i - start). Reducing every 256
  // bytes keeps both sums small integers (b < 2^25), so the JIT keeps them int32.
  for (let i = start; i < end;) {
    const stop = Math.min(end, i + 256)
    for (; i < stop; i++) {
      a += buf[i]
      b += a
    }
    a &= 0xffff
    b &= 0xffff
  }
  return (b << 16) | a
}

/** The weak checksum of the window moved one byte on: `out` leaves, `inn` enters; `len` is the window size. */
export function roll(weak: number, out: number, inn: number, len: number): number {
  const a = (weak - out + inn) & 0xffff
  const b = ((weak >>> 16) - len * out + a) & 0xffff
  return (b << 16) | a
}

/** The two 16-bit halves of a weak checksum, for tests and diagnostics. */
export function halves(weak: number): { a: number; b: number } {
  return { a: weak & 0xffff, b: (weak >>> 16) & 0xffff }
}
