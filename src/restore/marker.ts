// The marker a restore leaves in its target: which full it holds, and which
// differential (if any) was applied on top. A differential is applied only to
// the exact full it was made against, and only once.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { InputError, isErrno } from '../errors.js'

export const MARKER = '.backtory-restore.json'

export interface Marker {
  full: string
  diff: string | null
}

export function readMarker(target: string): Marker | undefined {
  let text: string
  try {
    text = readFileSync(`${target}/${MARKER}`, 'utf8')
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined
    throw err
  }
  try {
    const m = JSON.parse(text) as Marker
    if (typeof m.full === 'string' && (m.diff === null || typeof m.diff === 'string')) return m
  } catch {
    // fall through to the error below: a damaged marker proves nothing about the tree
  }
  throw new InputError('BT_MARKER', `the marker ${JSON.stringify(`${target}/${MARKER}`)} is damaged`,
    'restore the full again into an empty directory')
}

export function removeMarker(target: string): void {
  rmSync(`${target}/${MARKER}`, { force: true })
}

export function writeMarker(target: string, m: Marker): void {
  const tmp = `${target}/${MARKER}.tmp`
  writeFileSync(tmp, `${JSON.stringify(m)}\n`, { mode: 0o644 })
  renameSync(tmp, `${target}/${MARKER}`)
}
