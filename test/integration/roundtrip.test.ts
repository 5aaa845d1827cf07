// A full backup round-trips through a real OS pipe, and the same stream is a
// tar that GNU tar and bsdtar extract into the same tree.
import t from 'tap'
import { mkdirSync } from 'node:fs'
import { isRoot, sh } from '../helpers.js'
import { buildTree, compareTrees, leftovers } from '../tree.js'

const root = isRoot()

t.test('bt-scan | bt-restore reproduces every type and all metadata', async (t) => {
  const dir = t.testdir()
  mkdirSync(`${dir}/src`)
  buildTree(`${dir}/src`, { root })
  const r = sh(`bt-scan.js "${dir}/src" | bt-restore.js "${dir}/dst"`)
  t.equal(r.code, 0, r.stderr)
  t.same(compareTrees(`${dir}/src`, `${dir}/dst`, { owners: root }), [])
  t.same(leftovers(`${dir}/dst`), [])
})

t.test('restoring over an existing copy gives the same tree', async (t) => {
  const dir = t.testdir()
  mkdirSync(`${dir}/src`)
  buildTree(`${dir}/src`, { root })
  t.equal(sh(`bt-scan.js "${dir}/src" > "${dir}/s.bt"`).code, 0)
  t.equal(sh(`bt-restore.js "${dir}/dst" < "${dir}/s.bt"`).code, 0)
  const again = sh(`bt-restore.js "${dir}/dst" < "${dir}/s.bt"`)
  t.equal(again.code, 0, again.stderr)
  t.same(compareTrees(`${dir}/src`, `${dir}/dst`, { owners: root }), [])
})

t.test('GNU tar extracts a bt-scan stream into the same tree', async (t) => {
  const dir = t.testdir()
  mkdirSync(`${dir}/src`)
  mkdirSync(`${dir}/gnu`)
  buildTree(`${dir}/src`, { root })
  const r = sh(`bt-scan.js "${dir}/src" | tar -C "${dir}/gnu" --warning=no-unknown-keyword --xattrs --xattrs-include='*' --acls -xpf -`)
  t.equal(r.code, 0, r.stderr)
  t.equal(r.stderr, '', 'no warnings once unknown keywords are silenced')
  t.same(compareTrees(`${dir}/src`, `${dir}/gnu`, { owners: root }), [])
})

t.test('bsdtar extracts a bt-scan stream into the same tree', async (t) => {
  const dir = t.testdir()
  mkdirSync(`${dir}/src`)
  mkdirSync(`${dir}/bsd`)
  buildTree(`${dir}/src`, { root })
  const r = sh(`bt-scan.js "${dir}/src" | bsdtar -C "${dir}/bsd" -xpf -`)
  t.equal(r.code, 0, r.stderr)
  // bsdtar, by design, leaves the metadata of the directory it extracts into alone.
  t.same(compareTrees(`${dir}/src`, `${dir}/bsd`, { owners: root, rootMeta: false }), [])
})

t.test('tar -tv lists the stream', async (t) => {
  const dir = t.testdir({ a: 'x', sub: { b: 'y' } })
  const r = sh(`bt-scan.js "${dir}" | tar --warning=no-unknown-keyword -tf -`)
  t.equal(r.code, 0, r.stderr)
  // A version 2 stream ends with a repeat of the root, which carries the trailer (backtory-stream(5)).
  t.same(r.stdout.trim().split('\n'), ['./', 'a', 'sub/', 'sub/b', './'])
})
