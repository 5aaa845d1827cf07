// A one-line progress report on a terminal (stderr), redrawn at most once a
// second; nothing at all when stderr is not a terminal, so logs stay clean.
import { type Io } from './io.js'

export function human(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`
}

export interface Progress {
  update(bytes: number, detail?: string): void
  done(): void
}

export function progress(io: Io, on: boolean | undefined, now: () => number = Date.now): Progress {
  if (!(on ?? io.stderr.isTTY === true)) return { update: () => undefined, done: () => undefined }
  const start = now()
  let last = 0
  let shown = false
  return {
    update(bytes, detail) {
      const t = now()
      if (t - last < 1000) return
      last = t
      const rate = bytes / Math.max(0.001, (t - start) / 1000)
      io.stderr.write(`\r\x1b[K${human(bytes)}  ${human(rate)}/s${detail ? `  ${detail}` : ''}`)
      shown = true
    },
    done() {
      if (shown) io.stderr.write('\r\x1b[K')
    },
  }
}
