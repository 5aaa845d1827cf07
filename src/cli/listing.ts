// How streams are shown to people (tar -tv style, names escaped) and to programs (JSON lines, exact).
import { type EntryMeta, type Frame, formatTime } from '../format/frame.js'
import { showName, showText } from './escape.js'

const TYPE_CHAR: Record<EntryMeta['type'], string> = {
  file: '-', hardlink: 'h', symlink: 'l', chardev: 'c', blockdev: 'b', directory: 'd', fifo: 'p',
}

export function modeString(type: EntryMeta['type'], mode: number): string {
  const rwx = (bits: number, special: boolean, ch: string) =>
    `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-'}`
  return TYPE_CHAR[type] + rwx(mode >> 6, (mode & 0o4000) !== 0, 's') + rwx(mode >> 3, (mode & 0o2000) !== 0, 's') +
    rwx(mode, (mode & 0o1000) !== 0, 't')
}

/** UTC, so that a listing does not depend on the TZ of whoever reads it. */
export function timeString(sec: number): string {
  return new Date(sec * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')
}

export function entryLine(m: EntryMeta): string {
  // A deleted record's metadata means nothing (backtory-stream(5)): only its path is shown.
  if (m.op === 'deleted') return `${'-'.repeat(10)} ${'-'.padEnd(17)} ${'-'.padStart(12)} ${'-'.padEnd(19)} ${showName(m.path)} [deleted]`
  const owner = `${m.uname || m.uid}/${m.gname || m.gid}`
  const size = m.type === 'chardev' || m.type === 'blockdev' ? `${m.devmajor},${m.devminor}` : String(m.size)
  const link = m.type === 'symlink' ? ` -> ${showName(m.linkpath ?? '')}` : m.type === 'hardlink' ? ` link to ${showName(m.linkpath ?? '')}` : ''
  const op = m.op === 'copy' ? ` [copy of ${showName(m.from ?? '')}]` : m.op === 'delta' ? ` [delta, ${m.deltaSize} bytes]` : m.op ? ` [${m.op}]` : ''
  const cap = m.capture ? ` [capture, ${m.capture.parts} part${m.capture.parts === 1 ? '' : 's'}]` : ''
  return `${modeString(m.type, m.mode)} ${owner.padEnd(17)} ${size.padStart(12)} ${timeString(m.mtime.sec)} ${showName(m.path)}${link}${op}${cap}`
}

export function frameLine(f: Frame): string {
  switch (f.kind) {
    case 'header': {
      const i = f.info
      return `# backtory stream v${i.version} ${i.stream} id ${i.id}${i.base ? ` base ${i.base}` : ''} host ${JSON.stringify(i.host)} source ${JSON.stringify(i.source)} time ${i.time} producer ${JSON.stringify(i.producer)}`
    }
    case 'entry':
      return entryLine(f.meta)
    case 'incomplete':
      return `# incomplete: ${showName(f.path)}: ${showText(f.reason)}`
    case 'trailer':
      return `# trailer: ${f.entries} entries, ${f.incomplete} incomplete, ${f.bytes} bytes, chain sha256:${f.chain}, verified`
  }
}

export function frameJson(f: Frame): string {
  switch (f.kind) {
    case 'header':
      return JSON.stringify({ frame: 'header', ...f.info })
    case 'entry': {
      const m = f.meta
      return JSON.stringify({
        frame: 'entry', path: m.path, type: m.type, mode: `0${m.mode.toString(8).padStart(3, '0')}`, uid: m.uid, gid: m.gid,
        uname: m.uname, gname: m.gname, size: m.size, mtime: formatTime(m.mtime),
        ...(m.linkpath !== undefined ? { linkpath: m.linkpath } : {}),
        ...(m.devmajor !== undefined ? { devmajor: m.devmajor, devminor: m.devminor } : {}),
        ...(m.sparse ? { sparse: m.sparse } : {}),
        ...(m.op ? { op: m.op } : {}), ...(m.from !== undefined ? { from: m.from } : {}),
        ...(m.deltaSize !== undefined ? { deltaSize: m.deltaSize } : {}),
        ...(m.sha256 ? { sha256: m.sha256 } : {}), ...(m.baseSha256 ? { baseSha256: m.baseSha256 } : {}),
        ...(m.xattrs.length ? { xattrs: m.xattrs.map(([k]) => k) } : {}),
        ...(m.capture ? { capture: { parts: m.capture.parts } } : {}),
      })
    }
    case 'incomplete':
      return JSON.stringify({ frame: 'incomplete', path: f.path, reason: f.reason })
    case 'trailer':
      return JSON.stringify({ frame: 'trailer', entries: f.entries, incomplete: f.incomplete, bytes: f.bytes, chain: f.chain })
  }
}
