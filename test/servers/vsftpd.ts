// A real FTP/FTPS server for the transport tests: Debian's vsftpd on
// 127.0.0.1 and a free port, run in the foreground as a child process with a
// config file in a temp dir, killed at teardown.
//
// System changes (root only, made once and reused): a system user `btftp`
// (shell /bin/sh because Debian's PAM stack for vsftpd checks pam_shells, no
// home of its own) whose random password lives in /var/lib/backtory-test/btftp.pw
// (0600). Tap runs test files in parallel, so the user and its password are
// made under a lock and then only read, never changed again.
//
// Every server chroots the user into its own temp root; `dir(name)` makes an
// isolated directory per test and returns both views of it.
//
// FTPS is explicit TLS (AUTH TLS) with a self-signed certificate made by the
// openssl CLI at setup, for 127.0.0.1 and localhost. Logins and data must be
// protected (force_local_*_ssl), and vsftpd's require_ssl_reuse=YES (its
// default) stays on: basic-ftp resumes the control connection's TLS session on
// every data connection, which is what vsftpd checks.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes, X509Certificate } from 'node:crypto'
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { STATE, freePort, gid, run, skipReason, uid, withLock } from './system.js'

export { freePort }
import { tmpdir } from 'node:os'

export const FTP_USER = 'btftp'
const PW_FILE = `${STATE}/btftp.pw`
const LOCK = `${STATE}/btftp.lock`
/** vsftpd changes into the home before the chroot: it must exist; nothing is stored there. */
const HOME = `${STATE}/btftp-home`

export interface FtpDir {
  /** The directory as the FTP client sees it (absolute, inside the chroot). */
  dir: string
  /** The same directory on the local disk. */
  localDir: string
}

export interface Vsftpd {
  port: number
  user: string
  password: string
  tls: boolean
  /** The chroot on the local disk ("/" for the client). */
  root: string
  /** A fresh, empty directory for one test. */
  dir(name: string): FtpDir
  /** A fresh directory that is a tmpfs of `bytes` bytes: a full disk on demand. */
  smallDisk(name: string, bytes: number): FtpDir
  /** The server certificate (PEM) and its SHA-256 pin ("sha256:" + hex); TLS servers only. */
  caPem?: Buffer
  fingerprint?: string
  /** vsftpd's own log (protocol and transfers), for failure messages. */
  log(): string
  stop(): Promise<void>
}

/** Why the FTP tests cannot run here, or undefined when they can. */
export function vsftpdMissing(): string | undefined {
  let why: string | undefined
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) why = 'needs root (useradd, chroot, tmpfs)'
  else if (!existsSync('/usr/sbin/vsftpd')) why = 'vsftpd is not installed (apt-get install vsftpd)'
  return skipReason('ftp', why)
}

/** Makes the btftp user and its password once; returns the password. */
export function ensureUser(): Promise<string> {
  return withLock(LOCK, () => {
    const hasUser = spawnSync('id', ['-u', FTP_USER]).status === 0
    if (hasUser && existsSync(PW_FILE) && existsSync(HOME)) return readFileSync(PW_FILE, 'utf8').trim()
    if (!hasUser) run('useradd', ['--system', '--no-create-home', '--home-dir', HOME, '--shell', '/bin/sh', FTP_USER])
    else run('usermod', ['--home', HOME, FTP_USER])
    mkdirSync(HOME, { recursive: true, mode: 0o755 })
    chownSync(HOME, uid(FTP_USER), gid(FTP_USER))
    const password = randomBytes(12).toString('hex')
    run('chpasswd', [], `${FTP_USER}:${password}\n`)
    writeFileSync(PW_FILE, `${password}\n`, { mode: 0o600 })
    return password
  })
}

/** A self-signed certificate for 127.0.0.1 and localhost. */
function makeCert(dir: string): { cert: string; key: string; pem: Buffer; fingerprint: string } {
  const cert = `${dir}/cert.pem`
  const key = `${dir}/key.pem`
  run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', key, '-out', cert])
  const pem = readFileSync(cert)
  const der = new X509Certificate(pem).raw
  return { cert, key, pem, fingerprint: `sha256:${createHash('sha256').update(der).digest('hex')}` }
}

/** Waits until the server greets on `port` (220), or fails after ~10 s. */
async function waitForBanner(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`vsftpd exited (${child.exitCode}): ${stderr()}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.setTimeout(1000)
      s.once('data', (b) => {
        s.destroy()
        resolve(b.toString().startsWith('220'))
      })
      s.once('error', () => resolve(false))
      s.once('timeout', () => {
        s.destroy()
        resolve(false)
      })
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`vsftpd did not answer on port ${port}: ${stderr()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

export async function startVsftpd(opts: { tls?: boolean } = {}): Promise<Vsftpd> {
  const password = await ensureUser()
  const base = mkdtempSync(`${tmpdir()}/bt-vsftpd-`)
  chmodSync(base, 0o755) // the session runs as btftp and changes into root/
  const root = `${base}/root`
  const empty = `${base}/empty`
  mkdirSync(root, { mode: 0o755 })
  mkdirSync(empty, { mode: 0o555 })
  const id = uid(FTP_USER)
  const group = gid(FTP_USER)
  chownSync(root, id, group)
  const cert = opts.tls ? makeCert(base) : undefined
  const port = await freePort()
  const pasvMin = 20000 + Math.floor(Math.random() * 400) * 100
  const conf = [
    'listen=YES', 'listen_ipv6=NO', 'listen_address=127.0.0.1', `listen_port=${port}`, 'background=NO',
    'anonymous_enable=NO', 'local_enable=YES', 'write_enable=YES', 'local_umask=022',
    `local_root=${root}`, 'chroot_local_user=YES', 'allow_writeable_chroot=YES', `secure_chroot_dir=${empty}`,
    'pam_service_name=vsftpd', 'userlist_enable=NO', 'seccomp_sandbox=NO', 'isolate=NO', 'isolate_network=NO',
    'pasv_enable=YES', 'pasv_address=127.0.0.1', `pasv_min_port=${pasvMin}`, `pasv_max_port=${pasvMin + 99}`,
    'port_enable=NO', 'connect_from_port_20=NO', 'max_clients=0', 'max_per_ip=0', 'use_localtime=NO',
    'xferlog_enable=YES', 'xferlog_std_format=NO', 'log_ftp_protocol=YES', `vsftpd_log_file=${base}/vsftpd.log`,
    'delete_failed_uploads=NO', 'dirmessage_enable=NO', 'ls_recurse_enable=NO', 'hide_ids=YES',
  ]
  if (cert) {
    conf.push('ssl_enable=YES', `rsa_cert_file=${cert.cert}`, `rsa_private_key_file=${cert.key}`,
      'force_local_logins_ssl=YES', 'force_local_data_ssl=YES', 'require_ssl_reuse=YES',
      'ssl_request_cert=NO', 'ssl_ciphers=HIGH', 'ssl_sslv2=NO', 'ssl_sslv3=NO', 'ssl_tlsv1=YES')
  }
  writeFileSync(`${base}/vsftpd.conf`, `${conf.join('\n')}\n`)
  const child = spawn('/usr/sbin/vsftpd', [`${base}/vsftpd.conf`], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stdout!.on('data', (b: Buffer) => { err += b.toString() })
  child.stderr!.on('data', (b: Buffer) => { err += b.toString() })
  child.on('error', (e) => { err += String(e) })
  try {
    await waitForBanner(port, child, () => err)
  } catch (e) {
    child.kill('SIGKILL')
    rmSync(base, { recursive: true, force: true })
    throw e
  }
  const mounts: string[] = []
  return {
    port, user: FTP_USER, password, tls: !!cert, root,
    caPem: cert?.pem, fingerprint: cert?.fingerprint,
    dir(name: string): FtpDir {
      const localDir = `${root}/${name}`
      mkdirSync(localDir)
      chownSync(localDir, id, group)
      return { dir: `/${name}`, localDir }
    },
    smallDisk(name: string, bytes: number): FtpDir {
      const localDir = `${root}/${name}`
      mkdirSync(localDir)
      run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},uid=${id},gid=${group},mode=0755`, 'tmpfs', localDir])
      mounts.push(localDir)
      return { dir: `/${name}`, localDir }
    },
    log: () => (existsSync(`${base}/vsftpd.log`) ? readFileSync(`${base}/vsftpd.log`, 'utf8') : '') + err,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await gone
      }
      // Session processes die with the listener (vsftpd sets PR_SET_PDEATHSIG).
      for (const m of mounts) spawnSync('umount', ['-l', m])
      rmSync(base, { recursive: true, force: true })
    },
  }
}
