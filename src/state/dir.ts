// A state directory named on the command line must exist (bt-delta --full and
// the rebuilds excepted, which make it). A mistyped --state would otherwise
// be a fresh, empty state: bt-scan would scan everything and bt-delta --auto
// would make a full, every night, with nothing failing. An existing empty
// directory is a first run.
import { statSync } from 'node:fs'
import { BtError, EXIT, isErrno } from '../errors.js'
import { stateIoError } from './errors.js'

export function requireStateDir(dir: string): void {
  let isDir: boolean
  try {
    isDir = statSync(dir).isDirectory()
  } catch (err) {
    if (!isErrno(err, 'ENOENT', 'ENOTDIR')) throw stateIoError('read', dir, dir, err)
    throw new BtError('BT_NO_STATE_DIR', EXIT.USAGE, `no state directory ${JSON.stringify(dir)}; create it with mkdir, or make the first full with --full`,
      [`a first run: mkdir -p ${dir} (an empty state directory makes the first run a full), or bt-delta --full --state ${dir}, which creates it`,
        'if the path is mistyped, give the state directory of earlier runs: a new one makes a full'])
  }
  if (!isDir) throw new BtError('BT_NO_STATE_DIR', EXIT.USAGE, `the state directory ${JSON.stringify(dir)} is not a directory`, ['give the state directory of earlier runs with --state'])
}
