// A tiny fake FTP server that takes any login and answers LIST and MLSD with
// the text it is given: the one case no real server can be made to produce.
// Everything else a client needs to get there (FEAT, TYPE, CWD, EPSV, PASV) it
// answers plainly; any other command gets 502.
import { createServer, type Server, type Socket } from 'node:net'

export interface GarbageFtp {
  port: number
  stop(): Promise<void>
}

export async function startGarbageFtp(listing: string): Promise<GarbageFtp> {
  const sockets = new Set<Socket>()
  const servers = new Set<Server>()
  const track = (s: Socket): void => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => undefined) // a client that hangs up is no failure of this fake
  }

  const control = createServer((sock) => {
    track(sock)
    let pending: Promise<Socket> | undefined
    let buf = ''
    const say = (line: string): void => { sock.write(`${line}\r\n`) }
    const passive = (): Promise<number> => new Promise((resolve) => {
      const data = createServer()
      servers.add(data)
      pending = new Promise((accepted) => data.once('connection', (s) => {
        track(s)
        data.close()
        servers.delete(data)
        accepted(s)
      }))
      data.listen(0, '127.0.0.1', () => resolve((data.address() as { port: number }).port))
    })
    const handle = async (line: string): Promise<void> => {
      const [cmd = ''] = line.split(' ')
      switch (cmd.toUpperCase()) {
        case 'USER': return say('331 password please')
        case 'PASS': return say('230 logged in')
        case 'TYPE': case 'STRU': case 'OPTS': return say('200 ok')
        case 'CWD': return say('250 ok')
        case 'PWD': return say('257 "/"')
        case 'QUIT': say('221 bye'); sock.end(); return
        case 'EPSV': return say(`229 Entering Extended Passive Mode (|||${await passive()}|)`)
        case 'PASV': {
          const p = await passive()
          return say(`227 Entering Passive Mode (127,0,0,1,${p >> 8},${p & 255})`)
        }
        case 'LIST': case 'MLSD': {
          if (!pending) return say('425 use PASV first')
          say('150 here it comes')
          const data = await pending
          pending = undefined
          data.end(listing, () => say('226 done'))
          return
        }
        default: return say('502 not implemented')
      }
    }
    let chain = Promise.resolve()
    sock.on('data', (b: Buffer) => {
      buf += b.toString('latin1')
      let i
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i).replace(/\r$/, '')
        buf = buf.slice(i + 1)
        chain = chain.then(() => handle(line))
      }
    })
    say('220 garbage ftp ready')
  })
  servers.add(control)
  const port = await new Promise<number>((resolve) => control.listen(0, '127.0.0.1', () => resolve((control.address() as { port: number }).port)))
  return {
    port,
    async stop() {
      for (const s of sockets) s.destroy()
      await Promise.all([...servers].map((s) => new Promise((r) => s.close(r))))
    },
  }
}
