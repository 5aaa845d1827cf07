// A real SFTP server for the transport tests: Debian's OpenSSH sshd on
// 127.0.0.1 and a free port, run in the foreground (-D -e) as a child process
// with its own config, host key and client key in a temp dir, killed at teardown.
//
// System changes (root only, made once under a lock and then only read, as
// for vsftpd.ts): the privilege separation directory /run/sshd; a system user
// `btsftp` with shell /usr/sbin/nologin (internal-sftp needs no shell) and home
// /var/lib/backtory-test/btsftp; its random password in
// /var/lib/backtory-test/btsftp.pw (0600), so password logins can be tested.
//
// The config: UsePAM no (sshd checks /etc/shadow itself, so the password
// works without a PAM stack and a locked account is refused), AllowUsers
// btsftp, AuthorizedKeysFile in the temp dir, StrictModes no (the temp dir
// belongs to root, not to the user), Subsystem sftp internal-sftp.
//
// Each server gets its own directory under the user's home; dir(name) makes
// an isolated directory per test and returns both views of it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { STATE, freePort, run, skipReason, uid, withLock } from './system.js'
import { tmpdir } from 'node:os'
import { basename } from 'node:path'

export const SFTP_USER = 'btsftp'
const HOME = `${STATE}/btsftp`
const PW_FILE = `${STATE}/btsftp.pw`
const LOCK = `${STATE}/btsftp.lock`
const SSHD = '/usr/sbin/sshd'

export interface SftpDir {
  /** The directory as an sftp:// URL path (absolute). */
  dir: string
  /** The same directory relative to the login directory, as a URL path: /~/… */
  homeDir: string
  /** The same directory on the local disk. */
  localDir: string
}

export interface Sshd {
  port: number
  user: string
  password: string
  /** The user's login directory. */
  home: string
  /** The host key's fingerprint as `ssh-keygen -lf` prints it (SHA256:…). */
  hostKeyFingerprint: string
  /** A known_hosts file with the one line `[127.0.0.1]:PORT ssh-ed25519 …`. */
  knownHostsFile: string
  /** The host public key line (type and base64), for tests that write their own known_hosts. */
  hostKeyLine: string
  /** The client's private key (OpenSSH format, no passphrase), authorized for the user. */
  identity: Buffer
  /** A fresh, empty directory for one test. */
  dir(name: string): SftpDir
  /** A fresh directory that is a tmpfs of `bytes` bytes: a full disk on demand. */
  smallDisk(name: string, bytes: number): SftpDir
  /** sshd's log (-e: to stderr), for failure messages. */
  log(): string
  stop(): Promise<void>
}

/** Why the SFTP tests cannot run here, or undefined when they can. */
export function sshdMissing(): string | undefined {
  let why: string | undefined
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) why = 'needs root (useradd, sshd, tmpfs)'
  else if (!existsSync(SSHD)) why = 'sshd is not installed (apt-get install openssh-server)'
  else if (spawnSync('ssh-keygen', ['-?']).error) why = 'ssh-keygen is not installed (apt-get install openssh-client)'
  return skipReason('sftp', why)
}

/** Makes /run/sshd, the btsftp user, its home and its password once; returns the password. */
function ensureUser(): Promise<string> {
  return withLock(LOCK, () => {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
    const hasUser = spawnSync('id', ['-u', SFTP_USER]).status === 0
    if (!hasUser) run('useradd', ['--system', '--no-create-home', '--home-dir', HOME, '--shell', '/usr/sbin/nologin', SFTP_USER])
    else if (run('getent', ['passwd', SFTP_USER]).split(':')[5] !== HOME) run('usermod', ['--home', HOME, SFTP_USER])
    if (!existsSync(HOME)) {
      mkdirSync(HOME, { mode: 0o755 })
      chownSync(HOME, uid(SFTP_USER), uid(SFTP_USER))
    }
    if (hasUser && existsSync(PW_FILE)) return readFileSync(PW_FILE, 'utf8').trim()
    const password = randomBytes(12).toString('hex')
    run('chpasswd', [], `${SFTP_USER}:${password}\n`)
    writeFileSync(PW_FILE, `${password}\n`, { mode: 0o600 })
    return password
  })
}

/** The config lines; PerSourcePenalties (OpenSSH ≥ 9.8) would lock out a test that fails logins on purpose. */
function config(base: string, extra: string[]): string {
  return [
    'ListenAddress 127.0.0.1', `HostKey ${base}/host_key`, 'PidFile none', 'UsePAM no', 'UseDNS no',
    'StrictModes no', `AuthorizedKeysFile ${base}/authorized_keys`, 'PubkeyAuthentication yes',
    'PasswordAuthentication yes', 'KbdInteractiveAuthentication no', 'PermitRootLogin no',
    `AllowUsers ${SFTP_USER}`, 'Subsystem sftp internal-sftp', 'MaxStartups 100', 'MaxAuthTries 10',
    'LogLevel VERBOSE', ...extra, '',
  ].join('\n')
}

export async function startSshd(): Promise<Sshd> {
  const password = await ensureUser()
  const id = uid(SFTP_USER)
  const base = mkdtempSync(`${tmpdir()}/bt-sshd-`)
  chmodSync(base, 0o755) // sshd reads authorized_keys as the user
  const root = `${HOME}/${basename(base)}`
  mkdirSync(root, { mode: 0o755 })
  chownSync(root, id, id)
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bt-test-host', '-f', `${base}/host_key`])
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bt-test-client', '-f', `${base}/client_key`])
  writeFileSync(`${base}/authorized_keys`, readFileSync(`${base}/client_key.pub`))
  chmodSync(`${base}/authorized_keys`, 0o644)
  const hostKeyLine = readFileSync(`${base}/host_key.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')
  const hostKeyFingerprint = run('ssh-keygen', ['-lf', `${base}/host_key.pub`]).split(/\s+/)[1]
  const port = await freePort()
  const knownHostsFile = `${base}/known_hosts`
  writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostKeyLine}\n`)
  let conf = config(base, ['PerSourcePenalties no'])
  writeFileSync(`${base}/sshd_config`, conf)
  if (spawnSync(SSHD, ['-t', '-f', `${base}/sshd_config`]).status !== 0) {
    conf = config(base, [])
    writeFileSync(`${base}/sshd_config`, conf)
    run(SSHD, ['-t', '-f', `${base}/sshd_config`])
  }
  const child = spawn(SSHD, ['-D', '-e', '-f', `${base}/sshd_config`, '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr!.on('data', (b: Buffer) => {
    log = (log + b.toString()).slice(-200_000)
  })
  child.on('error', (e) => {
    log += String(e)
  })
  try {
    await waitForListening(child, () => log)
  } catch (e) {
    child.kill('SIGKILL')
    rmSync(base, { recursive: true, force: true })
    rmSync(root, { recursive: true, force: true })
    throw e
  }
  const mounts: string[] = []
  const views = (name: string): SftpDir => ({ dir: `${root}/${name}`, homeDir: `/~/${basename(base)}/${name}`, localDir: `${root}/${name}` })
  return {
    port, user: SFTP_USER, password, home: HOME, hostKeyFingerprint, knownHostsFile, hostKeyLine,
    identity: readFileSync(`${base}/client_key`),
    dir(name) {
      const v = views(name)
      mkdirSync(v.localDir)
      chownSync(v.localDir, id, id)
      return v
    },
    smallDisk(name, bytes) {
      const v = views(name)
      mkdirSync(v.localDir)
      run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},uid=${id},gid=${id},mode=0755`, 'tmpfs', v.localDir])
      mounts.push(v.localDir)
      return v
    },
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await gone
      }
      // Session processes (one per connection) end when their clients disconnect.
      for (const m of mounts) spawnSync('umount', ['-l', m])
      rmSync(base, { recursive: true, force: true })
      rmSync(root, { recursive: true, force: true })
    },
  }
}

/** Waits for sshd's "Server listening" line, or fails after ~10 s. */
async function waitForListening(child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!/Server listening/.test(log())) {
    if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}): ${log()}`)
    if (Date.now() > deadline) throw new Error(`sshd did not start listening: ${log()}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
