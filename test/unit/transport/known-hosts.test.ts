// known_hosts parsing and matching, against lines made by OpenSSH's own
// ssh-keygen (hashing with -H) so the matcher is checked by an independent
// implementation, not by itself.
import t from 'tap'
import { checkHostKey, fingerprint, hostMatches, keyType, knownHostsLine, knownTypes, parseKnownHosts } from '../../../src/transport/known-hosts.js'

const K = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOfer2gG+yxYFi43tQsGosDyHnTQtyH54vLc5rO+faMC'
const K2 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGyLl/yitoWJakwDrAuVb9+YDOCPvOwNWLOTvXJQNJpu'
const blob = (line: string): Buffer => Buffer.from(line.split(' ')[1], 'base64')
// `ssh-keygen -H` of "backup.example.net K" and "[backup.example.net]:2222 K"
const HASHED_22 = `|1|yuEZ6Z0ZrWdJ40HgutJIR9ITM2Q=|LSU0953O/hpdPXHHN6f5noXNE7g= ${K}`
const HASHED_2222 = `|1|ZPJBvPbkoPeDHqhypUtE3Z1Hze0=|eZ6ZtSrLIHa1RHbKq5m7DibD7kA= ${K}`

t.test('fingerprint is what ssh-keygen -lf prints', async (t) => {
  t.equal(fingerprint(blob(K)), 'SHA256:tkaqWCRwY8jij1yeiSBTD16mgPgZd9WtnA9fKA/oFWg')
  t.equal(fingerprint(blob(K2)), 'SHA256:SWaIcqDYj3F8ZoWByocGyTxcR3O66Mkb62PVsZF6hjs')
  t.equal(keyType(blob(K)), 'ssh-ed25519')
  t.equal(keyType(Buffer.from([0, 0, 0, 9, 1])), undefined, 'a truncated blob has no type')
  t.equal(knownHostsLine('h', 2222, blob(K)), `[h]:2222 ${K}`)
  t.equal(knownHostsLine('H', 22, blob(K)), `h ${K}`)
})

t.test('parsing keeps good lines and skips the rest, as ssh does', async (t) => {
  const text = [
    '# a comment', '', `  host1,host2 ${K} a comment`, `@revoked * ${K2}`, `@cert-authority *.example.net ${K2}`,
    `@bogus host ${K}`, 'host3 ssh-ed25519 !!notbase64', `host4 ssh-rsa ${K.split(' ')[1]}`, 'host5', `host6 ${K}\r`,
  ].join('\n')
  const e = parseKnownHosts(text)
  t.same(e.map((x) => [x.line, x.marker ?? '', x.hosts]), [[3, '', 'host1,host2'], [4, 'revoked', '*'], [5, 'cert-authority', '*.example.net'], [10, '', 'host6']],
    'an unknown marker, bad base64, a type that disagrees with the key and a short line are skipped')
  t.ok(e[0].key.equals(blob(K)))
})

t.test('host patterns', async (t) => {
  t.ok(hostMatches('a.example,b.example', 'b.example', 22))
  t.ok(hostMatches('B.Example', 'b.example', 22), 'case-insensitive')
  t.notOk(hostMatches('b.example', 'b.example', 2222), 'a bare name is port 22 only')
  t.ok(hostMatches('[b.example]:2222', 'b.example', 2222))
  t.notOk(hostMatches('[b.example]:2222', 'b.example', 22))
  t.notOk(hostMatches('[b.example]:2222', 'b.example', 2223))
  t.ok(hostMatches('*.example', 'x.example', 22))
  t.ok(hostMatches('h?.example', 'h1.example', 22))
  t.notOk(hostMatches('h?.example', 'h12.example', 22))
  t.notOk(hostMatches('*.example,!bad.example', 'bad.example', 22), 'negation wins')
  t.notOk(hostMatches('!bad.example', 'good.example', 22), 'negation alone matches nothing')
  t.notOk(hostMatches('a.b', 'axb', 22), 'a dot is literal')
  t.ok(hostMatches('[*]:2222', 'any.host', 2222))
})

t.test('hashed entries (ssh-keygen -H)', async (t) => {
  const h22 = parseKnownHosts(HASHED_22)[0].hosts
  const h2222 = parseKnownHosts(HASHED_2222)[0].hosts
  t.ok(hostMatches(h22, 'backup.example.net', 22))
  t.ok(hostMatches(h22, 'BACKUP.example.net', 22), 'the name is lowercased before hashing')
  t.notOk(hostMatches(h22, 'backup.example.org', 22))
  t.notOk(hostMatches(h22, 'backup.example.net', 2222))
  t.ok(hostMatches(h2222, 'backup.example.net', 2222))
  t.notOk(hostMatches(h2222, 'backup.example.net', 22))
  t.notOk(hostMatches('|1|bad|', 'backup.example.net', 22), 'a malformed hash matches nothing')
})

t.test('checkHostKey verdicts', async (t) => {
  const entries = parseKnownHosts([HASHED_22, `[backup.example.net]:2222 ${K2}`, `other ${K2}`, `@revoked revoked.example ${K}`, `revoked.example ${K}`, `@cert-authority ca.example ${K2}`].join('\n'))
  t.same(checkHostKey(entries, 'backup.example.net', 22, blob(K)), { kind: 'ok', line: 1 })
  t.same(checkHostKey(entries, 'backup.example.net', 22, blob(K2)), { kind: 'mismatch', lines: [1] }, 'a changed key')
  t.same(checkHostKey(entries, 'backup.example.net', 2222, blob(K2)), { kind: 'ok', line: 2 })
  t.same(checkHostKey(entries, 'backup.example.net', 2222, blob(K)), { kind: 'mismatch', lines: [2] })
  t.same(checkHostKey(entries, 'new.example', 22, blob(K)), { kind: 'unknown', caLines: [] })
  t.same(checkHostKey(entries, 'revoked.example', 22, blob(K)), { kind: 'revoked', line: 4 }, 'revoked beats a plain entry')
  t.same(checkHostKey(entries, 'ca.example', 22, blob(K2)), { kind: 'unknown', caLines: [6] }, 'a CA line is not trust')
  t.same(knownTypes(entries, 'backup.example.net', 22), ['ssh-ed25519'])
  t.same(knownTypes(entries, 'new.example', 22), [])
})
