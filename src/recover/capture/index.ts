// The capture of a machine's layout. This build has none: bt-mkrecover
// renders from a saved layout (--layout FILE) instead.
import { BtError, EXIT } from '../../errors.js'
import { type BackupSource, type Layout } from '../layout.js'

export interface CaptureOptions {
  root: string
  disks: string[] | null
  backup: BackupSource
  raw?: { record?: string; replay?: string }
  warn: (msg: string) => void
}

export async function captureLayout(_o: CaptureOptions): Promise<Layout> {
  throw new BtError('BT_CAPTURE', EXIT.FAILURE, 'capture is not built into this version', ['render from a saved layout with --layout FILE'])
}
