// --raw-record DIR and --raw-replay DIR. A recording is a directory a person
// can read: one SLUG.out per command (its stdout, or the bytes of a file read),
// SLUG.err when it wrote to stderr, and commands.txt with one line per entry,
// "EXIT<TAB>SLUG<TAB>COMMAND LINE", in the order they ran. Replay looks each
// command line up in commands.txt, so it needs the same capture code, not the
// same machine.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { BtError, EXIT, IoError, isErrno } from '../../errors.js'
import { commandLine, readLine, type Runner, slug } from './runner.js'

const INDEX = 'commands.txt'
const HEADER = '# backtory capture: exit status, output file (.out, .err), command line; "read PATH" is a file read\n'

/** Wraps `inner`, saving every answer under `dir` (made if needed, an earlier recording replaced). */
export function recordingRunner(inner: Runner, dir: string): Runner {
  try {
    mkdirSync(dir, { recursive: true })
    writeFileSync(`${dir}/${INDEX}`, HEADER)
  } catch (err) {
    throw new IoError(`cannot record into ${JSON.stringify(dir)}`, err as NodeJS.ErrnoException)
  }
  const names = new Map<string, string>()
  const save = (line: string, code: number, out: Buffer | string, err: string) => {
    if (names.has(line)) return
    let name = slug(line)
    for (let i = 2; [...names.values()].includes(name); i++) name = `${slug(line)}-${i}`
    names.set(line, name)
    try {
      writeFileSync(`${dir}/${name}.out`, out)
      if (err) writeFileSync(`${dir}/${name}.err`, err)
      appendFileSync(`${dir}/${INDEX}`, `${code}\t${name}\t${line}\n`)
    } catch (e) {
      throw new IoError(`cannot record into ${JSON.stringify(dir)}`, e as NodeJS.ErrnoException)
    }
  }
  return {
    run: async (argv) => {
      const r = await inner.run(argv)
      save(commandLine(argv), r.code, r.stdout, r.stderr)
      return r
    },
    read: async (path, max) => {
      const b = await inner.read(path, max)
      save(readLine(path, max), b === null ? 1 : 0, b ?? '', b === null ? 'absent\n' : '')
      return b
    },
  }
}

/** Answers from a recording made by recordingRunner; a command it does not hold is an error, never a guess. */
export function replayRunner(dir: string): Runner {
  let text: string
  try {
    text = readFileSync(`${dir}/${INDEX}`, 'utf8')
  } catch (err) {
    throw new IoError(`cannot replay ${JSON.stringify(dir)}`, err as NodeJS.ErrnoException, 'give the directory a --raw-record run wrote')
  }
  const index = new Map<string, { code: number; name: string }>()
  for (const l of text.split('\n')) {
    const m = /^(\d+)\t([^\t]+)\t(.+)$/.exec(l)
    if (m) index.set(m[3]!, { code: Number(m[1]), name: m[2]! })
  }
  const load = (line: string, ext: 'out' | 'err'): Buffer => {
    const e = index.get(line)
    if (!e) {
      throw new BtError('BT_CAPTURE', EXIT.FAILURE, `the recording ${JSON.stringify(dir)} holds no answer to "${line}"`,
        ['it was recorded by another version of backtory or on another kind of machine: record it again with --raw-record'])
    }
    try {
      return readFileSync(`${dir}/${e.name}.${ext}`)
    } catch (err) {
      if (ext === 'err' && isErrno(err, 'ENOENT')) return Buffer.alloc(0)
      throw new IoError(`cannot replay ${JSON.stringify(dir)}`, err as NodeJS.ErrnoException)
    }
  }
  return {
    run: async (argv) => {
      const line = commandLine(argv)
      const stdout = load(line, 'out').toString()
      return { code: index.get(line)!.code, stdout, stderr: load(line, 'err').toString() }
    },
    read: async (path, max) => {
      const line = readLine(path, max)
      const out = load(line, 'out')
      return index.get(line)!.code === 0 ? out : null
    },
  }
}
