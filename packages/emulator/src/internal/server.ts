import type { IncomingMessage, Server } from 'node:http'

// Not an ESM import of node:http: on Node >= 22 that builds the module namespace, which loads
// undici and tls through http's lazy WebSocket getter (issue 20).
const http = (): typeof import('node:http') => process.getBuiltinModule('node:http')

import type { AddressInfo } from 'node:net'
import type { TimerHandle } from '@podcreds/core'
import { isS3Request } from './aws.js'
import { codeForStatus, s3Error, stsError } from './awsErrors.js'
import type { Context, Exchange } from './context.js'
import { send } from './context.js'
import type { Target } from './faultState.js'
import { hit, isDown } from './faultState.js'

const MAX_BODY_BYTES = 1024 * 1024

export type Handler = (exchange: Exchange, skewMs: number) => Promise<void> | void

/** The servers' shared bookkeeping: pending latency timers, so `close()` can clear them. */
export interface Lifecycle {
  pending: Set<TimerHandle>
  closed: boolean
}

/** How {@link listenLoopback} answers what its handler does not. */
export interface LoopbackOptions {
  /** Idle keep-alive time, in ms: idle sockets must not hold a test process open for long. */
  keepAliveTimeoutMs: number
  /** The largest request body read, in bytes. */
  maxBodyBytes: number
  /** Answers a request whose body is over `maxBodyBytes`. */
  tooLarge(res: Exchange['res']): void
  /** Answers a request whose handler threw. */
  failed(res: Exchange['res']): void
}

const PLAIN_TEXT: LoopbackOptions = {
  keepAliveTimeoutMs: 5_000,
  maxBodyBytes: MAX_BODY_BYTES,
  tooLarge: (res) => send(res, 413, 'text/plain', 'Payload Too Large'),
  failed: (res) => send(res, 500, 'text/plain', 'Internal Server Error'),
}

/**
 * An HTTP server on 127.0.0.1, port 0, that reads each request's body (capped) and hands the
 * exchange to `handler`. Resolves to the server and its base URL (no trailing slash).
 */
export async function listenLoopback(
  handler: (exchange: Exchange) => Promise<void> | void,
  options: LoopbackOptions = PLAIN_TEXT,
): Promise<{ server: Server; url: string }> {
  const server = http().createServer((req, res) => {
    void exchangeOf(req, res, options.maxBodyBytes)
      .then((exchange) => {
        if (exchange !== undefined) return handler(exchange)
        // Answer, then drop the connection rather than read the rest of an oversized body.
        res.shouldKeepAlive = false
        res.once('finish', () => req.destroy())
        options.tooLarge(res)
      })
      .catch(() => {
        // A handler bug must not crash the process hosting the emulator; answer 500.
        options.failed(res)
      })
  })
  server.keepAliveTimeout = options.keepAliveTimeoutMs
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  return { server, url: `http://127.0.0.1:${port}` }
}

/** Listens on 127.0.0.1, port 0, with `target`'s fault injection in front of `handler`. */
export async function listen(
  context: Context,
  lifecycle: Lifecycle,
  target: Target | undefined,
  handler: Handler,
): Promise<{ server: Server; url: string }> {
  return listenLoopback((exchange) => serve(context, lifecycle, target, handler, exchange))
}

/** The request with its body read; `undefined` when the body is over the cap. */
async function exchangeOf(
  req: IncomingMessage,
  res: Exchange['res'],
  maxBodyBytes: number,
): Promise<Exchange | undefined> {
  let body: Buffer
  try {
    body = await readBody(req, maxBodyBytes)
  } catch {
    return undefined
  }
  return { req, res, body, url: new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`) }
}

async function serve(
  context: Context,
  lifecycle: Lifecycle,
  target: Target | undefined,
  handler: Handler,
  exchange: Exchange,
): Promise<void> {
  const { req } = exchange
  if (target === undefined) return handler(exchange, 0)
  context.counters[target] += 1
  const spec = context.faults.get(target)
  if (isDown(spec, context.clock.now())) {
    // An outage: the connection drops without an answer, as a dead agent or a network partition.
    req.socket.destroy()
    return
  }
  if (spec.latencyMs !== undefined && spec.latencyMs > 0) {
    await new Promise<void>((resolve) => {
      const handle = context.clock.setTimeout(() => {
        lifecycle.pending.delete(handle)
        resolve()
      }, spec.latencyMs!)
      lifecycle.pending.add(handle)
    })
    if (lifecycle.closed) return
  }
  if (hit(spec.throttle, context.random)) return throttled(context, target, exchange)
  if (spec.status !== undefined && hit(spec.rate ?? 1, context.random)) {
    return injected(context, target, exchange, spec.status, spec.code)
  }
  return handler(exchange, spec.skewMs ?? 0)
}

function throttled(context: Context, target: Target, exchange: Exchange): void {
  if (target === 'agent') {
    send(exchange.res, 429, 'text/plain; charset=utf-8', 'ThrottlingException: Rate exceeded')
  } else if (target === 'imds') {
    // IMDS throttles per instance with 429 (EC2 docs "Query throttling").
    send(exchange.res, 429, 'text/plain', 'Too Many Requests')
  } else if (target === 'aws' && isS3Request(exchange)) {
    s3Error(context.xml, exchange.res, 503, 'SlowDown', 'Please reduce your request rate.')
  } else {
    stsError(context.xml, exchange.res, 400, 'Throttling', 'Rate exceeded')
  }
}

function injected(context: Context, target: Target, exchange: Exchange, status: number, code?: string): void {
  const plain = target === 'agent' || target === 'imds'
  const name = code ?? (plain ? (http().STATUS_CODES[status] ?? 'Error') : codeForStatus(status))
  const message = `${name}: injected by the podcreds emulator`
  if (plain) send(exchange.res, status, 'text/plain; charset=utf-8', message)
  else if (target === 'aws' && isS3Request(exchange))
    s3Error(context.xml, exchange.res, status, name, message)
  else stsError(context.xml, exchange.res, status, name, message)
}

function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > maxBodyBytes) {
        // Not destroyed here: the caller answers 413 first, then closes the connection.
        req.off('data', onData)
        reject(new Error('body too large'))
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}
