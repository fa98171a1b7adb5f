import type { Env, HttpTransport, ProxyEnv } from '@podcreds/core'
import {
  CredentialsError,
  describeProxy,
  httpRequest,
  nodeAgentsSupportProxyEnv,
  readProxyEnv,
  validateProxyEnv,
} from '@podcreds/core'
import type { Dispatcher } from './undiciTransport.js'
import { undiciTransport } from './undiciTransport.js'

/**
 * An undici `Dispatcher` (`Agent`, `ProxyAgent`, `EnvHttpProxyAgent`, …), typed by the one method
 * podcreds relies on: undici is an optional peer dependency (issue 20), so our declarations must
 * not need its types (a project with `skipLibCheck: false` and no undici would fail to compile).
 */
export interface UndiciDispatcher {
  /** undici's `Dispatcher#dispatch`. */
  dispatch(options: unknown, handler: unknown): boolean
}

/**
 * How an STS request is sent: the caller's seams and the environment's proxy variables.
 */
export interface StsTransportOptions {
  /** The HTTP seam; beats `dispatcher` and the proxy variables. */
  transport?: HttpTransport | undefined
  /** An undici dispatcher (e.g. a `ProxyAgent`). */
  dispatcher?: UndiciDispatcher | undefined
  /** Until the connection is up, in milliseconds (the proxy agent's connect timeout). */
  connectTimeoutMs: number
}

/** What this runtime can send a proxied request with (issue 20). */
type ProxyRoute = 'node-agent' | 'undici' | 'none'

function proxyRoute(): ProxyRoute {
  // Node 22.21+/24.5+: Node's own agents speak HTTP proxies (proxyEnv), no undici needed.
  if (nodeAgentsSupportProxyEnv()) return 'node-agent'
  // Bun maps `undici` to a built-in whose request() ignores the dispatcher: a proxy agent from it
  // would send STS calls direct, silently (seen on Bun 1.4.5). Deno runs the npm package as is.
  if ('bun' in process.versions) return 'none'
  return 'undici'
}

/**
 * The transport of one STS call, and how it was chosen (`'transport option'`, `'direct'`,
 * `'proxy variables'`, `'dispatcher option'`) for the debug log. A configured proxy is never
 * bypassed: where this runtime cannot use it, the call fails with `ERR_INVALID_CONFIG` naming
 * the proxy and what would work, before any connection.
 */
export async function stsTransport(
  options: StsTransportOptions,
  env: Env,
): Promise<{
  /** The transport to send the request with. */
  transport: HttpTransport
  /** How it was chosen. */
  via: string
}> {
  if (options.transport !== undefined) return { transport: options.transport, via: 'transport option' }
  const proxy = readProxyEnv(env)
  if (options.dispatcher !== undefined) {
    if (proxyRoute() === 'none') throw cannotProxy('a `dispatcher` was passed', 'undici dispatchers')
    const transport = await undiciTransport({
      // The caller passed an undici Dispatcher; our declared type names only the method we need.
      dispatcher: options.dispatcher as unknown as Dispatcher,
      proxy: undefined,
      connectTimeoutMs: options.connectTimeoutMs,
    })
    return { transport, via: 'dispatcher option' }
  }
  if (proxy === undefined) return { transport: httpRequest, via: 'direct' }
  validateProxyEnv(proxy)
  const route = proxyRoute()
  if (route === 'node-agent') {
    // Core routes an https: endpoint with only HTTP_PROXY set through it, as undici does.
    return {
      transport: (request, o) => httpRequest(request, { ...o, proxy }),
      via: 'proxy variables (Node agent)',
    }
  }
  if (route === 'none') throw cannotProxy(describeProxySettings(proxy), 'HTTP proxies')
  const transport = await undiciTransport({
    dispatcher: undefined,
    proxy,
    connectTimeoutMs: options.connectTimeoutMs,
  })
  return { transport, via: 'proxy variables (undici)' }
}

function describeProxySettings(proxy: ProxyEnv): string {
  const set = [
    ...(proxy.httpsProxy === '' ? [] : [`HTTPS_PROXY (${describeProxy(proxy.httpsProxy)})`]),
    ...(proxy.httpProxy === '' ? [] : [`HTTP_PROXY (${describeProxy(proxy.httpProxy)})`]),
  ]
  return `${set.join(' and ')} ${set.length > 1 ? 'are' : 'is'} set`
}

function cannotProxy(what: string, feature: string): CredentialsError {
  return new CredentialsError(
    `${what}, but on Bun ${process.versions.bun} podcreds cannot send STS requests through ${feature} (Bun's http agents and its built-in undici ignore them), and it will not connect directly instead: run under Node.js 22.21+ or 24.5+, or pass a \`transport\` option that speaks to the proxy`,
    { code: 'ERR_INVALID_CONFIG' },
  )
}

/**
 * The proxy an STS request to `url` would go through, for `describe()`: origins only (a proxy
 * URL may carry user:password).
 */
export function describeStsProxy(
  options: Omit<StsTransportOptions, 'connectTimeoutMs'>,
  env: Env,
  url: URL,
): Record<string, string> {
  const details: Record<string, string> = {}
  const proxy = options.transport === undefined ? readProxyEnv(env) : undefined
  if (options.dispatcher !== undefined) details.proxy = 'dispatcher option'
  else if (proxy !== undefined) {
    // undici's EnvHttpProxyAgent: https: goes through HTTPS_PROXY, else HTTP_PROXY; http: through HTTP_PROXY.
    const chosen = url.protocol === 'https:' && proxy.httpsProxy !== '' ? proxy.httpsProxy : proxy.httpProxy
    details.proxy = chosen === '' ? `none for ${url.protocol} endpoints` : proxyOrigin(chosen)
    if (proxy.noProxy !== '') details.noProxy = proxy.noProxy
  }
  return details
}

// A proxy URL may carry user:password: print only its origin.
function proxyOrigin(value: string): string {
  try {
    const url = new URL(value.includes('://') ? value : `http://${value}`)
    return `${url.protocol}//${url.host}`
  } catch {
    return '(unparseable proxy URL)'
  }
}
