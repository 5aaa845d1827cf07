// Starts the test suite's vsftpd (plain FTP on 127.0.0.1) for bench/remote.sh,
// prints "PORT USER PASSWORD DIR LOCALDIR" on one line, and runs until killed.
import { startVsftpd } from '../dist/test/servers/vsftpd.js'

const server = await startVsftpd({ tls: process.argv[2] === 'tls' })
const d = server.dir('bench')
process.stdout.write(`${server.port} ${server.user} ${server.password} ${d.dir} ${d.localDir}\n`)
const stop = () => server.stop().finally(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
setInterval(() => undefined, 1 << 30)
