import type { ClientRequest, Agent as HttpAgent, IncomingMessage, RequestOptions } from 'node:http'
import { request as httpClientRequest, Agent as NodeHttpAgent } from 'node:http'
import type { Clock, Milliseconds } from './Clock.js'
import { systemClock } from './Clock.js'
import { CredentialsError } from './CredentialsError.js'

/** One HTTP request. The URL's user info is never sent nor printed. */
export interface HttpRequest {
  /** Absolute `http:` or `https:` URL. */
  url: URL
  /**
   * The HTTP method (`PUT` for the IMDSv2 session token).
   * @defaultValue `'GET'`
   */
  method?: 'GET' | 'POST' | 'PUT'
  /** Extra headers. `host` and `content-length` are set for you. */
  headers?: Readonly<Record<string, string>>
  /** Request body, sent as UTF-8. */
  body?: string
}

/** A complete HTTP response, of any status (3xx is returned as is, never followed). */
export interface HttpResponse {
  /** The HTTP status code, e.g. `200`, `302` or `503`. */
  status: number
  /** Response headers, names lower-cased (as `node:http` gives them). */
  headers: Readonly<Record<string, string | string[] | undefined>>
  /** The body decoded as UTF-8 (invalid UTF-8 is rejected). */
  body: string
}

/** Limits and seams of one request. */
export interface HttpRequestOptions {
  /** Whole request, from start to the last body byte. @defaultValue 2000 */
  timeoutMs?: Milliseconds
  /** Until the TCP (or TLS) connection is up. @defaultValue 1000 */
  connectTimeoutMs?: Milliseconds
  /** Largest accepted response body. @defaultValue 65536 */
  maxBodyBytes?: number
  /** Aborts the request with `ERR_ABORTED`. */
  signal?: AbortSignal
  /** Owns the timeout timers. @defaultValue {@link systemClock} */
  clock?: Clock
}

/** The HTTP seam: {@link httpRequest} by default, a fake or an undici-backed one in its place. */
export type HttpTransport = (request: HttpRequest, options?: HttpRequestOptions) => Promise<HttpResponse>

/** Default of {@link HttpRequestOptions.timeoutMs}: 2000 ms for the whole request. */
export const DEFAULT_TIMEOUT_MS = 2000
/** Default of {@link HttpRequestOptions.connectTimeoutMs}: 1000 ms to connect. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 1000
/** Default of {@link HttpRequestOptions.maxBodyBytes}: 64 KiB. */
export const DEFAULT_MAX_BODY_BYTES = 65_536

// Idle keep-alive sockets are closed after this long: shorter than the 5 s idle timeout of
// Node and Go servers (the Pod Identity agent is Go), so we close first and never write to a
// socket the server is closing.
const IDLE_SOCKET_MS = 4000

let httpAgent: HttpAgent | undefined
let httpsAgent: HttpAgent | undefined
let httpsModule: Promise<typeof import('node:https')> | undefined

async function transportFor(url: URL): Promise<{ request: typeof httpClientRequest; agent: HttpAgent }> {
  if (url.protocol === 'http:') {
    // Created on first use: import-time work is zero. Node unrefs idle keep-alive sockets, so they
    // never hold the process open.
    httpAgent ??= new NodeHttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS, maxSockets: 16 })
    return { request: httpClientRequest, agent: httpAgent }
  }
  // node:https costs ~10 ms to load; only an https: endpoint pays it (DESIGN "Cold-start budget").
  httpsModule ??= import('node:https')
  const https = await httpsModule
  httpsAgent ??= new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS, maxSockets: 16 })
  return { request: https.request, agent: httpsAgent }
}

/**
 * Where a request went, for messages: origin and path, never user info or query.
 *
 * @example
 * ```ts
 * describeUrl(new URL('http://u:p@127.0.0.1/v1?x=1')) // 'http://127.0.0.1/v1'
 * ```
 */
export function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`
}

/**
 * Sends one request over `node:http`/`node:https` with a keep-alive agent, connect and total
 * timeouts, an abort signal and a response size cap. It never follows redirects and never
 * retries (see {@link retry}). Failures are {@link CredentialsError}s: `ERR_HTTP_TIMEOUT`,
 * `ERR_NETWORK` (both retryable), `ERR_RESPONSE_INVALID` (body too large, cut short, not UTF-8),
 * `ERR_ABORTED`. Any status is returned; judging it is the caller's job.
 *
 * @example
 * ```ts
 * const res = await httpRequest({ url: new URL('http://127.0.0.1:8080/v1/credentials') }, { timeoutMs: 2000 })
 * ```
 */
export async function httpRequest(
  request: HttpRequest,
  options: HttpRequestOptions = {},
): Promise<HttpResponse> {
  const { url } = request
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CredentialsError(`unsupported protocol ${url.protocol} in ${describeUrl(url)}`, {
      code: 'ERR_INVALID_CONFIG',
    })
  }
  const clock = options.clock ?? systemClock
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const where = describeUrl(url)
  const signal = options.signal
  if (signal?.aborted) throw abortedError(where, signal)
  const { request: send, agent } = await transportFor(url)
  // The signal may have fired while node:https was loading; its 'abort' event is gone by now.
  if (signal?.aborted) throw abortedError(where, signal)

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false
    const timers: unknown[] = []
    const headers: Record<string, string> = { ...request.headers }
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body))
    const requestOptions: RequestOptions = {
      protocol: url.protocol,
      hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: request.method ?? 'GET',
      headers,
      agent,
    }
    let req: ClientRequest

    const finish = (error: CredentialsError | undefined, response?: HttpResponse): void => {
      if (settled) return
      settled = true
      for (const timer of timers) clock.clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (error !== undefined) {
        req.destroy()
        reject(error)
      } else resolve(response as HttpResponse)
    }
    const onAbort = (): void => finish(abortedError(where, signal))

    req = send(requestOptions, (res: IncomingMessage) => {
      const declared = Number(res.headers['content-length'])
      // finish() before destroy(): destroying emits 'aborted'/'close' synchronously, which would
      // otherwise settle first as a retryable "cut short" instead of "too large".
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        finish(tooLarge(where, maxBodyBytes, res.statusCode))
        res.destroy()
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (chunk: Buffer) => {
        size += chunk.length
        if (size > maxBodyBytes) {
          finish(tooLarge(where, maxBodyBytes, res.statusCode))
          res.destroy()
          return
        }
        chunks.push(chunk)
      })
      res.on('end', () => {
        let body: string
        try {
          body = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks, size))
        } catch {
          finish(
            new CredentialsError(`response from ${where} is not valid UTF-8`, {
              code: 'ERR_RESPONSE_INVALID',
              ...statusOf(res.statusCode),
            }),
          )
          return
        }
        finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body })
      })
      res.on('aborted', () => finish(cutShort(where, res.statusCode)))
      res.on('error', () => finish(cutShort(where, res.statusCode)))
      res.on('close', () => {
        if (!res.complete) finish(cutShort(where, res.statusCode))
      })
    })

    req.on('error', (err: NodeJS.ErrnoException) => {
      finish(
        new CredentialsError(`request to ${where} failed: ${err.code ?? err.message}`, {
          code: 'ERR_NETWORK',
          cause: err,
        }),
      )
    })

    timers.push(
      clock.setTimeout(
        () =>
          finish(
            new CredentialsError(`request to ${where} timed out after ${timeoutMs} ms`, {
              code: 'ERR_HTTP_TIMEOUT',
            }),
          ),
        timeoutMs,
      ),
    )
    req.on('socket', (socket) => {
      // A reused keep-alive socket is already connected.
      if (!socket.connecting) return
      const connectTimer = clock.setTimeout(
        () =>
          finish(
            new CredentialsError(`connecting to ${where} timed out after ${connectTimeoutMs} ms`, {
              code: 'ERR_HTTP_TIMEOUT',
            }),
          ),
        connectTimeoutMs,
      )
      timers.push(connectTimer)
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () =>
        clock.clearTimeout(connectTimer),
      )
    })
    signal?.addEventListener('abort', onAbort, { once: true })
    req.end(request.body)
  })
}

function statusOf(status: number | undefined): { status?: number } {
  return status === undefined ? {} : { status }
}

function tooLarge(where: string, max: number, status: number | undefined): CredentialsError {
  return new CredentialsError(`response from ${where} exceeds ${max} bytes`, {
    code: 'ERR_RESPONSE_INVALID',
    ...statusOf(status),
  })
}

function cutShort(where: string, status: number | undefined): CredentialsError {
  // A reset mid-body or a lying Content-Length: the body is incomplete, but a new attempt may work.
  return new CredentialsError(`response from ${where} ended before its body was complete`, {
    code: 'ERR_RESPONSE_INVALID',
    retryable: true,
    ...statusOf(status),
  })
}

function abortedError(where: string, signal: AbortSignal | undefined): CredentialsError {
  return new CredentialsError(`request to ${where} was aborted`, {
    code: 'ERR_ABORTED',
    cause: signal?.reason,
  })
}
