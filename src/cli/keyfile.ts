// Reading key and passphrase files for bt-seal, bt-open and bt-keygen.
import { readFileSync } from 'node:fs'
import { IoError, UsageError, isErrno } from '../errors.js'
import { type PrivateKey, type PublicKey, parsePrivateKey, parsePublicKey } from '../crypto/keys.js'

function read(what: string, path: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    if (isErrno(err, 'EISDIR')) {
      throw new UsageError(`${what} ${JSON.stringify(path)} is a directory`, `name the ${what} itself${what.endsWith('key') ? ' (bt-keygen --out DIR/NAME writes NAME.key and NAME.pub)' : ''}`)
    }
    throw new IoError(`cannot read ${what} ${JSON.stringify(path)}`, err as NodeJS.ErrnoException)
  }
}

/** The first line of `path`, without its line end; an empty passphrase is refused. */
export function readPassphrase(path: string, option: string): Buffer {
  const text = read('passphrase file', path)
  let end = text.indexOf(10)
  if (end === -1) end = text.length
  if (end > 0 && text[end - 1] === 13) end--
  if (end === 0) throw new UsageError(`the passphrase in ${JSON.stringify(path)} (${option}) is empty`, 'write the passphrase on the first line of the file')
  return text.subarray(0, end)
}

export function loadPublic(path: string): PublicKey {
  return parsePublicKey(path, read('public key', path))
}

export function loadPrivate(path: string, passphraseFile: string | undefined): PrivateKey {
  return parsePrivateKey(path, read('private key', path), passphraseFile === undefined ? undefined : readPassphrase(passphraseFile, '--key-passphrase-file'))
}
