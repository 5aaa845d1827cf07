// Issue 10 (hardening): raw errno text without path or hint. A directory given
// as a file, -o into a missing directory, file:// naming a file: each message
// names the path and says what to do, and no libuv wording ("illegal operation
// on a directory", "EISDIR: …, open 'x.tmp-123'") reaches the user.
import t from 'tap'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { sh } from '../helpers.js'

const RAW = /illegal operation|E[A-Z]+: |, open '|tmp-\d/

t.test('a directory, a missing directory or a file where the other belongs', async (t) => {
  const dir = t.testdir({ src: { f: 'x' }, d: {} })
  const k = sh(`cd "${dir}" && bt-keygen.js --out admin && bt-keygen.js --type ed25519 --out host && bt-scan.js src > s.bt && ` +
    'bt-seal.js --to admin.pub --sign host.key < s.bt > s.bts && bt-put.js "file://$PWD/store/" < s.bts')
  t.equal(k.code, 0, k.stderr)
  const cases: Array<[string, number, RegExp, RegExp]> = [
    ['bt-scan.js -o d src', 2, /bt-scan: error: -o "d" is a directory/, /hint: name the file to write, e\.g\. -o "d\/NAME"/],
    ['bt-open.js --key admin.key --verify host.pub -o d < s.bts', 2, /bt-open: error: -o "d" is a directory/, /hint: name the file/],
    ['bt-get.js -o d "file://$PWD/store/latest"', 2, /bt-get: error: -o "d" is a directory/, /hint: name the file/],
    ['bt-scan.js -o nodir/x.bt src', 1, /bt-scan: error: cannot write "nodir\/x\.bt": ".*\/nodir" does not exist/, /hint: create the directory first \(mkdir -p ".*\/nodir"\)/],
    ['bt-get.js -o nodir/x "file://$PWD/store/latest"', 1, /bt-get: error: cannot write "nodir\/x": ".*\/nodir" does not exist/, /hint: create the directory first/],
    ['bt-scan.js -o s.bt/x.bt src', 1, /bt-scan: error: cannot write "s\.bt\/x\.bt": ".*\/s\.bt" is not a directory/, /hint: check the path/],
    ['bt-seal.js --to d --sign host.key < s.bt', 2, /bt-seal: error: public key "d" is a directory/, /hint: name the public key itself/],
    ['bt-seal.js --to admin.pub --sign d < s.bt', 2, /bt-seal: error: private key "d" is a directory/, /hint: name the private key itself/],
    ['bt-open.js --key d --verify host.pub < s.bts', 2, /bt-open: error: private key "d" is a directory/, /hint: name the private key/],
    ['bt-open.js --key admin.key --verify d < s.bts', 2, /bt-open: error: public key "d" is a directory/, /hint: name the public key/],
    ['bt-seal.js --passphrase-file d --sign host.key < s.bt', 2, /bt-seal: error: passphrase file "d" is a directory/, /hint: name the passphrase file itself/],
    ['bt-ls.js < d', 2, /bt-ls: error: standard input is a directory, not a stream/, /hint: /],
    ['bt-restore.js --to-stdout f < d', 2, /bt-restore: error: standard input is a directory/, /hint: /],
    ['bt-seal.js --to admin.pub --sign host.key d', 2, /bt-seal: error: "d" is a directory, not a stream file/, /hint: name the stream file/],
    ['bt-put.js "file://$PWD/s.bts" < s.bts', 1, /bt-put: error: ".*\/s\.bts" \(or a parent of it\) is a file, not a directory/, /hint: the URL names the directory that holds the backups/],
    ['bt-put.js --password-file d ftp://u@127.0.0.1:1/x/ < s.bts', 1, /bt-put: error: cannot read the password file "d": is a directory \(EISDIR\)/, /hint: a directory was given where a file belongs/],
    ['bt-restore.js s.bt < s.bt', 1, /bt-restore: error: cannot use "s\.bt" as the target directory: not a directory/, /hint: a file stands where a directory belongs/],
  ]
  for (const [cmd, code, error, hint] of cases) {
    const r = sh(`cd "${dir}" && ${cmd} > /dev/null`)
    t.equal(r.code, code, `${cmd}: ${r.stderr}`)
    t.match(r.stderr, error, cmd)
    t.match(r.stderr, hint, cmd)
    t.notMatch(r.stderr, RAW, `${cmd}: no raw errno text`)
  }
  t.notOk(existsSync(`${dir}/nodir`), 'no directory made')
  t.same(readdirSync(`${dir}/d`), [], 'nothing written into the directory')
})

t.test('a write error names what was written: the -o file or standard output', async (t) => {
  const dir = t.testdir({ src: { f: 'x' } })
  for (const [cmd, what] of [[`bt-scan.js -o /dev/full src`, '"/dev/full"'], ['bt-scan.js src > /dev/full', 'standard output'],
    ['bt-scan.js src | bt-ls.js > /dev/full', 'standard output']] as const) {
    const r = sh(`cd "${dir}" && ${cmd}`)
    t.equal(r.code, 1, cmd)
    t.match(r.stderr, `error: cannot write ${what}: no space left on device (ENOSPC)`, cmd)
    t.match(r.stderr, /hint: the filesystem is full/, cmd)
    t.notMatch(r.stderr, RAW, cmd)
  }
})

t.test('bt-ls DIR of a directory that is not a store says so instead of listing nothing', async (t) => {
  const dir = t.testdir({ d: { 'a.bt': 'x' } })
  const r = sh(`bt-ls.js "${dir}/d"`)
  t.equal(r.code, 0)
  t.equal(r.stdout, '')
  t.match(r.stderr, /bt-ls: no backups are stored in .*\/d \(it holds 1 other file\); to list a stream, name its file \(bt-ls FILE\) or pipe it in/)
})
