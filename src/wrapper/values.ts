// The value syntaxes of backtory.conf(5) and the wrapper's options. Each
// returns undefined for a bad value, so the caller can name file and line.

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 }

/** "90s", "10m", "12h", "7d", "2w" → seconds. A bare number is seconds. */
export function parseDuration(v: string): number | undefined {
  const m = /^(\d{1,9})([smhdw]?)$/.exec(v.trim())
  if (!m) return undefined
  return Number(m[1]) * (UNIT[m[2] || 's'] ?? 1)
}

/** "50%" or "0.5" → 0.5; a share of a full, so above 0 and at most 10 (1000%). */
export function parseShare(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(v.trim())
  if (!m) return undefined
  const n = Number(m[1]) / (m[2] ? 100 : 1)
  return n > 0 && n <= 10 ? n : undefined
}

/** A whole number ≥ 0. */
export function parseCount(v: string): number | undefined {
  return /^\d{1,9}$/.test(v.trim()) ? Number(v) : undefined
}

/** Seconds → the largest unit that says it without a fraction worth hiding: "7d", "36h", "90s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  for (const [unit, n] of [['d', UNIT.d!], ['h', UNIT.h!], ['m', UNIT.m!]] as const) {
    if (s >= n && (s % n === 0 || s >= 2 * n)) return `${Math.floor(s / n)}${unit}${s % n === 0 ? '' : '+'}`
  }
  return `${s}s`
}

/** Bytes for people: "1.7 KiB", "312 MiB". */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${n} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`
}
