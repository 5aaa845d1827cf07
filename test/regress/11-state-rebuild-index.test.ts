// Issue 11, item 3: a lost state directory could be rebuilt only with
// `bt-delta --rebuild-from FULL`, which needs the full decrypted, that is the
// admin's private key, which the host never holds. Now bt-put --index-key
// stores the full's index beside it (kind "index", sealed and signed with the
// host key) and bt-delta --rebuild-index makes it the state again with the
// host key alone, refusing a wrong key or signer, damage, and a mismatch.
import t from 'tap'
import { cpSync, existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { ROOT, sh } from '../helpers.js'
import { compareTrees } from '../tree.js'
import { loadPrivate } from '../../src/cli/keyfile.js'
import { readState } from '../../src/state/store.js'
import { rebuildFromIndex, sealIndex } from '../../src/state/index-seal.js'

const K = `${ROOT}test/fixtures/keys`
const SEAL = `bt-seal.js --compress none --set www --to ${K}/admin.pub --sign ${K}/host.key`
const nightly = (src: string, S: string, url: string, extra = `--index-key ${K}/host.key`) =>
  `bt-scan.js --state "${S}" "${src}" | bt-delta.js --auto --state "${S}" | ${SEAL} | bt-put.js --state "${S}" ${extra} ${url}`
const kindOf = (name: string) => /_(full|diff)_/.exec(name)?.[1]
const rows = (url: string) => sh(`bt-ls.js --json "${url}"`).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
const genFiles = (S: string) => Object.fromEntries(['full.json', 'index.jsonl', 'sigs.bin'].map((f) => [f, readFileSync(`${S}/current/${f}`).toString('hex')]))

t.test('a lost state directory is rebuilt from the index object with the host key alone', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n', sub: { b: 'bravo\n'.repeat(5000) } }, state: {} })
  const S = `${dir}/state`
  const url = `file://${dir}/store`
  const full = sh(nightly(`${dir}/src`, S, url))
  t.equal(full.code, 0, full.stderr)
  t.equal(kindOf(full.stdout.trim()), 'full')
  t.match(full.stderr, /bt-put: stored www_\d{8}T\d{6}Z_index_[0-9a-f]{32}, the index of full [0-9a-f]{32}/)

  // The index object is named like its full with the kind "index", and is a flag of that full, not a row.
  const stored = readdirSync(`${dir}/store`).sort()
  t.equal(stored.length, 2)
  t.equal(stored[1]!.replace('_index_', '_full_'), stored[0], `named like its full: ${stored.join(' ')}`)
  const listed = rows(url)
  t.equal(listed.length, 1, 'one row: the full')
  t.match(listed[0], { kind: 'full', complete: true, index: true, index_name: stored[1]!.replace(/\.0001-of-0001\.sealed$/, '') })
  t.match(sh(`bt-ls.js "${url}"`).stdout, /\tcomplete\+index\t/)
  const before = genFiles(S)

  rmSync(S, { recursive: true })
  const name = listed[0]!.index_name as string
  const rebuilt = sh(`bt-get.js "${url}/${name}" | bt-delta.js --state "${S}" --rebuild-index - --index-key ${K}/host.key`)
  t.equal(rebuilt.code, 0, rebuilt.stderr)
  t.match(rebuilt.stderr, /bt-delta: rebuilt the index of full [0-9a-f]{32} \(set www/)
  t.same(genFiles(S), before, 'the state is the one that was lost, byte for byte')
  t.notOk(existsSync(`${S}/pending`))

  // The next night makes a differential against the stored full, and both restore the tree.
  writeFileSync(`${dir}/src/a`, 'alpha two\n')
  const diff = sh(nightly(`${dir}/src`, S, url))
  t.equal(diff.code, 0, diff.stderr)
  t.equal(kindOf(diff.stdout.trim()), 'diff', 'a differential, not a new full')
  const open = `bt-open.js --key ${K}/admin.key --verify ${K}/host.pub`
  const fullName = listed[0]!.name as string
  const r = sh(`bt-get.js "${url}/${fullName}" | ${open} | bt-restore.js "${dir}/r" && bt-get.js "${url}/latest" | ${open} | bt-restore.js "${dir}/r"`)
  t.equal(r.code, 0, r.stderr)
  t.same(compareTrees(`${dir}/src`, `${dir}/r`), [], '"latest" is the differential, never the index object')

  // By id, the full; an index object is not a backup for bt-get's "latest" or id lookups.
  const byId = sh(`bt-get.js "${url}/${listed[0]!.id as string}" | bt-open.js --info --verify ${K}/host.pub`)
  t.equal(byId.code, 0, byId.stderr)
  t.match(byId.stdout, /kind: full/)
})

t.test('refusals: wrong key, wrong signer, a backup instead, truncation, an id that differs; nothing becomes current', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' }, state: {} })
  const S = `${dir}/state`
  const url = `file://${dir}/store`
  t.equal(sh(nightly(`${dir}/src`, S, url)).code, 0)
  const [row] = rows(url)
  t.equal(sh(`bt-get.js "${url}/${row!.index_name as string}" > "${dir}/index.sealed"`).code, 0)
  t.equal(sh(`bt-get.js "${url}/${row!.name as string}" > "${dir}/full.sealed"`).code, 0)
  const sealed = readFileSync(`${dir}/index.sealed`)

  const cases: Array<[string, string, string, RegExp]> = [
    ['another host key', `--rebuild-index "${dir}/index.sealed" --index-key ${K}/other.key`, 'BT_INDEX_KEY',
      /error: the index object was not made with the host key ".*other\.key"/],
    ['a signer that is not the trusted one', `--rebuild-index "${dir}/index.sealed" --index-key ${K}/host.key --verify ${K}/rsahost.pub`, 'BT_UNKNOWN_SIGNER',
      /error: archive is signed by ed25519 key [0-9a-f]{64}, which is not a --verify key/],
    ['the full instead of its index', `--rebuild-index "${dir}/full.sealed" --index-key ${K}/host.key`, 'BT_INDEX_OBJECT',
      /error: the archive is a "full" backup \([0-9a-f]{32}\), not an index object/],
    ['a truncated index object', `--rebuild-index "${dir}/cut.sealed" --index-key ${K}/host.key`, 'BT_SEAL_TRUNCATED', /error: sealed archive is truncated/],
    ['a changed byte', `--rebuild-index "${dir}/flip.sealed" --index-key ${K}/host.key`, '', /error: /],
  ]
  writeFileSync(`${dir}/cut.sealed`, sealed.subarray(0, sealed.length - 200))
  const flip = Buffer.from(sealed)
  flip[flip.length - 400]! ^= 1
  writeFileSync(`${dir}/flip.sealed`, flip)
  for (const [what, args, , message] of cases) {
    const lost = `${dir}/lost-${what.replace(/\W+/g, '-')}`
    const r = sh(`bt-delta.js --state "${lost}" ${args}`)
    t.equal(r.code, 4, `${what}: exit 4`)
    t.match(r.stderr, message, what)
    t.equal(existsSync(lost) ? readState(lost) : undefined, undefined, `${what}: no current generation`)
    if (existsSync(lost)) t.same(readdirSync(lost).filter((n) => n !== 'delta.lock'), [], `${what}: nothing left behind`)
  }

  // An index object whose full.json names another full than the object does (a faulty writer): refused.
  const key = loadPrivate(`${K}/host.key`, undefined)
  const good = readState(S)!
  const gen = `${dir}/forged-gen`
  cpSync(good.gen, gen, { recursive: true })
  const info = JSON.parse(readFileSync(`${gen}/full.json`, 'utf8'))
  writeFileSync(`${gen}/full.json`, `${JSON.stringify({ ...info, id: 'f'.repeat(32) })}\n`)
  const forged = sealIndex({ dir: S, gen, full: good.full }, key, 'www', { producer: 'test', host: 'test' })
  const lost = `${dir}/lost-forged`
  await t.rejects(rebuildFromIndex(forged, lost, { key, verify: [], who: { tool: 'test', pid: process.pid } }),
    { code: 'BT_INDEX_OBJECT', message: /its full\.json is of full "f{32}", the index object of full [0-9a-f]{32}/ })
  t.equal(readState(lost), undefined, 'nothing current')

  // The lost state was never touched by any of this.
  t.equal(readState(S)!.full.id, good.full.id)
})

t.test('a full without its index object is still complete, and still a base', async (t) => {
  const dir = t.testdir({ src: { a: 'alpha\n' }, state: {} })
  const S = `${dir}/state`
  const url = `file://${dir}/store`
  t.equal(sh(nightly(`${dir}/src`, S, url, '')).code, 0, 'a full stored without --index-key')
  t.match(rows(url)[0], { kind: 'full', complete: true, index: false, index_name: null })
  t.match(sh(`bt-ls.js "${url}"`).stdout, /\tcomplete\t/)
  writeFileSync(`${dir}/src/a`, 'beta\n')
  const d = sh(nightly(`${dir}/src`, S, url))
  t.equal(d.code, 0, d.stderr)
  t.equal(kindOf(d.stdout.trim()), 'diff', 'a differential against a full that has no index object')

  // An index object whose full is gone (a prune cut short) shows with --all only, as what it is.
  const full2 = sh(`rm -rf "${S}" && mkdir "${S}" && ${nightly(`${dir}/src`, S, url)}`)
  t.equal(full2.code, 0, full2.stderr)
  const fullFile = readdirSync(`${dir}/store`).find((n) => n.includes('_full_') && n.includes(full2.stdout.trim().split('_')[3]!))!
  renameSync(`${dir}/store/${fullFile}`, `${dir}/gone.sealed`)
  t.notMatch(sh(`bt-ls.js "${url}"`).stdout, /index/, 'no row for an index object')
  t.match(sh(`bt-ls.js --all "${url}"`).stdout, /^index-object\t\d+\tcomplete\tNO-FULL\twww_\d{8}T\d{6}Z_index_/m)
})
