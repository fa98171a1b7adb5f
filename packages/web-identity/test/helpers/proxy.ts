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
  /** The `Proxy-Authorization` header of each request, decoded from Basic (`''` when absent). */
  auth: string[]
  /** TCP connections clients opened to the proxy. */
  connections(): number
  close(): Promise<void>
}

export interface ProxyOptions {
  /** Answer 407 unless `Proxy-Authorization: Basic` carries this `user:password`. */
  requireAuth?: string
  /** Answer every CONNECT with 403, as a proxy whose policy forbids the host. */
  refuseConnect?: boolean
}

export async function startProxy(proxyOptions: ProxyOptions = {}): Promise<LoopbackProxy> {
  const hits: string[] = []
  const auth: string[] = []
  let connections = 0
  const sockets = new Set<Socket>()
  const authorized = (header: string | undefined): boolean => {
    const decoded = header?.startsWith('Basic ')
      ? Buffer.from(header.slice(6), 'base64').toString('utf8')
      : ''
    auth.push(decoded)
    return proxyOptions.requireAuth === undefined || decoded === proxyOptions.requireAuth
  }
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`)
    if (!authorized(req.headers['proxy-authorization'])) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end()
      return
    }
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
  server.on('connection', () => connections++)
  server.on('connect', (req, client: Socket, head: Buffer) => {
    hits.push(`CONNECT ${req.url}`)
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    if (!authorized(req.headers['proxy-authorization'])) {
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n',
      )
      return
    }
    if (proxyOptions.refuseConnect === true) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n')
      return
    }
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
  return {
    url: origin,
    hits,
    auth,
    connections: () => connections,
    close: () => closeServer(server, sockets),
  }
}
