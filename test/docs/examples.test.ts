// Issue 10 (hardening): documentation examples that failed when followed
// (bt-snap(1) used `bt-seal -r`, which does not exist). Every example command
// of the manual pages (their EXAMPLES) and of the README runs here, against a
// sandbox, so that doc drift fails the tests.
//
// How an example runs:
// - Extraction: .Bd -literal blocks and .Dl lines of EXAMPLES, roff escapes
//   undone; in a block whose commands carry a "$ " prompt, the other lines are
//   example output (continuations — after "\", "|", "&&", inside a here-document
//   or indented — belong to their command). README: its indented code blocks.
// - All examples of one page run in order in one bash (set -e, pipefail: a
//   failing middle stage fails too), so a later example may use the files an
//   earlier one made and the variables it set (NAME=value lines), as a reader
//   following the page would; each runs in its own subshell, so an export or
//   a cd stays in its example.
// - The sandbox stands in for the machine the docs talk about: REWRITES below
//   map its paths (/srv, /etc, /var/lib/backtory, /backup, /tmp, /mnt, /root,
//   key files, remote URLs to a file:// store, ZFS/btrfs providers to --path)
//   into a temp tree; PRELUDE makes the files examples take as given (etc.bt,
//   srv.bts, keys, a stored backup); stubs stand in for systemctl, psql,
//   pg_dump(all), mysql and logger in bt-snap's hooks.
// - Examples that cannot run here are in SKIP, each with its reason; an entry
//   that matches no example fails, so the list cannot go stale.
// New flags and lines in documented pipelines need nothing here: they run as written.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs'
import { BIN, ROOT } from '../helpers.js'

interface Example { source: string; text: string }

const SKIP: Array<{ source: string; match: string; why: string }> = [
  { source: 'README.md', match: 'npm ci', why: 'installs the project and runs the whole test suite' },
  { source: 'README.md', match: "--at '2026-11-20 03:00'", why: 'points in time before the sandbox store\'s backups' },
  { source: 'bt-keygen.1', match: 'scp ', why: 'needs a remote host (scp, ssh)' },
  { source: 'bt-put.1', match: 'ssh-keyscan', why: 'needs a real SFTP server\'s host key' },
  { source: 'bt-put.1', match: '15 3 * * *', why: 'a crontab line, not a command' },
  { source: 'bt-put.1', match: '--fingerprint sha256:5e2b...c4a1', why: 'a placeholder pipeline ("...") and fingerprint' },
  { source: 'bt-put.1', match: '--volume-size 256M', why: 'a placeholder pipeline ("...")' },
  { source: 'bt-get.1', match: 'D=srv_20261126T031500Z', why: 'names a backup of the example\'s own store by its id' },
  { source: 'bt-get.1', match: '/mnt/usb/backtory/srv_20261126T031500Z', why: 'names a backup of the example\'s own store by its id' },
  { source: 'bt-open.1', match: '2026-06-01.bts', why: 'names an archive of the example\'s own store' },
  { source: 'bt-restore.1', match: "--exclude '!/etc/'", why: 'scans the real root file system' },
  { source: 'bt-scan.1', match: '-o /backup/root.bt /', why: 'scans the real root file system' },
  { source: 'bt-put.1', match: 's3://backups/srv/', why: 'needs an S3 server (test/cli/s3.test.ts runs bt-put --retain against radosgw)' },
  { source: 'bt-snap.1', match: '--lvm', why: 'LVM needs the kernel\'s device-mapper, which this test machine lacks' },
  { source: 'bt-snap.1', match: '--cleanup --zfs', why: 'needs a ZFS pool (the zfs-fuse tests in test/snap cover it)' },
  { source: 'backtory-prune.1', match: 'keep-daily = 7', why: 'lines of a config file, not commands' },
  { source: 'backtory.conf.5', match: 'source = zfs:tank/www', why: 'the lines of a config file, not commands (test/unit/wrapper/config.test.ts parses such a file)' },
  { source: 'backtory-prune.1', match: 'backtory prune', why: 'needs a set\'s config and keys (test/wrapper/prune.test.ts prunes a month of real backups)' },
  { source: 'backtory-restore.1', match: "--at '2026-11-20 03:00'", why: 'a point in time before the sandbox store\'s only backup' },
  { source: 'backtory-restore.1', match: '--at 1d', why: 'a point in time before the sandbox store\'s only backup' },
  { source: 'bt-mkrecover.1', match: '-o /root/recover.sh', why: 'captures the real machine\'s disks (test/recover/loop-machine.test.ts runs bt-mkrecover and recover.sh on loop devices)' },
  { source: 'bt-mkrecover.1', match: 'sh recover.sh --plan --map sda=/dev/vda', why: 'rebuilds a real machine\'s disks (test/recover/loop-machine.test.ts does it on loop devices)' },
  { source: 'bt-mkrecover.1', match: 'bt-mkrecover --layout layout.json', why: 'needs the layout of a real machine (test/recover/plan.test.ts renders hand-written ones)' },
]

/** Stands for the sandbox's path while the rewrites run; no rewrite matches it. */
const SANDBOX = '\u0001sandbox'

/** Sandbox rewrites, in order: `T` is the sandbox's absolute path. */
function rewrites(T: string): Array<[RegExp, string]> {
  return [
    [/\b(?:ftps?|sftp):\/\/[^\s/]+\/(?:~\/)?/g, `file://${T}/store/`],
    [/(bt-keygen\b[^\n|]*--out\s+)\S*?([^/\s]+)(?=\s|$)/g, `$1${T}/newkeys/$2`],
    [/(^|[\s=<])(?:\S*\/)?(admin|host|escrow)\.(key|pub)\b/gm, `$1${T}/keys/$2.$3`],
    [/--zfs tank\/www/g, `--path ${T}/srv/www`],
    [/--btrfs /g, '--path '],
    [/\/var\/lib\/backtory\//g, `${T}/state/`],
    [/\/var\/backups\//g, `${T}/var-backups/`],
    [/(^|[\s=<>])\/(backup|tmp|mnt|root)\//gm, `$1${T}/$2/`],
    [/(^|[\s=<>])\/(srv|etc|r)(?=[\s/]|$)/gm, `$1${T}/$2`],
    [/(^|\s)bt-open\.sh\b/gm, `$1${ROOT}scripts/bt-open.sh`],
  ]
}

/** The fixed test keys (test/fixtures/keys): made once, so each page's sandbox does not spend seconds on RSA key generation. */
const FIXTURE_KEYS = `${ROOT}test/fixtures/keys`

const PRELUDE = (T: string) => `
mkdir -p ${T}/srv/www/uploads ${T}/srv/www/cache ${T}/sys/etc/nginx ${T}/sys/etc/ssh ${T}/keys ${T}/newkeys ${T}/state \\
  ${T}/backup ${T}/tmp ${T}/mnt/snap ${T}/mnt/usb/backtory ${T}/mnt/backup/www ${T}/mnt/target ${T}/root ${T}/home ${T}/var-backups ${T}/store
echo '<h1>hi</h1>' > ${T}/srv/www/index.html; echo jpg > ${T}/srv/www/uploads/a.jpg; echo x > ${T}/srv/www/a.tmp
printf 'Signature: 8a477f597d28d172789f06886806bc55\\n' > ${T}/srv/www/cache/CACHEDIR.TAG
echo web1 > ${T}/sys/etc/hostname; echo 'root:x:0:0::/root:/bin/sh' > ${T}/sys/etc/passwd
echo 'worker_processes 1;' > ${T}/sys/etc/nginx/nginx.conf; echo 'Port 22' > ${T}/sys/etc/ssh/sshd_config
ln -s ${T}/sys/etc ${T}/etc
cp -r ${T}/srv/www ${T}/mnt/snap/www
cp ${FIXTURE_KEYS}/admin.key ${FIXTURE_KEYS}/admin.pub ${FIXTURE_KEYS}/escrow.key ${FIXTURE_KEYS}/escrow.pub ${FIXTURE_KEYS}/host.key ${FIXTURE_KEYS}/host.pub ${T}/keys/
chmod 600 ${T}/keys/*.key
echo 'correct horse' > ${T}/root/pw
bt-scan ${T}/sys > etc.bt; cp etc.bt root.bt
bt-scan ${T}/srv/www > www.bt
bt-seal --to ${T}/keys/admin.pub --sign ${T}/keys/host.key --set etc < etc.bt > etc.bts
cp etc.bts ${T}/mnt/backup/www/etc.bts
bt-scan ${T}/srv | bt-seal --to ${T}/keys/admin.pub --sign ${T}/keys/host.key --set srv > srv.bts
bt-put ${T}/store/srv/ < srv.bts >/dev/null 2>&1
bt-scan ${T}/srv | bt-delta --state ${T}/prelude-state --full > ${T}/backup/srv-full.bt
bt-delta --state ${T}/prelude-state --confirm >/dev/null
bt-scan ${T}/srv/www | bt-delta --state ${T}/prelude-www --full > www-full.bt
bt-delta --state ${T}/prelude-www --confirm >/dev/null
bt-scan --state ${T}/prelude-www ${T}/srv/www | bt-delta --state ${T}/prelude-www > www-0612.bt
mkdir -p ${T}/sys/etc/backtory
printf 'source = %s\\nstore = file://%s\\nrecipient = %s\\nsign-key = %s\\n' ${T}/srv ${T}/store/srv/ ${T}/keys/admin.pub ${T}/keys/host.key > ${T}/sys/etc/backtory/srv.conf
`

const STUBS: Record<string, string> = {
  systemctl: 'echo "systemctl $*" >&2',
  psql: 'echo "psql $*" >&2',
  mysql: 'echo "mysql $*" >&2',
  logger: 'echo "logger $*" >&2',
  pg_dump: 'echo "-- pg_dump $*"',
  pg_dumpall: 'echo "-- pg_dumpall"',
}

function unroff(s: string): string {
  return s.replace(/\\e/g, '\u0000').replace(/\\&/g, '').replace(/\\\(em/g, '\u2014').replace(/\\\(dq/g, '"').replace(/\\-/g, '-')
    .replace(/\u0000/g, '\\')
}

/** The commands of a block: with prompts, only the prompted lines and their continuations. */
function commands(lines: string[]): string {
  const prompted = lines.some((l) => /^[$#] /.test(l) && !/^# (backtory|trailer|incomplete)/.test(l))
  if (!prompted) return lines.join('\n')
  const out: string[] = []
  let open = false
  let heredoc: string | undefined
  for (const l of lines) {
    if (heredoc !== undefined) {
      out.push(l)
      if (l === heredoc) heredoc = undefined
      continue
    }
    const cmd = /^\$ (.*)$/.exec(l)?.[1] ?? (/^# (bt-.*)$/.exec(l)?.[1])
    if (cmd !== undefined) out.push(cmd)
    else if (open || /^\s/.test(l)) out.push(l)
    else continue // output shown in the example
    const last = out[out.length - 1]!
    heredoc = /<<\s*'?(\w+)'?/.exec(last)?.[1]
    open = /(\\|\||&&|\bdo)\s*$/.test(last)
  }
  return out.join('\n')
}

function manExamples(file: string): Example[] {
  const src = readFileSync(`${ROOT}man/${file}`, 'utf8').split('\n')
  const start = src.indexOf('.Sh EXAMPLES')
  if (start < 0) return []
  const out: Example[] = []
  for (let i = start + 1; i < src.length && !src[i]!.startsWith('.Sh '); i++) {
    const l = src[i]!
    if (l.startsWith('.Dl ')) out.push({ source: file, text: commands([unroff(l.slice(4))]) })
    else if (l.startsWith('.Bd -literal')) {
      const block: string[] = []
      for (i++; src[i] !== '.Ed'; i++) block.push(unroff(src[i]!))
      out.push({ source: file, text: commands(block) })
    }
  }
  return out
}

function readmeExamples(): Example[] {
  const src = readFileSync(`${ROOT}README.md`, 'utf8').split('\n')
  const out: Example[] = []
  for (let i = 0; i < src.length; i++) {
    if (!src[i]!.startsWith('    ') || (i > 0 && src[i - 1] !== '')) continue
    const block: string[] = []
    for (; i < src.length && src[i]!.startsWith('    '); i++) block.push(src[i]!.slice(4))
    out.push({ source: 'README.md', text: block.join('\n') })
  }
  return out
}

const pages = readdirSync(`${ROOT}man`).filter((f) => /\.[157]$/.test(f)).sort()
const all = [...pages.flatMap(manExamples), ...readmeExamples()]
const skipped = new Set<(typeof SKIP)[number]>()
const toRun = all.filter((e) => {
  const s = SKIP.find((k) => k.source === e.source && e.text.includes(k.match))
  if (s) skipped.add(s)
  return !s
})

t.test('every allow-list entry still names an example', async (t) => {
  for (const s of SKIP) t.ok(skipped.has(s), `${s.source}: ${JSON.stringify(s.match)} (${s.why})`)
  t.ok(all.length >= 40, `${all.length} examples found`)
})

t.test('no manual page nests its quotes (such as "(\u20182G, \u2018512M\u2019\u2019)")', { skip: spawnSync('mandoc', ['-V']).error ? 'mandoc is not installed' : false }, async (t) => {
  for (const f of readdirSync(`${ROOT}man`)) {
    const text = spawnSync('mandoc', ['-Tutf8', `${ROOT}man/${f}`], { encoding: 'utf8' }).stdout.replace(/.\x08/g, '').replace(/\s+/g, ' ')
    t.notMatch(text, /\u2018[^\u2019]*\u2018/, `${f}: every opening quote is closed before the next opens`)
  }
})

/** What every example runs with: the sandbox's tools first, its home, and its /etc/backtory and /var/lib/backtory/ as the rewrites map them. */
function sandboxEnv(T: string): NodeJS.ProcessEnv {
  return { ...process.env, PATH: `${T}/.bin:${process.env.PATH}`, HOME: `${T}/home`, BT_STATE: '', BT_CONFIG_DIR: `${T}/etc/backtory`, BT_DATA_DIR: `${T}/state` }
}

// One sandbox path for the whole file: the prelude runs once (keys, streams, a
// store, states: some seconds of work), and each page then runs in a fresh
// copy of it at the same path, since the prelude writes absolute paths.
const SANDBOX_DIR = `${ROOT}.tap/examples-sandbox-${process.pid}`
let template: string | undefined
t.teardown(() => {
  if (process.env.BT_DOCS_KEEP) return // kept for a look: the last page's sandbox and the template
  rmSync(SANDBOX_DIR, { recursive: true, force: true })
  if (template) rmSync(template, { recursive: true, force: true })
})

function sandbox(): string {
  const T = SANDBOX_DIR
  if (template !== undefined) {
    rmSync(T, { recursive: true, force: true })
    const c = spawnSync('cp', ['-a', template, T])
    if (c.status !== 0) throw new Error(`cannot copy the sandbox: ${c.stderr}`)
    return T
  }
  const bin = `${T}/.bin`
  mkdirSync(bin, { recursive: true })
  for (const f of readdirSync(BIN)) symlinkSync(`${BIN}/${f}`, `${bin}/${f.replace(/\.js$/, '')}`)
  for (const [name, body] of Object.entries(STUBS)) {
    writeFileSync(`${bin}/${name}`, `#!/bin/sh\n${body}\n`)
    chmodSync(`${bin}/${name}`, 0o755)
  }
  mkdirSync(`${T}/work`)
  const r = spawnSync('bash', ['-c', `set -e -o pipefail\n${PRELUDE(T)}`], { cwd: `${T}/work`, encoding: 'utf8', env: sandboxEnv(T) })
  if (r.status !== 0) throw new Error(`the sandbox's prelude failed: ${r.stderr.slice(-3000)}`)
  template = `${T}.template`
  const c = spawnSync('cp', ['-a', T, template])
  if (c.status !== 0) throw new Error(`cannot keep the sandbox: ${c.stderr}`)
  return T
}

for (const source of [...new Set(toRun.map((e) => e.source))]) {
  if (process.env.BT_DOCS_ONLY && process.env.BT_DOCS_ONLY !== source) continue
  t.test(`the examples of ${source} run as written`, async (t) => {
    const T = sandbox()
    const examples = toRun.filter((e) => e.source === source)
    let script = 'set -e -o pipefail\n'
    const assigned: string[] = []
    examples.forEach((e, n) => {
      let text = e.text
      // A placeholder first: the sandbox's own path may start with a path a later rewrite maps (/tmp, /root, /srv).
      for (const [re, to] of rewrites(SANDBOX)) text = text.replace(re, to)
      text = text.split(SANDBOX).join(T)
      // Its own subshell (an export or cd stays in its example), after the page's earlier NAME=value lines.
      script += `echo "### example ${n + 1}" >&2\n(\n${assigned.join('\n')}\n${text}\n)\n`
      assigned.push(...text.split('\n').filter((l) => /^([A-Za-z_]\w*=\S+\s*)+$/.test(l)))
    })
    writeFileSync(`${T}/examples.sh`, script)
    const r = spawnSync('bash', [`${T}/examples.sh`], { cwd: `${T}/work`, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 300_000, env: sandboxEnv(T) })
    const failed = /### example (\d+)\n(?![\s\S]*### example)/.exec(r.stderr)
    const which = failed ? examples[Number(failed[1]) - 1]!.text : 'none (the first failed)'
    t.equal(r.status, 0, `${source}: the last example reached: ${which}\n${r.stderr.slice(-3000)}`)
  })
}
