// backtory: the wrapper for the common flows. Each subcommand is a module of
// src/wrapper/ with the same spec + main as a bt-* filter, so it gets the same
// launcher (signals, exit codes, error wording) and the same man-page check.
import { EXIT } from '../errors.js'
import { VERSION } from '../version.js'
import { type CliSpec } from './args.js'
import { type Main, run } from './run.js'

interface Subcommand {
  spec: CliSpec
  main: Main
}

/** Name → module under src/wrapper/ (loaded on demand: a restore does not load the backup's code). */
export const SUBCOMMANDS: Record<string, { summary: string; load: () => Promise<Subcommand> }> = {
  init: { summary: 'make a set: its config, keys and state, and check the store', load: () => import('../wrapper/cmd-init.js') },
  backup: { summary: 'back up a set (or a directory) by its policy: full or differential', load: () => import('../wrapper/cmd-backup.js') },
  list: { summary: 'list a set\'s backups: kind, time, size, base, bytes a restore fetches', load: () => import('../wrapper/cmd-list.js') },
  restore: { summary: 'restore a point in time, a whole tree or some paths', load: () => import('../wrapper/cmd-restore.js') },
  verify: { summary: 'check stored backups with public keys only', load: () => import('../wrapper/cmd-verify.js') },
  prune: { summary: 'delete backups by the set\'s keep rules, never orphaning a differential', load: () => import('../wrapper/cmd-prune.js') },
  cron: { summary: 'print a crontab line and systemd units for a set', load: () => import('../wrapper/cmd-cron.js') },
}

export function usage(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((k) => k.length))
  const lines = Object.entries(SUBCOMMANDS).map(([k, v]) => `  ${k.padEnd(width)}  ${v.summary}`)
  return `usage: backtory COMMAND [OPTIONS] [ARGS]\n\ncommands:\n${lines.join('\n')}\n\n` +
    'See backtory COMMAND --help, backtory(1), backtory.conf(5) and backtory(7).\n'
}

export function dispatch(proc: NodeJS.Process): void {
  const cmd = proc.argv[2]
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    ;(cmd === undefined ? proc.stderr : proc.stdout).write(usage())
    proc.exitCode = cmd === undefined ? EXIT.USAGE : EXIT.OK
    return
  }
  if (cmd === '--version') {
    proc.stdout.write(`backtory ${VERSION}\n`)
    return
  }
  const sub = SUBCOMMANDS[cmd]
  if (sub === undefined) {
    proc.stderr.write(`backtory: error: unknown command ${JSON.stringify(cmd)}\nbacktory: hint: the commands are ${Object.keys(SUBCOMMANDS).join(', ')}; see backtory --help\n`)
    proc.exitCode = EXIT.USAGE
    return
  }
  // The subcommand parses what follows it, as a bt-* tool parses its argv.
  proc.argv.splice(2, 1)
  sub.load().then(
    (m) => run(m.spec, m.main, proc),
    (err: unknown) => {
      proc.stderr.write(`backtory: error: internal error: cannot load ${cmd}: ${err instanceof Error ? err.message : String(err)}\n`)
      proc.exitCode = EXIT.INTERNAL
    },
  )
}
