// bt-put's Object Lock options: --retain DAYS or --retain-until DATE, in
// --retain-mode governance (the default: an account with the bypass
// permission can still delete early) or compliance (nobody can, not even the
// bucket's owner, until the date).
import { UsageError } from '../errors.js'
import { type Retention } from '../transport/transport.js'
import { type OptionSpec, type Values } from './args.js'

export const retentionOptions: OptionSpec[] = [
  { long: 'retain', arg: 'DAYS', doc: 's3: lock every object of the backup for DAYS days (S3 Object Lock)' },
  { long: 'retain-mode', arg: 'MODE', doc: 's3: "governance" (default) or "compliance" (no one can delete early)' },
  { long: 'retain-until', arg: 'DATE', doc: 's3: lock every object of the backup until DATE (YYYY-MM-DD or ISO-8601 UTC time)' },
]

export function retention(opts: Values, scheme: string, now: number): Retention | undefined {
  const days = opts.retain as string | undefined
  const until = opts['retain-until'] as string | undefined
  const mode = opts['retain-mode'] as string | undefined
  if (days === undefined && until === undefined) {
    if (mode !== undefined) throw new UsageError('--retain-mode needs --retain DAYS or --retain-until DATE')
    return undefined
  }
  if (days !== undefined && until !== undefined) throw new UsageError('give --retain DAYS or --retain-until DATE, not both')
  if (scheme !== 's3') throw new UsageError(`--retain and --retain-until lock objects in S3 (s3:// URLs); ${scheme}:// has no object lock`)
  const m = (mode ?? 'governance').toLowerCase()
  if (m !== 'governance' && m !== 'compliance') throw new UsageError(`--retain-mode ${JSON.stringify(mode)} is neither "governance" nor "compliance"`)
  let date: Date
  if (days !== undefined) {
    const n = Number(days)
    if (!Number.isFinite(n) || n <= 0 || n > 36500) throw new UsageError(`--retain ${JSON.stringify(days)} is not a number of days between 0 and 36500`)
    date = new Date(now + n * 86_400_000)
  } else {
    const ok = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z)?$/.test(until!)
    date = new Date(ok && until!.length === 10 ? `${until}T00:00:00Z` : until!)
    if (!ok || Number.isNaN(date.getTime())) {
      throw new UsageError(`--retain-until ${JSON.stringify(until)} is not a date`, 'write it as YYYY-MM-DD (midnight UTC) or YYYY-MM-DDTHH:MM:SSZ')
    }
    if (date.getTime() <= now) throw new UsageError(`--retain-until ${until} is not in the future`)
  }
  return { mode: m === 'compliance' ? 'COMPLIANCE' : 'GOVERNANCE', until: date }
}
