import type { Env } from './Env.js'
import { readEnv } from './Env.js'

/**
 * The proxy settings of one environment, as `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` give them
 * (lower-case names win, as in curl, undici and Node's own `proxyEnv`). Empty strings mean unset.
 */
export interface ProxyEnv {
  /** Proxy for `http:` targets (`http_proxy` / `HTTP_PROXY`). */
  readonly httpProxy: string
  /** Proxy for `https:` targets (`https_proxy` / `HTTPS_PROXY`). */
  readonly httpsProxy: string
  /** Hosts reached directly (`no_proxy` / `NO_PROXY`): comma-separated names, `.suffix`, `host:port`, `*`. */
  readonly noProxy: string
}

/**
 * Reads the proxy variables of `env`; `undefined` when neither proxy variable is set.
 *
 * Proxies apply to STS and Entra calls only: the Pod Identity agent and IMDS get the pod's token
 * and must never go through a proxy (issue 20), so those links never call this.
 *
 * @example
 * ```ts
 * const proxy = readProxyEnv(process.env) // { httpProxy: '', httpsProxy: 'http://proxy:3128', noProxy: '.internal' }
 * ```
 */
export function readProxyEnv(env: Env): ProxyEnv | undefined {
  const httpProxy = readEnv(env, 'http_proxy') ?? readEnv(env, 'HTTP_PROXY') ?? ''
  const httpsProxy = readEnv(env, 'https_proxy') ?? readEnv(env, 'HTTPS_PROXY') ?? ''
  if (httpProxy === '' && httpsProxy === '') return undefined
  const noProxy = readEnv(env, 'no_proxy') ?? readEnv(env, 'NO_PROXY') ?? ''
  return { httpProxy, httpsProxy, noProxy }
}

/**
 * A proxy URL fit for messages: scheme, host and port, never user info, path or query.
 * A value that does not parse is shown as `(not a URL)`.
 *
 * @example
 * ```ts
 * describeProxy('http://user:secret@proxy:3128') // 'http://proxy:3128'
 * ```
 */
export function describeProxy(value: string): string {
  try {
    const url = new URL(value)
    return `${url.protocol}//${url.host}`
  } catch {
    return '(not a URL)'
  }
}

/**
 * Whether this runtime's `http.Agent`/`https.Agent` honour the `proxyEnv` option: Node 22.21+
 * and 24.5+ (checked on 22.20.0, 22.21.0, 24.4.1, 24.5.0: the older ones ignore the option and
 * connect directly, without an error). Bun and Deno report a Node version but ignore it too.
 *
 * @example
 * ```ts
 * if (!nodeAgentsSupportProxyEnv()) await import('undici')
 * ```
 */
export function nodeAgentsSupportProxyEnv(versions: NodeJS.ProcessVersions = process.versions): boolean {
  if ('bun' in versions || 'deno' in versions) return false
  const [major = 0, minor = 0] = versions.node.split('.').map(Number)
  if (major >= 25) return true
  if (major === 24) return minor >= 5
  return major === 22 && minor >= 21
}
