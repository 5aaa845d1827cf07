// Every fact the capture learns comes through a Runner: a command's output or
// a file's bytes. That one seam is what makes a capture replayable: recorded on
// a machine with md RAID, LVM and LUKS (the qemu drill), replayed here, the
// same parsers give the same Layout. Commands run with argument arrays, never
// through a shell, under `env LC_ALL=C` so that the tools speak English and a
// missing tool is exit 127 whichever way it is run.
import { spawn } from 'node:child_process'
import { open, stat } from 'node:fs/promises'
import { isErrno } from '../../errors.js'

export interface CommandResult {
  /** The exit status; 127 when the command is not installed. */
  code: number
  stdout: string
  stderr: string
}

export interface Runner {
  run(argv: readonly string[]): Promise<CommandResult>
  /** Up to `max` bytes of a file (all of it when undefined); empty for a directory; null when absent or unreadable. */
  read(path: string, max?: number): Promise<Buffer | null>
}

/** Output is bounded: a runaway tool must not take the capture's memory. */
const MAX_OUTPUT = 16 << 20

export function systemRunner(): Runner {
  return {
    run: (argv) => new Promise((resolve) => {
      const child = spawn('env', ['LC_ALL=C', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
      const out: Buffer[] = []
      const err: Buffer[] = []
      let size = 0
      const take = (into: Buffer[]) => (b: Buffer) => {
        size += b.length
        if (size <= MAX_OUTPUT) into.push(b)
        else child.kill()
      }
      child.stdout.on('data', take(out))
      child.stderr.on('data', take(err))
      // `env` itself missing is the only way to get here: report it as the command missing.
      child.on('error', (e) => resolve({ code: 127, stdout: '', stderr: `${argv[0]}: ${e.message}` }))
      child.on('close', (code, signal) => resolve({
        code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString() + (size > MAX_OUTPUT ? '\noutput exceeds 16 MiB' : ''),
      }))
    }),
    read: async (path, max) => {
      try {
        if ((await stat(path)).isDirectory()) return Buffer.alloc(0)
        const fh = await open(path, 'r')
        try {
          const limit = Math.min(max ?? MAX_OUTPUT, MAX_OUTPUT)
          const buf = Buffer.alloc(limit)
          let got = 0
          for (let n = -1; n !== 0 && got < limit; got += n) n = (await fh.read(buf, got, limit - got, got)).bytesRead
          return buf.subarray(0, got)
        } finally {
          await fh.close()
        }
      } catch (err) {
        // Absent or unreadable (a device the kernel will not let us open) is the same answer: not known.
        if (isErrno(err, 'ENOENT', 'ENOTDIR', 'EACCES', 'EPERM', 'EIO', 'ENXIO')) return null
        throw err
      }
    },
  }
}

/** The command line as one string: the key under which a recording files it. */
export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')
}

/** The key of a file read: "read PATH" (and its byte limit). */
export function readLine(path: string, max?: number): string {
  return max === undefined ? `read ${commandLine([path])}` : `read ${commandLine([path])} ${max}`
}

/**
 * A file name for a command line that a person can recognise:
 * `sfdisk --dump /dev/vda` is `sfdisk--dump--dev-vda`. Long lines are cut and
 * given a short checksum so that two never share a name.
 */
export function slug(line: string): string {
  const s = line.replace(/[^A-Za-z0-9._=,@+-]/g, '-').replace(/-{3,}/g, '--').replace(/^-+|-+$/g, '')
  if (s.length <= 80) return s
  let h = 0
  for (let i = 0; i < line.length; i++) h = (Math.imul(h, 31) + line.charCodeAt(i)) >>> 0
  return `${s.slice(0, 71)}-${h.toString(16).padStart(8, '0')}`
}
