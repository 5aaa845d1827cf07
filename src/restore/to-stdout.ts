// --to-stdout: one file's content, written out only once the frame after it
// has verified the chain over it. The content waits in an unlinked temp file
// meanwhile, so memory stays flat whatever the file's size.
import { createReadStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { BtError, EXIT, InputError } from '../errors.js'
import { type Frame } from '../format/frame.js'
import { writeFile } from './fsops.js'
import { safeRelative } from './safe-path.js'

export async function extractOne(frames: AsyncIterable<Frame>, path: string, out: Writable,
  warn: (m: string) => void): Promise<void> {
  const dir = mkdtempSync(`${tmpdir()}/bt-restore-`)
  const spool = `${dir}/content`
  let state: 'looking' | 'spooled' | 'done' = 'looking'
  try {
    for await (const f of frames) {
      if (state === 'spooled') {
        await pipeline(createReadStream(spool), out, { end: false })
        state = 'done'
      }
      if (f.kind === 'header' && f.info.stream !== 'full') {
        throw new InputError('BT_STREAM_KIND', `--to-stdout reads files from a full stream; this is a ${JSON.stringify(f.info.stream)} stream`,
          'restore the full and the differential into a directory, then read the file there')
      }
      if (f.kind === 'incomplete' && f.path === path) warn(`${JSON.stringify(path)} was incomplete when backed up (${f.reason})`)
      if (f.kind !== 'entry' || state !== 'looking' || safeRelative(f.meta.path) !== path) continue
      if (f.meta.type !== 'file') {
        throw new BtError('BT_NOT_FILE', EXIT.FAILURE, `${JSON.stringify(path)} is a ${f.meta.type}, not a regular file`,
          f.meta.type === 'hardlink' ? [`it is a hard link: ask for ${JSON.stringify(f.meta.linkpath)}`] : [])
      }
      await writeFile(spool, f, { bytes: 0 })
      state = 'spooled'
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  if (state !== 'done') {
    throw new BtError('BT_NOT_FOUND', EXIT.FAILURE, `${JSON.stringify(path)} is not in the stream`,
      ['list the stream with bt-ls to see the paths it holds (paths are relative, without a leading "/")'])
  }
}
