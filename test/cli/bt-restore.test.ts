// bt-restore's modes and options: --list, --dry-run, subsets, --to-stdout,
// owners, and a full disk.
import t from 'tap'
import { existsSync, lstatSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { isRoot, runBin, sh } from '../helpers.js'
import { leftovers } from '../tree.js'
import { makeStream } from '../stream.js'

const tree = {
  etc: { passwd: 'root:x:0:0\n', hosts: '127.0.0.1 localhost\n', 'ssh': { sshd_config: 'Port 22\n' } },
  var: { log: { syslog: 'log line\n' } },
  'top.txt': 'top\n',
}

function scan(dir: string): Buffer {
  const r = sh(`bt-scan.js "${dir}" > "${dir}.bt"`)
  if (r.code !== 0) throw new Error(r.stderr)
  return readFileSync(`${dir}.bt`)
}

t.test('--list prints the listing, with patterns as a filter', async (t) => {
  const dir = t.testdir({ src: tree })
  const s = scan(`${dir}/src`)
  const all = await runBin('bt-restore', ['--list'], s)
  t.equal(all.code, 0)
  t.equal(all.stdout.toString().split('\n').filter((l) => l && !l.startsWith('#')).length, 10)
  const some = await runBin('bt-restore', ['--list', 'etc/ssh'], s)
  t.match(some.stdout.toString(), /etc\/ssh\/sshd_config/)
  t.notMatch(some.stdout.toString(), /passwd/)
})

t.test('--dry-run verifies and prints paths, writing nothing', async (t) => {
  const dir = t.testdir({ src: tree })
  const s = scan(`${dir}/src`)
  const r = await runBin('bt-restore', ['--dry-run', `${dir}/dst`, 'etc/*'], s)
  t.equal(r.code, 0, r.stderr)
  t.same(r.stdout.toString().trim().split('\n'), ['etc/hosts', 'etc/passwd', 'etc/ssh', 'etc/ssh/sshd_config'])
  t.notOk(existsSync(`${dir}/dst`))
  const bad = await runBin('bt-restore', ['--dry-run', `${dir}/dst`], s.subarray(0, s.length - 100))
  t.equal(bad.code, 4, 'a dry run still verifies the whole stream')
})

t.test('a subset by path and by glob', async (t) => {
  const dir = t.testdir({ src: tree })
  const s = scan(`${dir}/src`)
  const r = await runBin('bt-restore', [`${dir}/dst`, 'etc/ssh', '*.txt'], s)
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(`${dir}/dst/etc/ssh/sshd_config`, 'utf8'), 'Port 22\n')
  t.equal(readFileSync(`${dir}/dst/top.txt`, 'utf8'), 'top\n')
  t.notOk(existsSync(`${dir}/dst/etc/passwd`))
  t.notOk(existsSync(`${dir}/dst/var`))
})

t.test('--to-stdout writes one file, verified', async (t) => {
  const dir = t.testdir({ src: tree })
  const s = scan(`${dir}/src`)
  const r = await runBin('bt-restore', ['--to-stdout', 'etc/passwd'], s)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stdout.toString(), 'root:x:0:0\n')
  const missing = await runBin('bt-restore', ['--to-stdout', 'etc/shadow'], s)
  t.equal(missing.code, 1)
  t.match(missing.stderr, /"etc\/shadow" is not in the stream/)
  const dirEntry = await runBin('bt-restore', ['--to-stdout', 'etc'], s)
  t.equal(dirEntry.code, 1)
  t.match(dirEntry.stderr, /is a directory, not a regular file/)
  // Damage right after the file: nothing of it may reach stdout.
  const at = s.indexOf('root:x:0:0')
  const bad = Buffer.from(s)
  bad[at] = 0x52
  const tampered = await runBin('bt-restore', ['--to-stdout', 'etc/passwd'], bad)
  t.equal(tampered.code, 4)
  t.equal(tampered.stdout.length, 0, 'unverified content never reaches stdout')
})

t.test('--to-stdout of a sparse file yields its holes as zeros', async (t) => {
  const dir = t.testdir({ src: {} })
  sh(`truncate -s 3M "${dir}/src/sp" && printf 'x' | dd of="${dir}/src/sp" bs=1 seek=2000000 conv=notrunc 2>/dev/null`)
  const r = await runBin('bt-restore', ['--to-stdout', 'sp'], scan(`${dir}/src`))
  t.equal(r.code, 0, r.stderr)
  t.ok(r.stdout.equals(readFileSync(`${dir}/src/sp`)))
})

t.test('-i FILE and -v', async (t) => {
  const dir = t.testdir({ src: tree })
  scan(`${dir}/src`)
  const r = sh(`bt-restore.js -v -i "${dir}/src.bt" "${dir}/dst" < /dev/null`)
  t.equal(r.code, 0, r.stderr)
  t.match(r.stderr, /^etc\/passwd$/m)
  t.equal(readFileSync(`${dir}/dst/var/log/syslog`, 'utf8'), 'log line\n')
})

t.test('owners: by name on this system, or numeric', { skip: !isRoot() && 'owners need root' }, async (t) => {
  const s = makeStream([
    { meta: { path: 'by-name', type: 'file', uid: 12345, gid: 12346, uname: 'nobody', gname: 'nogroup' }, data: 'x' },
    { meta: { path: 'unknown-name', type: 'file', uid: 23456, gid: 23457, uname: 'no-such-user-here', gname: '' }, data: 'y' },
  ])
  const dir = t.testdir()
  t.equal((await runBin('bt-restore', [`${dir}/a`], s)).code, 0)
  const nobody = Number(sh('id -u nobody').stdout)
  t.equal(lstatSync(`${dir}/a/by-name`).uid, nobody, 'the name wins over the number')
  t.equal(lstatSync(`${dir}/a/unknown-name`).uid, 23456, 'an unknown name falls back to the number')
  t.equal((await runBin('bt-restore', ['--numeric-owner', `${dir}/b`], s)).code, 0)
  t.equal(lstatSync(`${dir}/b/by-name`).uid, 12345)
  t.equal((await runBin('bt-restore', ['--no-same-owner', `${dir}/c`], s)).code, 0)
  t.equal(lstatSync(`${dir}/c/by-name`).uid, 0)
})

t.test('a full disk: exit 1, a clear message, nothing changed', { skip: !isRoot() && 'mounting needs root' }, async (t) => {
  const dir = t.testdir({ src: { 'a-small': 'fits\n' } })
  writeFileSync(`${dir}/src/big`, Buffer.alloc(6 * 1024 * 1024, 7))
  const s = scan(`${dir}/src`)
  const m = sh(`mkdir "${dir}/full" && mount -t tmpfs -o size=2m tmpfs "${dir}/full"`)
  t.equal(m.code, 0, m.stderr)
  const r = await runBin('bt-restore', [`${dir}/full`], s)
  const after = readdirSync(`${dir}/full`)
  const left = leftovers(`${dir}/full`)
  sh(`umount "${dir}/full"`)
  t.equal(r.code, 1)
  t.match(r.stderr, /^bt-restore: error: cannot restore "big": no space left on device \(ENOSPC\)$/m)
  t.match(r.stderr, /^bt-restore: hint: the filesystem is full/m)
  t.same(left, [])
  t.same(after, [], 'a failed restore puts nothing in place and leaves no stage')
})
