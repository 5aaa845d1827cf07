// The errors of --to-stdout, for a full and a differential alike.
import { BtError, EXIT } from '../errors.js'
import { type EntryType } from '../format/frame.js'

export function notFile(path: string, type: EntryType, linkpath?: string): BtError {
  return new BtError('BT_NOT_FILE', EXIT.FAILURE, `${JSON.stringify(path)} is a ${type}, not a regular file`,
    type === 'hardlink' ? [`it is a hard link: ask for ${JSON.stringify(linkpath)}`] : [])
}

export function notFound(path: string, where: string): BtError {
  return new BtError('BT_NOT_FOUND', EXIT.FAILURE, `${JSON.stringify(path)} is ${where}`,
    ['list the stream with bt-ls to see the paths it holds (paths are relative, without a leading "/")'])
}
