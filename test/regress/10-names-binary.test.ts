// Issue 10 (the spec): a file name that is not valid UTF-8, as old servers
// with Latin-1 names hold, is stored exactly and restored under the same octets,
// by bt-scan, bt-delta and bt-restore alike, and GNU tar extracts it exactly too.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { linkSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { sys } from '../../src/sys/native.js'
import { runBin, sh } from '../helpers.js'

const B = (s: string) => Buffer.from(s, 'latin1')
const CAFE = 'caf\xe9' // Latin-1 "café": one octet 0xe9, not UTF-8

/** Builds the tree with names given as Latin-1 octets (Buffer paths: Node writes them as they are). */
function latin1Tree(src: string): void {
  mkdirSync(src)
  writeFileSync(B(`${src}/${CAFE}`), 'latin-1 content\n')
  mkdirSync(B(`${src}/d\xff`))
  writeFileSync(B(`${src}/d\xff/na\xefve \xe0 la carte`), 'inside\n')
  writeFileSync(`${src}/plain.txt`, 'plain\n')
  writeFileSync(B(`${src}/to-delete-\xe8`), 'bye\n')
  // Sorted by octets: e9 before ff, whatever follows (the state's index checks the order).
  writeFileSync(B(`${src}/o\xe9z`), 'oez\n')
  writeFileSync(B(`${src}/o\xffb`), 'ofb\n')
  symlinkSync(B(CAFE), B(`${src}/link`))
  symlinkSync(B(`d\xff/na\xefve \xe0 la carte`), B(`${src}/lien-\xe9`))
  linkSync(B(`${src}/${CAFE}`), B(`${src}/hard-\xe9`))
  // Node cannot pass a non-UTF-8 argument: the shell's printf makes the octet.
  const x = sh(`cd "${src}" && setfattr -n user.origine -v latin1 "$(printf 'caf\\351')"`)
  if (x.code !== 0) throw new Error(`setfattr failed: ${x.stderr}`)
}

/**
 * Every object of a tree by its exact octets (hex): type, content, link target
 * and user xattrs; read by Python, which sees names as bytes, not by backtory.
 */
function snapshot(dir: string): string {
  const py = `
import os, sys, hashlib
root = sys.argv[1].encode()
out = []
for d, dirs, files in os.walk(root):
    for n in dirs + files:
        p = os.path.join(d, n)
        rel = os.path.relpath(p, root)
        if rel.startswith(b'.backtory-restore'): continue
        if os.path.islink(p): what = 'l ' + os.readlink(p).hex()
        elif os.path.isdir(p): what = 'd'
        else: what = 'f ' + hashlib.sha256(open(p, 'rb').read()).hexdigest()[:16]
        xs = sorted((k, os.getxattr(p, k, follow_symlinks=False).hex()) for k in os.listxattr(p, follow_symlinks=False) if k.startswith('user.'))
        out.append('%s %s %s' % (rel.hex(), what, xs))
print('\\n'.join(sorted(out)))
`
  const r = spawnSync('python3', ['-c', py, dir], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`snapshot failed: ${r.stderr}`)
  return r.stdout
}

interface Run { code: number | null; stdout: string; stderr: string }
const ok = (t: Test, r: Run, what: string) => t.equal(r.code, 0, `${what}: ${r.stderr}`)

t.test('bt-scan | bt-restore keeps Latin-1 names, link targets and xattrs octet for octet', async (t) => {
  const dir = t.testdir({})
  const src = `${dir}/src`
  latin1Tree(src)
  const want = snapshot(src)
  t.match(want, new RegExp(B(CAFE).toString('hex')), 'the fixture holds the Latin-1 name')
  const scan = sh(`bt-scan.js "${src}" > "${dir}/full.bt"`)
  ok(t, scan, 'scan')
  t.equal(scan.stderr, '', 'bt-scan warns about nothing')
  ok(t, sh(`bt-restore.js "${dir}/out" < "${dir}/full.bt"`), 'restore')
  t.equal(snapshot(`${dir}/out`), want, 'the restored tree holds the same octets')
  t.equal(readFileSync(B(`${dir}/out/hard-\xe9`), 'utf8'), 'latin-1 content\n')
  // A PATTERN is UTF-8 text: "?" stands for the octet that cannot be typed.
  ok(t, sh(`bt-restore.js "${dir}/some" 'd?' < "${dir}/full.bt"`), 'restore with a pattern')
  t.equal(readFileSync(B(`${dir}/some/d\xff/na\xefve \xe0 la carte`), 'utf8'), 'inside\n')
  const only = snapshot(`${dir}/some`).trim().split('\n').map((l) => Buffer.from(l.split(' ')[0]!, 'hex').toString('latin1'))
  t.same(only, ['d\xff', 'd\xff/na\xefve \xe0 la carte'], 'only what the pattern selected')
})

t.test('bt-ls --json keeps such names exact; the text listing never prints the raw octet', async (t) => {
  const dir = t.testdir({})
  latin1Tree(`${dir}/src`)
  const scan = await runBin('bt-scan', [`${dir}/src`])
  t.equal(scan.code, 0, scan.stderr)
  const ls = await runBin('bt-ls', ['--json'], scan.stdout)
  t.equal(ls.code, 0, ls.stderr)
  t.match(ls.stdout.toString(), /"path":"caf\\udce9"/, 'JSON carries the octet as the escape \\udce9')
  const entries = ls.stdout.toString().trim().split('\n').map((l) => JSON.parse(l)).filter((f) => f.frame === 'entry')
  const byPath = new Map(entries.map((e) => [e.path, e]))
  t.ok(byPath.has('caf\udce9'), 'JSON.parse gives the surrogate-escaped name back')
  t.ok(byPath.has('d\udcff/na\udcefve \udce0 la carte'))
  t.equal(byPath.get('link')?.linkpath, 'caf\udce9', 'and the link target')
  const text = await runBin('bt-ls', [], scan.stdout)
  t.equal(text.code, 0, text.stderr)
  t.equal(text.stdout.indexOf(B(CAFE)), -1, 'no raw 0xe9 octet in the text listing')
})

t.test('a differential over Latin-1 names: changed, new and deleted files restore exactly', async (t) => {
  const dir = t.testdir({ state: {} })
  const src = `${dir}/src`
  const S = `${dir}/state`
  latin1Tree(src)
  ok(t, sh(`bt-scan.js --state "${S}" "${src}" | bt-delta.js --state "${S}" --full > "${dir}/full.bt" && bt-delta.js -q --state "${S}" --confirm > /dev/null`), 'full')
  writeFileSync(B(`${src}/${CAFE}`), 'changed latin-1 content, longer than before\n')
  writeFileSync(B(`${src}/d\xff/nouveau-\xf1`), 'new\n')
  unlinkSync(B(`${src}/to-delete-\xe8`))
  const want = snapshot(src)
  const d = sh(`bt-scan.js --state "${S}" "${src}" | bt-delta.js --state "${S}" > "${dir}/diff.bt"`)
  ok(t, d, 'differential')
  t.notMatch(d.stderr, /skipped|not valid UTF-8/)
  ok(t, sh(`bt-restore.js "${dir}/out" < "${dir}/full.bt" && bt-restore.js "${dir}/out" < "${dir}/diff.bt"`), 'full + differential')
  t.equal(snapshot(`${dir}/out`), want, 'full + differential == the changed tree, octet for octet')
})

t.test('GNU tar extracts a Latin-1 name from a bt-scan stream exactly', async (t) => {
  const dir = t.testdir({})
  latin1Tree(`${dir}/src`)
  ok(t, sh(`bt-scan.js "${dir}/src" > "${dir}/full.bt"`), 'scan')
  mkdirSync(`${dir}/x`)
  const r = sh(`tar -C "${dir}/x" -xf "${dir}/full.bt"`)
  t.equal(r.code, 0, r.stderr)
  t.equal(readFileSync(B(`${dir}/x/${CAFE}`), 'utf8'), 'latin-1 content\n', 'caf\\xe9 is there, under its octets')
  t.equal(readFileSync(B(`${dir}/x/d\xff/na\xefve \xe0 la carte`), 'utf8'), 'inside\n')
})

t.test('the native helper takes a path as octets (a Buffer), and refuses a NUL in it', async (t) => {
  const dir = t.testdir({})
  const file = B(`${dir}/${CAFE}`)
  writeFileSync(file, 'x')
  sys().setXattr(file, 'user.k', Buffer.from('v'))
  t.same(sys().listXattr(file), ['user.k'])
  t.equal(sys().getXattr(file, 'user.k').toString(), 'v')
  sys().lutimens(file, 1, 2, 3, 4)
  sys().mkfifo(B(`${dir}/fifo-\xe9`), 0o600)
  t.equal(sh(`cd "${dir}" && stat -c '%Y %F' "$(printf 'caf\\351')"`).stdout, '3 regular file\n', 'lutimens set the time')
  t.equal(sh(`cd "${dir}" && stat -c '%F' "$(printf 'fifo-\\351')"`).stdout, 'fifo\n', 'mkfifo made the FIFO under its octets')
  t.throws(() => sys().listXattr(Buffer.from('a\0b')), /NUL/)
  t.throws(() => sys().listXattr(Buffer.alloc(5000, 0x61)), /shorter than 4096/)
})
