// The conformance suite on file://, plus what only a local disk shows.
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileTransport } from '../../src/transport/file.js'
import { conformance } from './conformance.js'

await conformance(t, async () => new FileTransport(join(mkdtempSync(join(tmpdir(), 'bt-file-')), 'store', 'sub')))
