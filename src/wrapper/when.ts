// The times an admin types for `restore --at`: the wall-clock time of this
// machine ("2026-11-20 03:00"), as people say when something broke, an
// ISO-8601 time with its zone, a day, or "3d" ago. A local time that the
// clocks skipped or passed twice (a DST change) is refused, not guessed.
import { UsageError } from '../errors.js'
import { parseDuration } from './values.js'

export const TIME_FORMS = [
  "'2026-11-20 03:00' or '2026-11-20 03:00:15' (local time of this machine)",
  "'2026-11-20' (local time: the end of that day)",
  "'2026-11-20T03:00:00Z' or '2026-11-20T03:00:00+01:00' (ISO 8601 with its zone)",
  "'3d', '12h', '30m', '2w' (that long ago)",
]

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/
const ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/
const RELATIVE = /^(\d{1,9})([smhdw])(?:\s+ago)?$/

function bad(text: string, why: string): never {
  throw new UsageError(`cannot read the time ${JSON.stringify(text)}: ${why}`, `give one of: ${TIME_FORMS.join('; ')}`)
}

/** The instant `text` names; `now` anchors the relative forms. */
export function parseTime(text: string, now: Date): Date {
  const s = text.trim()
  const rel = RELATIVE.exec(s)
  if (rel) return new Date(now.getTime() - parseDuration(`${rel[1]}${rel[2]}`)! * 1000)
  if (ZONED.test(s)) {
    const d = new Date(s.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
    if (Number.isNaN(d.getTime())) bad(text, 'no such date')
    return d
  }
  const m = LOCAL.exec(s)
  if (!m) bad(text, 'not a form backtory reads')
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const dayOnly = m[4] === undefined
  const [h, mi, sec] = dayOnly ? [23, 59, 59] : [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)]
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 59) bad(text, 'no such date or time')
  const wall = Date.UTC(y, mo - 1, d, h, mi, sec)
  if (new Date(wall).getUTCDate() !== d) bad(text, 'no such date')
  const instants = localInstants(wall)
  if (instants.length === 1) return new Date(instants[0]!)
  if (instants.length === 0) bad(text, 'this local time does not exist here (the clocks skipped it)')
  return bad(text, `this local time happened twice here (the clocks went back): ${instants.map((i) => new Date(i).toISOString()).join(' or ')}; ` +
    'write it in ISO 8601 with its zone')
}

/** Every instant whose local wall-clock reading is `wall` (wall-clock fields read as UTC): 0, 1 or 2 of them. */
function localInstants(wall: number): number[] {
  const offsets = new Set([-86400e3, 0, 86400e3].map((d) => new Date(wall + d).getTimezoneOffset()))
  const out = new Set<number>()
  for (const off of offsets) {
    const t = wall + off * 60e3
    if (new Date(t).getTimezoneOffset() === off) out.add(t)
  }
  return [...out].sort((a, b) => a - b)
}

const two = (n: number) => String(n).padStart(2, '0')

/** ISO 8601 in this machine's local time, with its offset: what `--at` reads back. */
export function localIso(d: Date): string {
  const off = -d.getTimezoneOffset()
  const sign = off < 0 ? '-' : '+'
  const a = Math.abs(off)
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}` +
    `${sign}${two(Math.floor(a / 60))}:${two(a % 60)}`
}
