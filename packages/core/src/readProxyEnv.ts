import { CredentialsError } from './CredentialsError.js'
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

/**
 * Throws `ERR_INVALID_CONFIG` naming the variable when a proxy URL of `proxy` is not an `http:`
 * or `https:` URL. Node's agents connect directly, silently, for a proxy URL they cannot parse
 * or a scheme they do not speak (socks5:, checked on 22.23.5/24.22.3/26.10.0); undici 7 would
 * try SOCKS. Every runtime gets the same answer instead (issue 20: never a direct connection).
 *
 * @example
 * ```ts
 * validateProxyEnv({ httpProxy: '', httpsProxy: 'socks5://proxy:1080', noProxy: '' }) // throws
 * ```
 */
export function validateProxyEnv(proxy: ProxyEnv): void {
  for (const [name, value] of [
    ['HTTPS_PROXY', proxy.httpsProxy],
    ['HTTP_PROXY', proxy.httpProxy],
  ] as const) {
    if (value === '') continue
    let scheme: string | undefined
    try {
      scheme = new URL(value).protocol
    } catch {
      scheme = undefined
    }
    if (scheme !== 'http:' && scheme !== 'https:') {
      throw new CredentialsError(
        `${name} (or ${name.toLowerCase()}) ${scheme === undefined ? 'is not a valid URL' : `uses the unsupported scheme ${scheme}`}: a proxy URL is http: or https:, e.g. http://proxy:3128`,
        { code: 'ERR_INVALID_CONFIG' },
      )
    }
  }
}

/**
 * The error for a proxy that refused a request (`ERR_HTTP_STATUS` with the proxy's status):
 * 407 says how to give credentials; 407 and 403 are the proxy's decisions and not retryable, a
 * 5xx of the proxy's own is. Names the proxy by {@link describeProxy}, never its user info.
 *
 * @example
 * ```ts
 * throw proxyRefusedError('https://sts.eu-west-1.amazonaws.com/', 'http://u:p@proxy:3128', 407)
 * ```
 */
export function proxyRefusedError(
  where: string,
  proxy: string,
  status: number | undefined,
): CredentialsError {
  const what =
    status === 407
      ? 'asks for proxy credentials (407 Proxy Authentication Required): put them in the proxy URL, http://user:password@host:port'
      : `refused the request${status === undefined ? '' : ` with ${status}`}`
  return new CredentialsError(`the proxy ${describeProxy(proxy)} ${what} (request to ${where})`, {
    code: 'ERR_HTTP_STATUS',
    retryable: status !== undefined && status >= 500,
    ...(status === undefined ? {} : { status }),
  })
}
