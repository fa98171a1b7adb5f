import type { Server } from 'node:http'
import { createServer, request as httpRequest } from 'node:http'
import type { Socket } from 'node:net'
import { connect } from 'node:net'
import { closeServer, listenLoopback } from '../../../../test/support/loopback.js'

/** A loopback forward proxy: CONNECT tunnels and absolute-URI requests, to 127.0.0.1 only. */
export interface LoopbackProxy {
  url: string
  /** Every request it saw: `CONNECT host:port` or `METHOD absolute-uri`. */
  hits: string[]
  close(): Promise<void>
}

export async function startProxy(): Promise<LoopbackProxy> {
  const hits: string[] = []
  const sockets = new Set<Socket>()
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`)
    const target = new URL(req.url ?? '')
    if (target.hostname !== '127.0.0.1') {
      res.writeHead(403).end()
      return
    }
    const upstream = httpRequest(
      {
        host: '127.0.0.1',
        port: target.port,
        path: target.pathname,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })
  server.on('connect', (req, client: Socket, head: Buffer) => {
    hits.push(`CONNECT ${req.url}`)
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    const [host, port] = (req.url ?? '').split(':')
    // Never reach out beyond loopback: a CONNECT to a real AWS host is refused here.
    if (host !== '127.0.0.1') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n')
      return
    }
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  const { origin } = await listenLoopback(server)
  return { url: origin, hits, close: () => closeServer(server, sockets) }
}
