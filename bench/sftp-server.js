// Starts the test suite's sshd on 127.0.0.1 for bench/remote.sh, writes the
// client key to IDENTITY (argv[2]), prints "PORT USER KNOWN_HOSTS DIR LOCALDIR"
// on one line, and runs until killed.
import { writeFileSync } from 'node:fs'
import { startSshd } from '../dist/test/servers/sshd.js'

const server = await startSshd()
writeFileSync(process.argv[2], server.identity, { mode: 0o600 })
const d = server.dir('bench')
process.stdout.write(`${server.port} ${server.user} ${server.knownHostsFile} ${d.dir} ${d.localDir}\n`)
const stop = () => server.stop().finally(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
setInterval(() => undefined, 1 << 30)
