// --raw-record / --raw-replay: what a recording holds (a readable directory),
// and that replay answers exactly what was recorded, or refuses.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { recordingRunner, replayRunner, systemRunner } from '../../src/recover/capture/index.js'
import { commandLine, slug } from '../../src/recover/capture/runner.js'

t.test('slugs: readable, stable, distinct when cut', async (t) => {
  t.equal(slug(commandLine(['sfdisk', '--dump', '/dev/vda'])), 'sfdisk--dump--dev-vda')
  t.equal(slug(commandLine(['zfs', 'get', '-H', '-p', '-s', 'local', 'all', '-r', 'tank'])), 'zfs-get--H--p--s-local-all--r-tank')
  const a = slug(`btrfs subvolume list /${'x'.repeat(100)}/a`)
  const b = slug(`btrfs subvolume list /${'x'.repeat(100)}/b`)
  t.ok(a.length <= 80 && b.length <= 80)
  t.not(a, b)
  t.equal(commandLine(['sh', '-c', "echo 'x'"]), `sh -c 'echo '\\''x'\\'''`)
})

t.test('record, then replay the same answers', async (t) => {
  const dir = t.testdir({ 'file.txt': 'text\n', 'sector.bin': Buffer.from([0, 0xff, 0x47, 0x52, 0x55, 0x42, 0x80]) })
  const rec = recordingRunner(systemRunner(), `${dir}/rec`)
  const argvs = [['echo', 'hello world'], ['sh', '-c', 'echo out; echo err >&2; exit 3'], ['bt-no-such-tool-here', '-x']]
  const live = []
  for (const a of argvs) live.push(await rec.run(a))
  t.same(live[0], { code: 0, stdout: 'hello world\n', stderr: '' })
  t.same(live[1], { code: 3, stdout: 'out\n', stderr: 'err\n' })
  t.equal(live[2]!.code, 127, 'a missing command is exit 127')
  const reads = [await rec.read(`${dir}/file.txt`), await rec.read(`${dir}/sector.bin`, 4), await rec.read(`${dir}/absent`), await rec.read(dir, 0)]
  t.same(reads, [Buffer.from('text\n'), Buffer.from([0, 0xff, 0x47, 0x52]), null, Buffer.alloc(0)])
  const index = readFileSync(`${dir}/rec/commands.txt`, 'utf8')
  t.match(index, /^0\techo--hello-world\techo 'hello world'$/m)
  t.match(index, /^3\tsh--c--echo-out--echo-err--2--exit-3\tsh -c 'echo out; echo err >&2; exit 3'$/m)
  t.match(index, /^127\tbt-no-such-tool-here--x\t/m)
  t.match(index, /^1\tread-[^\t]+\tread \S+\/absent$/m)
  t.equal(readFileSync(`${dir}/rec/sh--c--echo-out--echo-err--2--exit-3.err`, 'utf8'), 'err\n')

  const rep = replayRunner(`${dir}/rec`)
  for (const [i, a] of argvs.entries()) t.same(await rep.run(a), live[i], `replayed: ${a.join(' ')}`)
  t.same([await rep.read(`${dir}/file.txt`), await rep.read(`${dir}/sector.bin`, 4), await rep.read(`${dir}/absent`), await rep.read(dir, 0)], reads)
  await t.rejects(rep.run(['echo', 'never recorded']), { code: 'BT_CAPTURE', message: /holds no answer to "echo 'never recorded'"/, hints: [/record it again/] })
  await t.rejects(rep.read(`${dir}/file.txt`, 10), { code: 'BT_CAPTURE' }, 'another byte count is another question')
})

t.test('a recording that is not one', async (t) => {
  const dir = t.testdir({})
  t.throws(() => replayRunner(`${dir}/nothing`), { code: 'BT_IO_ENOENT', message: /cannot replay/ })
  writeFileSync(`${dir}/commands.txt`, '0\tgone\tuname -s\n')
  await t.rejects(replayRunner(dir).run(['uname', '-s']), { code: 'BT_IO_ENOENT' }, 'an output file missing from the recording')
})
