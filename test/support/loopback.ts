// Test support, shared by every package's tests and the end-to-end and hardening suites (import it
// by relative path; it is not a package): the plumbing of loopback test servers. Tests talk only to
// 127.0.0.1 / [::1] on an ephemeral port, and close every server in afterEach.
import type { IncomingMessage } from 'node:http'
import type { AddressInfo, Server, Socket } from 'node:net'

/**
 * Listens on an ephemeral port of `host` (rejecting when it cannot, e.g. no IPv6 loopback) and
 * returns the port and the `http://` origin, `[::1]` bracketed.
 */
export function listenLoopback(
  server: Server,
  host = '127.0.0.1',
): Promise<{ port: number; origin: string }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => {
      server.off('error', reject)
      const { port } = server.address() as AddressInfo
      resolve({ port, origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}` })
    })
  })
}

/**
 * Closes a server without waiting for idle keep-alive connections: destroys `sockets` (those a raw
 * TCP server or a proxy tracked), ends an HTTP server's connections, and resolves once closed.
 */
export function closeServer(server: Server, sockets: Iterable<Socket> = []): Promise<void> {
  for (const socket of sockets) socket.destroy()
  return new Promise((resolve) => {
    server.close(() => resolve())
    if ('closeAllConnections' in server && typeof server.closeAllConnections === 'function') {
      server.closeAllConnections()
    }
  })
}

/**
 * Reads a request body to its end, as UTF-8. For a request the client aborts it never settles, so
 * the server answers nothing (as the servers it replaced did).
 */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })
}
