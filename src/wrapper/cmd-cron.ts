// backtory cron SET: the lines that run a set's backup every night, as
// backtory-cron(1) describes: a crontab line and a systemd service + timer.
// It prints them and installs nothing (where they go is the admin's call).
// Commands are absolute (node and the launcher): cron's PATH is /usr/bin:/bin.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { EXIT, UsageError } from '../errors.js'
import { type CliSpec, type Parsed } from '../cli/args.js'
import { type Io } from '../cli/io.js'
import { loadSet } from './config.js'
import { shQuote } from './pipeline.js'

export const spec: CliSpec = {
  name: 'backtory cron',
  summary: 'print a crontab line and systemd units for a set',
  usage: ['[--at HH:MM] SET'],
  options: [
    { long: 'at', arg: 'HH:MM', doc: 'the time of day to run (default: 03:17, local time)' },
  ],
  notes: ['Prints; installs nothing. The job runs backtory backup -q SET: silent unless it fails.'],
}

const LAUNCHER = fileURLToPath(new URL('../../../bin/backtory.js', import.meta.url))

/** Where node is, from PATH: cron and systemd run with a PATH of their own. */
function nodePath(env: NodeJS.ProcessEnv): string {
  for (const d of (env.PATH ?? '').split(':')) if (d.startsWith('/') && existsSync(`${d}/node`)) return `${d}/node`
  return '/usr/bin/node'
}

export async function main(p: Parsed, io: Io, _signal: AbortSignal): Promise<number> {
  if (p.args.length !== 1) throw new UsageError('backtory cron takes one SET', 'e.g. backtory cron www')
  const at = (p.opts.at as string | undefined) ?? '03:17'
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(at)
  if (!m) throw new UsageError(`--at ${JSON.stringify(at)} is not a time of day`, 'write it as HH:MM, e.g. --at 02:30')
  const set = loadSet(p.args[0]!, { env: io.env, uid: io.uid })
  const arg = p.args[0]!.includes('/') ? set.file : set.name
  // Where a set's files are found when not in the default places: the job must look in the same ones.
  const env = (['BT_CONFIG_DIR', 'BT_DATA_DIR'] as const).filter((k) => io.env[k]).map((k) => `${k}=${io.env[k]!}`)
  const cmd = [...env, nodePath(io.env), LAUNCHER, 'backup', '-q', arg].map(shQuote).join(' ')
  const exec = [nodePath(io.env), LAUNCHER, 'backup', '-q', arg].map(shQuote).join(' ')
  const unit = `backtory-${set.name}`
  const [h, min] = [Number(m[1]), Number(m[2])]
  const userUnits = io.uid !== 0
  io.stdout.write([
    `# crontab line (crontab -e${userUnits ? '' : ' as root'}): set ${set.name}, every day at ${at}; cron mails what a failed run prints`,
    `${min} ${h} * * * ${cmd}`,
    '',
    `# systemd: ${userUnits ? '~/.config/systemd/user' : '/etc/systemd/system'}/${unit}.service`,
    '[Unit]',
    `Description=backtory backup of set ${set.name}`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    ...env.map((e) => `Environment=${e}`),
    `ExecStart=${exec}`,
    'Nice=10',
    'IOSchedulingClass=idle',
    '',
    `# systemd: ${userUnits ? '~/.config/systemd/user' : '/etc/systemd/system'}/${unit}.timer`,
    '[Unit]',
    `Description=nightly backtory backup of set ${set.name}`,
    '',
    '[Timer]',
    `OnCalendar=*-*-* ${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}:00`,
    'RandomizedDelaySec=10m',
    'Persistent=true',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
    `# then: systemctl${userUnits ? ' --user' : ''} daemon-reload && systemctl${userUnits ? ' --user' : ''} enable --now ${unit}.timer`,
    '',
  ].join('\n'))
  return EXIT.OK
}
