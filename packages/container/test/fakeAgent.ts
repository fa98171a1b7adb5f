import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import type { Clock, TimerHandle } from '@podcreds/core'
import { systemClock } from '@podcreds/core'
import { closeServer, listenLoopback } from '../../../test/support/loopback.js'

/** One request the fake agent received. */
export interface Hit {
  method: string
  path: string
  headers: IncomingHttpHeaders
  /** Which TCP connection carried it (1, 2, …). */
  connection: number
}

/** What the fake answers: a status and body, or a misbehaviour. */
export type Answer = { status: number; body?: string; headers?: Record<string, string> } | 'reset' | 'hang'

export type Responder = (hit: Hit, index: number) => Answer

export interface FakeAgent {
  /** `http://127.0.0.1:<port>` */
  origin: string
  /** `origin` + `/v1/credentials` */
  url: string
  hits: Hit[]
  /** TCP connections accepted so far. */
  connections(): number
  respond(responder: Responder): void
  close(): Promise<void>
}

export const FUTURE = '2099-01-01T00:00:00Z'

export function credentialsBody(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    AccessKeyId: 'ASIAFAKEKEYID0000001',
    SecretAccessKey: 'fake-secret-access-key',
    Token: 'fake-session-token',
    Expiration: FUTURE,
    ...overrides,
  })
}

export const ok =
  (overrides: Record<string, unknown> = {}): Responder =>
  () => ({ status: 200, body: credentialsBody(overrides), headers: { 'content-type': 'application/json' } })

/** A loopback stand-in for the EKS Pod Identity agent that records every request. */
export async function startAgent(
  responder: Responder = ok(),
  options: { keepAliveTimeoutMs?: number } = {},
): Promise<FakeAgent> {
  let current = responder
  const hits: Hit[] = []
  const sockets = new Map<Socket, number>()
  const hanging: ServerResponse[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const hit: Hit = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      connection: sockets.get(req.socket) ?? 0,
    }
    hits.push(hit)
    const answer = current(hit, hits.length - 1)
    req.resume()
    if (answer === 'reset') {
      req.socket.destroy()
      return
    }
    if (answer === 'hang') {
      hanging.push(res)
      return
    }
    res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers })
    res.end(answer.body ?? '')
  })
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs
  server.on('connection', (socket: Socket) => {
    sockets.set(socket, sockets.size + 1)
  })
  const { origin } = await listenLoopback(server)
  return {
    origin,
    url: `${origin}/v1/credentials`,
    hits,
    connections: () => sockets.size,
    respond(next) {
      current = next
    },
    async close() {
      for (const res of hanging) res.destroy()
      await closeServer(server)
    },
  }
}

/**
 * The system clock, except that timers someone awaits (retry back-off: `keepAlive`) fire at once,
 * their delays are recorded, and `now()` moves on by them (virtual time, so a retry window of
 * seconds passes without waiting). Request timeouts stay real.
 */
export function instantSleepClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = []
  let slept = 0
  return {
    sleeps,
    now: () => systemClock.now() + slept,
    setTimeout(fn, ms, options): TimerHandle {
      if (options?.keepAlive === true) {
        sleeps.push(ms)
        slept += ms
        return systemClock.setTimeout(fn, 0, options)
      }
      return systemClock.setTimeout(fn, ms, options)
    },
    clearTimeout: (handle) => systemClock.clearTimeout(handle),
  }
}
