import type { Env, HttpTransport } from '@podcreds/core'
import { httpRequest } from '@podcreds/core'
import type { Dispatcher } from 'undici'
import { readProxyEnv, undiciTransport } from './undiciTransport.js'

/**
 * How an STS request is sent: the caller's seams and the environment's proxy variables.
 */
export interface StsTransportOptions {
  /** The HTTP seam; beats `dispatcher` and the proxy variables. */
  transport?: HttpTransport | undefined
  /** An undici dispatcher (e.g. a `ProxyAgent`). */
  dispatcher?: Dispatcher | undefined
  /** Until the connection is up, in milliseconds (the proxy agent's connect timeout). */
  connectTimeoutMs: number
}

/**
 * The transport of one STS call, and how it was chosen (`'transport option'`, `'direct'`,
 * `'proxy variables'`, `'dispatcher option'`) for the debug log.
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
  if (options.dispatcher === undefined && proxy === undefined)
    return { transport: httpRequest, via: 'direct' }
  const transport = await undiciTransport({
    dispatcher: options.dispatcher,
    proxy,
    connectTimeoutMs: options.connectTimeoutMs,
  })
  return { transport, via: options.dispatcher === undefined ? 'proxy variables' : 'dispatcher option' }
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
