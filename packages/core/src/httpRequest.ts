import type { ClientRequest, Agent as HttpAgent, IncomingMessage, RequestOptions } from 'node:http'
import type { Clock, Milliseconds } from './Clock.js'
import { systemClock } from './Clock.js'
import { CredentialsError } from './CredentialsError.js'
import type { ProxyEnv } from './readProxyEnv.js'
import {
  describeProxy,
  nodeAgentsSupportProxyEnv,
  proxyRefusedError,
  validateProxyEnv,
} from './readProxyEnv.js'

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
  /**
   * Send through these proxies (Node's own agents with `proxyEnv`: a CONNECT tunnel for `https:`,
   * an absolute-form request for `http:`, `NO_PROXY` honoured, proxy user info sent as Basic
   * auth; an `https:` target with only `httpProxy` set goes through it). Only on a runtime where {@link nodeAgentsSupportProxyEnv} is true: elsewhere the
   * request fails with `ERR_INVALID_CONFIG` rather than connecting directly. For STS and Entra
   * only, never for the Pod Identity agent or IMDS.
   * @defaultValue no proxy
   */
  proxy?: ProxyEnv
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

type HttpModule = typeof import('node:http')

// On Node >= 22 an ESM import of node:http builds its module namespace, which runs http's lazy
// `WebSocket` getter and so loads undici and tls (issue 20). getBuiltinModule returns the CommonJS
// exports object and leaves the getter alone; node:https (~10 ms) is loaded the same way, and only
// when an https: URL is first used (DESIGN "Cold-start budget").
function builtin(id: 'node:http' | 'node:https'): HttpModule {
  return process.getBuiltinModule(id) as HttpModule
}

const AGENT_OPTIONS = { keepAlive: true, timeout: IDLE_SOCKET_MS, maxSockets: 16 }
// Agents are created on first use (import-time work is zero). Node unrefs idle keep-alive
// sockets, so they never hold the process open.
const directAgents: { 'http:'?: HttpAgent; 'https:'?: HttpAgent } = {}
// One agent per proxy configuration, so keep-alive connections through a proxy are reused.
const proxyAgents = new Map<string, HttpAgent>()
const MAX_PROXY_AGENTS = 8

function agentFor(url: URL, proxy: ProxyEnv | undefined): { module: HttpModule; agent: HttpAgent } {
  const protocol = url.protocol as 'http:' | 'https:'
  const module = builtin(protocol === 'http:' ? 'node:http' : 'node:https')
  if (proxy === undefined) {
    directAgents[protocol] ??= new module.Agent(AGENT_OPTIONS)
    return { module, agent: directAgents[protocol] }
  }
  const key = JSON.stringify([protocol, proxy.httpProxy, proxy.httpsProxy, proxy.noProxy])
  let agent = proxyAgents.get(key)
  if (agent === undefined) {
    // Forget the oldest configuration, without destroying it: a request may still be in flight
    // on it, and its idle keep-alive sockets close on their own (IDLE_SOCKET_MS).
    if (proxyAgents.size >= MAX_PROXY_AGENTS) proxyAgents.delete(proxyAgents.keys().next().value as string)
    const proxyEnv: Record<string, string> = {}
    if (proxy.httpProxy !== '') proxyEnv.HTTP_PROXY = proxy.httpProxy
    const httpsProxy = proxyForHttps(proxy)
    if (httpsProxy !== '') proxyEnv.HTTPS_PROXY = httpsProxy
    if (proxy.noProxy !== '') proxyEnv.NO_PROXY = proxy.noProxy
    // `proxyEnv` is in Node 22.21+/24.5+; @types/node for our 20.19 floor does not know it yet.
    agent = new module.Agent({ ...AGENT_OPTIONS, proxyEnv } as ConstructorParameters<HttpModule['Agent']>[0])
    proxyAgents.set(key, agent)
  }
  return { module, agent }
}

/**
 * The proxy for `https:` targets: HTTPS_PROXY, else HTTP_PROXY, as undici's EnvHttpProxyAgent
 * (the route on older Nodes and Deno) picks it — so the same settings take the same route on
 * every runtime (Node's own convention would go direct).
 */
function proxyForHttps(proxy: ProxyEnv): string {
  return proxy.httpsProxy === '' ? proxy.httpProxy : proxy.httpsProxy
}

/** The proxy a request to `url` goes through under `proxy`, or `undefined` when it goes direct. */
function proxyFor(url: URL, proxy: ProxyEnv | undefined): string | undefined {
  if (proxy === undefined) return undefined
  const value = url.protocol === 'https:' ? proxyForHttps(proxy) : proxy.httpProxy
  if (value === '' || bypassed(url, proxy.noProxy)) return undefined
  return value
}

// The NO_PROXY rules Node's agents apply (lib/internal/http.js `shouldUseProxy`), repeated here
// only to know whether a message should name the proxy; the agent decides the route itself.
function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase()
    if (entry === '') continue
    if (entry === '*') return true
    const [name = '', entryPort] = entry.startsWith('[')
      ? [entry.slice(1, entry.indexOf(']')), entry.split(']:')[1]]
      : entry.split(':')
    if (entryPort !== undefined && entryPort !== port) continue
    const bare = name.replace(/^\*?\./, '')
    if (host === bare || host.endsWith(`.${bare}`)) return true
  }
  return false
}

function runtimeName(): string {
  const versions = process.versions as NodeJS.ProcessVersions & { bun?: string; deno?: string }
  if (versions.bun !== undefined) return `Bun ${versions.bun}`
  if (versions.deno !== undefined) return `Deno ${versions.deno}`
  return `Node.js ${versions.node}`
}

function checkProxy(proxy: ProxyEnv, url: URL): void {
  if (!nodeAgentsSupportProxyEnv()) {
    throw new CredentialsError(
      `a proxy is set (HTTPS_PROXY / HTTP_PROXY) but the http agents of ${runtimeName()} cannot use one (Node.js 22.21+ and 24.5+ can); refusing to connect to ${describeUrl(url)} directly`,
      { code: 'ERR_INVALID_CONFIG' },
    )
  }
  validateProxyEnv(proxy)
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
  if (options.proxy !== undefined) checkProxy(options.proxy, url)
  const { module, agent } = agentFor(url, options.proxy)
  const via = proxyFor(url, options.proxy)
  const through = via === undefined ? '' : ` through the proxy ${describeProxy(via)}`

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

    req = module.request(requestOptions, (res: IncomingMessage) => {
      // An http: request through a proxy is sent to the proxy itself, which answers 407 when
      // it wants credentials: that is the proxy's answer, not the endpoint's.
      if (via !== undefined && url.protocol === 'http:' && res.statusCode === 407) {
        finish(proxyRefusedError(where, via, 407))
        res.destroy()
        return
      }
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

    req.on('error', (err: NodeJS.ErrnoException & { statusCode?: number }) => {
      if (via !== undefined && err.code === 'ERR_PROXY_TUNNEL') {
        finish(proxyRefusedError(where, via, err.statusCode))
        return
      }
      // Through a proxy only the error code: Node's messages name the proxy URL.
      finish(
        new CredentialsError(
          `request to ${where}${through} failed: ${err.code ?? (via === undefined ? err.message : 'network error')}`,
          {
            code: 'ERR_NETWORK',
            cause: via === undefined ? err : Object.assign(new Error(String(err.code)), { code: err.code }),
          },
        ),
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
