// Small pieces every transport shares.
import { UsageError } from '../errors.js'

/** Object names are plain names in one directory: refuse anything a server could read as a path or an option. */
export function checkName(name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0') || name.startsWith('-') || /[\r\n]/.test(name)) {
    throw new UsageError(`${JSON.stringify(name)} is not a plain object name`)
  }
  return name
}
