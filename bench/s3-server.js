// Starts the test suite's throwaway Ceph radosgw (test/servers/radosgw.ts) for
// bench/remote.sh, prints "ENDPOINT ACCESS_KEY SECRET_KEY" on one line, and runs
// until killed. OBJECTSTORE=bluestore keeps the data in a sparse file instead of RAM.
import { startRadosgw } from '../dist/test/servers/radosgw.js'

const server = await startRadosgw({ objectstore: process.env.OBJECTSTORE === 'bluestore' ? 'bluestore' : 'memstore' })
process.stdout.write(`${server.endpoint} ${server.accessKey} ${server.secretKey}\n`)
const stop = () => server.stop().finally(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
setInterval(() => undefined, 1 << 30)
