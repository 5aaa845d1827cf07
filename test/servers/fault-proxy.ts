// A TCP proxy in front of a plain FTP server that also carries the passive
// data connections (it rewrites the 227 PASV and 229 EPSV replies to ports of
// its own), and breaks them on demand: after N bytes in one direction it cuts
// the connection (TCP reset, as a dropped link looks) or stalls it (stops
// forwarding, keeps it open), once or every time.
//
// With { ftp: false } it is a plain TCP proxy (HTTP for s3://: every
// connection counts as "control", nothing is rewritten).
//
// Plain FTP only: under FTPS the PASV reply travels encrypted and cannot be
// rewritten. The FTPS fault paths are the same code in the transport (basic-ftp
// wraps the same sockets in TLS), so the fault tests run over ftp://.
import { createServer, connect, type Server, type Socket } from 'node:net'

export interface Fault {
  /** Which connection breaks. */
  conn: 'data' | 'control'
  /** up: client to server (upload); down: server to client (download, listings, replies). */
  dir: 'up' | 'down'
  /** Bytes forwarded in that direction before the fault strikes. */
  after: number
  action: 'cut' | 'stall'
  /** Once (then the proxy is healthy again) or on every connection. */
  times: 'once' | 'always'
  /** For a data fault: cut the control connection too, as a real outage would. */
  whole?: boolean
}

export interface FaultProxy {
  port: number
  /** Sets (or clears) the fault for connections and bytes from now on. */
  fault(f: Fault | undefined): void
  /** How many times a fault struck. */
  readonly struck: number
  stop(): Promise<void>
}

interface Pair {
  /** The fault that struck this connection: nothing more is forwarded. */
  struck?: 'cut' | 'stall'
  client: Socket
  server: Socket
  /** A data connection's control connection. */
  control?: Pair
  /** A control connection's data connections. */
  data?: Set<Pair>
}

export async function startFaultProxy(upstreamPort: number, host = '127.0.0.1', o: { ftp?: boolean } = {}): Promise<FaultProxy> {
  let fault: Fault | undefined
  let struck = 0
  const servers = new Set<Server>()
  const sockets = new Set<Socket>()
  const track = (s: Socket): Socket => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => undefined) // the peer sees the failure on its own side; the proxy only forwards
    return s
  }

  const strike = (pair: Pair, f: Fault): void => {
    if (f.action === 'cut') {
      pair.client.resetAndDestroy()
      pair.server.resetAndDestroy()
      if (f.whole && pair.control) {
        pair.control.client.resetAndDestroy()
        pair.control.server.resetAndDestroy()
      }
    } else {
      // Reads stop (the kernel buffers fill, then the sender blocks); the
      // sockets stay open until the control connection goes (see main).
      pair.client.pause()
      pair.server.pause()
    }
  }

  /**
   * Forwards `from` to `to`, counting bytes and striking when the fault says.
   * The end of a stream is passed on as an end once everything written has
   * been flushed, a reset as a reset; after a fault struck nothing more passes.
   */
  const forward = (pair: Pair, kind: 'data' | 'control', dir: 'up' | 'down', rewrite?: (chunk: Buffer) => Promise<Buffer>): void => {
    const from = dir === 'up' ? pair.client : pair.server
    const to = dir === 'up' ? pair.server : pair.client
    let count = 0
    let chain = Promise.resolve()
    from.on('data', (chunk: Buffer) => {
      if (pair.struck) return
      const f = fault
      if (f && f.conn === kind && f.dir === dir && count + chunk.length >= f.after) {
        pair.struck = f.action
        struck++
        if (f.times === 'once') fault = undefined
        const head = chunk.subarray(0, Math.max(0, f.after - count))
        count += head.length
        if (head.length > 0 && !to.destroyed) to.write(head)
        // Let the head reach the peer before the reset.
        setImmediate(() => strike(pair, f))
        return
      }
      count += chunk.length
      if (rewrite) {
        from.pause()
        chain = chain.then(() => rewrite(chunk)).then((out) => {
          if (!to.destroyed) to.write(out)
          if (!pair.struck) from.resume()
        }, (err: Error) => {
          from.destroy(err)
          to.destroy(err)
        })
        return
      }
      if (!to.write(chunk)) {
        from.pause()
        to.once('drain', () => { if (!pair.struck) from.resume() })
      }
    })
    const finish = (): void => {
      if (pair.struck === 'stall' || to.destroyed) return
      if (!to.writableEnded) void chain.then(() => to.end())
    }
    from.on('end', finish)
    from.on('close', (hadError: boolean) => {
      if (pair.struck === 'stall' || to.destroyed) return
      // A reset passes on as a reset; a plain close as an end, after the bytes still queued.
      if (hadError) to.resetAndDestroy()
      else finish()
    })
  }

  /** Opens a one-shot listener that carries one data connection to upstream `port`. */
  const dataPort = (port: number, control: Pair): Promise<number> => new Promise((resolve) => {
    const srv = createServer((client) => {
      srv.close()
      servers.delete(srv)
      track(client)
      const server = track(connect(port, host))
      const pair: Pair = { client, server, control }
      control.data!.add(pair)
      const gone = (): void => { if (client.destroyed && server.destroyed) control.data!.delete(pair) }
      client.on('close', gone)
      server.on('close', gone)
      forward(pair, 'data', 'up')
      forward(pair, 'data', 'down')
    })
    servers.add(srv)
    srv.listen(0, '127.0.0.1', () => resolve((srv.address() as { port: number }).port))
  })

  const main = createServer((client) => {
    track(client)
    const server = track(connect(upstreamPort, host))
    const pair: Pair = { client, server, data: new Set() }
    // A data connection dies with its control connection: the client gave up
    // on the session (a stalled transfer timed out), so the server's end of it
    // must go too, or vsftpd would keep the upload open (and locked) for minutes.
    const hangUp = (): void => {
      for (const d of pair.data!) {
        d.client.destroy()
        d.server.destroy()
      }
    }
    client.on('close', hangUp)
    server.on('close', hangUp)
    let partial = ''
    forward(pair, 'control', 'up')
    forward(pair, 'control', 'down', o.ftp === false ? undefined : async (chunk) => {
      // Rewrite whole lines only; hold back a partial one.
      const text = partial + chunk.toString('latin1')
      const cut = text.lastIndexOf('\n') + 1
      partial = text.slice(cut)
      const lines = text.slice(0, cut).split(/(?<=\n)/)
      const out: string[] = []
      for (const line of lines) {
        const pasv = /^227 .*?(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(line)
        const epsv = /^229 .*\(\|\|\|(\d+)\|\)/.exec(line)
        if (pasv) {
          const p = await dataPort(Number(pasv[5]) * 256 + Number(pasv[6]), pair)
          out.push(`227 Entering Passive Mode (127,0,0,1,${p >> 8},${p & 255}).\r\n`)
        } else if (epsv) {
          const p = await dataPort(Number(epsv[1]), pair)
          out.push(`229 Entering Extended Passive Mode (|||${p}|)\r\n`)
        } else {
          out.push(line)
        }
      }
      return Buffer.from(out.join(''), 'latin1')
    })
  })
  servers.add(main)
  const port = await new Promise<number>((resolve) => main.listen(0, '127.0.0.1', () => resolve((main.address() as { port: number }).port)))

  return {
    port,
    fault(f) {
      fault = f
    },
    get struck() {
      return struck
    },
    async stop() {
      for (const s of sockets) s.destroy()
      await Promise.all([...servers].map((s) => new Promise((r) => s.close(r))))
    },
  }
}
