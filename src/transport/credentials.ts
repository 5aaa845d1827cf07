// Where a password comes from, first match wins: --password-file, then the
// BT_PASSWORD environment variable, then ~/.netrc (the file ftp, curl and
// lftp already read). Never the command line.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { IoError, UsageError, isErrno } from '../errors.js'

export interface NetrcEntry { machine?: string; login?: string; password?: string }

/** Parses a .netrc (machine/default, login, password, account, macdef); tokens may be quoted. */
export function parseNetrc(text: string): NetrcEntry[] {
  const tokens: string[] = []
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (/^\s*macdef\b/.test(line)) {
      // A macro runs to the next blank line; its body is not tokens.
      while (i + 1 < lines.length && lines[i + 1]!.trim() !== '') i++
      continue
    }
    if (/^\s*#/.test(line)) continue
    for (const m of line.matchAll(re)) tokens.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!)
  }
  const out: NetrcEntry[] = []
  let cur: NetrcEntry | undefined
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (t === 'machine') out.push((cur = { machine: tokens[++i] }))
    else if (t === 'default') out.push((cur = {}))
    else if (cur && t === 'login') cur.login = tokens[++i]
    else if (cur && t === 'password') cur.password = tokens[++i]
    else if (cur && t === 'account') i++
  }
  return out
}

/** The .netrc entry for host (and user, when given); a "default" entry matches any host. */
export function netrcFor(entries: NetrcEntry[], host: string, user: string): NetrcEntry | undefined {
  const fits = (e: NetrcEntry) => user === '' || e.login === undefined || e.login === user
  return entries.find((e) => e.machine === host && fits(e)) ?? entries.find((e) => e.machine === undefined && fits(e))
}

export interface Credentials { user: string; password?: string }

export function resolveCredentials(o: { host: string; user: string; passwordFile?: string; env: NodeJS.ProcessEnv }): Credentials {
  let password: string | undefined
  if (o.passwordFile !== undefined) {
    try {
      // One line; the newline an editor adds is not part of the password.
      password = readFileSync(o.passwordFile, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      throw new IoError(`cannot read the password file ${JSON.stringify(o.passwordFile)}`, err as NodeJS.ErrnoException)
    }
    if (password === '') throw new UsageError(`the password file ${JSON.stringify(o.passwordFile)} is empty`)
  } else if (o.env.BT_PASSWORD !== undefined && o.env.BT_PASSWORD !== '') {
    password = o.env.BT_PASSWORD
  }
  let user = o.user
  const netrcPath = o.env.NETRC ?? (o.env.HOME ? join(o.env.HOME, '.netrc') : undefined)
  if ((password === undefined || user === '') && netrcPath) {
    let text: string | undefined
    try {
      text = readFileSync(netrcPath, 'utf8')
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw new IoError(`cannot read ${JSON.stringify(netrcPath)}`, err as NodeJS.ErrnoException)
    }
    const e = text === undefined ? undefined : netrcFor(parseNetrc(text), o.host, user)
    if (e) {
      if (user === '' && e.login !== undefined) user = e.login
      if (password === undefined && e.password !== undefined && (e.login === undefined || e.login === user)) password = e.password
    }
  }
  return { user, ...(password !== undefined ? { password } : {}) }
}
