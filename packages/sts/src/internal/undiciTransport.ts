import type { HttpRequest, HttpRequestOptions, HttpResponse, HttpTransport, ProxyEnv } from '@podcreds/core'
import { CredentialsError, describeUrl, proxyRefusedError, systemClock } from '@podcreds/core'
import type { Dispatcher } from 'undici'

export type { Dispatcher }

// undici costs 110–140 ms to load, and is an optional peer dependency (issue 20): it is imported
// only for a caller's `dispatcher`, or for a proxy on a runtime whose own agents cannot use one
// (Node before 22.21/24.5, Deno).

// One agent per proxy configuration, so keep-alive connections are reused across calls. Idle
// undici sockets are unref'd and never hold the process open.
const agents = new Map<string, Dispatcher>()
const MAX_AGENTS = 8
const IDLE_SOCKET_MS = 4000

/**
 * An {@link HttpTransport} on undici's `request`: through `dispatcher` when given, otherwise an
 * `EnvHttpProxyAgent` built from the proxy variables of the call's environment (passed
 * explicitly: undici would otherwise read `process.env`). Same contract as core's `httpRequest`:
 * total and connect timeouts, size cap, no redirects, abort signal, the same error codes.
 */
export async function undiciTransport(config: {
  dispatcher: Dispatcher | undefined
  proxy: ProxyEnv | undefined
  connectTimeoutMs: number
}): Promise<HttpTransport> {
  let undici: typeof import('undici')
  try {
    // Inside `try`: a bundler that cannot resolve the optional peer leaves the import to run
    // time (esbuild fails the build on a bare unresolvable `import()` outside one; issue 20).
    undici = await import('undici')
  } catch (error) {
    throw new CredentialsError(
      `${config.dispatcher === undefined ? `a proxy is set (HTTPS_PROXY / HTTP_PROXY) and Node ${process.versions.node}'s own agents cannot use one` : 'a `dispatcher` was passed'}, so STS requests need the optional peer dependency undici, which is not installed: \`npm install undici@7\` (or use Node.js 22.21+ / 24.5+, whose agents speak HTTP proxies). podcreds will not connect directly instead.`,
      { code: 'ERR_INVALID_CONFIG', cause: codeOnly((error as { code?: unknown }).code) },
    )
  }
  let dispatcher = config.dispatcher
  if (dispatcher === undefined) {
    const proxy = config.proxy ?? { httpProxy: '', httpsProxy: '', noProxy: '' }
    const key = JSON.stringify([proxy.httpProxy, proxy.httpsProxy, proxy.noProxy, config.connectTimeoutMs])
    dispatcher = agents.get(key)
    if (dispatcher === undefined) {
      if (agents.size >= MAX_AGENTS) {
        for (const agent of agents.values()) void agent.close().catch(() => {})
        agents.clear()
      }
      try {
        dispatcher = new undici.EnvHttpProxyAgent({
          ...proxy,
          connect: { timeout: config.connectTimeoutMs },
          keepAliveTimeout: IDLE_SOCKET_MS,
        })
      } catch {
        // The error (a TypeError whose `input` is the whole URL, user:password included) is
        // dropped: util.inspect() would print it as the cause.
        throw invalidProxy(proxy)
      }
      agents.set(key, dispatcher)
    }
  }
  const chosen = dispatcher
  const proxy = config.proxy
  // The proxy a request goes through, as EnvHttpProxyAgent picks it, to name it in a refusal.
  const proxyOf = (url: URL): string | undefined =>
    proxy === undefined
      ? undefined
      : url.protocol === 'https:' && proxy.httpsProxy !== ''
        ? proxy.httpsProxy
        : proxy.httpProxy
  return (request, options) => send(undici, chosen, request, options, proxyOf(request.url))
}

async function send(
  undici: typeof import('undici'),
  dispatcher: Dispatcher,
  request: HttpRequest,
  options: HttpRequestOptions = {},
  proxy: string | undefined = undefined,
): Promise<HttpResponse> {
  const { url } = request
  const where = describeUrl(url)
  const clock = options.clock ?? systemClock
  const timeoutMs = options.timeoutMs ?? 2000
  const maxBodyBytes = options.maxBodyBytes ?? 65_536
  const signal = options.signal
  if (signal?.aborted) throw aborted(where, signal)

  const controller = new AbortController()
  let timedOut = false
  const timer = clock.setTimeout(() => {
    timedOut = true
    controller.abort()
  }, timeoutMs)
  const onAbort = (): void => controller.abort()
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const target = new URL(url.href)
    target.username = ''
    target.password = ''
    const response = await undici.request(target, {
      method: request.method ?? 'GET',
      headers: { ...request.headers },
      body: request.body ?? null,
      dispatcher,
      signal: controller.signal,
    })
    const status = response.statusCode
    const declared = Number(response.headers['content-length'])
    if (Number.isFinite(declared) && declared > maxBodyBytes) {
      response.body.destroy()
      throw tooLarge(where, maxBodyBytes, status)
    }
    const chunks: Buffer[] = []
    let size = 0
    try {
      for await (const chunk of response.body) {
        const buffer = chunk as Buffer
        size += buffer.length
        if (size > maxBodyBytes) {
          response.body.destroy()
          throw tooLarge(where, maxBodyBytes, status)
        }
        chunks.push(buffer)
      }
    } catch (error) {
      if (error instanceof CredentialsError) throw error
      throw mapError(error, where, { timedOut, timeoutMs, signal, status, midBody: true })
    }
    let body: string
    try {
      body = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks, size))
    } catch {
      throw new CredentialsError(`response from ${where} is not valid UTF-8`, {
        code: 'ERR_RESPONSE_INVALID',
        status,
      })
    }
    return { status, headers: response.headers, body }
  } catch (error) {
    if (error instanceof CredentialsError) throw error
    // A proxy that refuses the CONNECT tunnel (407, 403, …): undici says so only in its message.
    const refused = /^Proxy response \((\d{3})\) !== 200/.exec(String((error as Error | undefined)?.message))
    if (refused !== null) {
      const status = Number(refused[1])
      if (proxy !== undefined) throw proxyRefusedError(where, proxy, status)
      throw new CredentialsError(
        `the proxy of the \`dispatcher\` option refused the request with ${status} (request to ${where})`,
        {
          code: 'ERR_HTTP_STATUS',
          retryable: status >= 500,
          status,
        },
      )
    }
    throw mapError(error, where, { timedOut, timeoutMs, signal, status: undefined, midBody: false })
  } finally {
    clock.clearTimeout(timer)
    signal?.removeEventListener('abort', onAbort)
  }
}

function mapError(
  error: unknown,
  where: string,
  state: {
    timedOut: boolean
    timeoutMs: number
    signal: AbortSignal | undefined
    status: number | undefined
    midBody: boolean
  },
): CredentialsError {
  if (state.timedOut) {
    return new CredentialsError(`request to ${where} timed out after ${state.timeoutMs} ms`, {
      code: 'ERR_HTTP_TIMEOUT',
    })
  }
  if (state.signal?.aborted) return aborted(where, state.signal)
  const code = (error as { code?: unknown } | undefined)?.code
  if (code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new CredentialsError(`connecting to ${where} timed out`, {
      code: 'ERR_HTTP_TIMEOUT',
      cause: codeOnly(code),
    })
  }
  if (state.midBody) {
    return new CredentialsError(`response from ${where} ended before its body was complete`, {
      code: 'ERR_RESPONSE_INVALID',
      retryable: true,
      ...(state.status === undefined ? {} : { status: state.status }),
    })
  }
  // Only the code: undici messages can name the proxy URL, which may carry credentials.
  return new CredentialsError(
    `request to ${where} failed: ${typeof code === 'string' ? code : 'network error'}`,
    {
      code: 'ERR_NETWORK',
      cause: codeOnly(code),
    },
  )
}

// undici's errors may name the proxy URL, user:password included (in the message or in fields),
// and util.inspect() and CredentialsError#toJSON() print a cause in full: the cause is a plain
// Error that carries the error code and nothing else.
function codeOnly(code: unknown): Error {
  if (typeof code !== 'string') return new Error('network error')
  return Object.assign(new Error(code), { code })
}

function invalidProxy(proxy: ProxyEnv): CredentialsError {
  const bad: string[] = []
  for (const [name, value] of [
    ['HTTPS_PROXY', proxy.httpsProxy],
    ['HTTP_PROXY', proxy.httpProxy],
  ] as const) {
    if (value !== '' && !isProxyUrl(value)) bad.push(`${name} (or ${name.toLowerCase()})`)
  }
  const which = bad.length === 0 ? 'HTTPS_PROXY / HTTP_PROXY' : bad.join(' and ')
  return new CredentialsError(`${which}: not a valid proxy URL (http: or https:, e.g. http://proxy:3128)`, {
    code: 'ERR_INVALID_CONFIG',
  })
}

function isProxyUrl(value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

function tooLarge(where: string, max: number, status: number): CredentialsError {
  return new CredentialsError(`response from ${where} exceeds ${max} bytes`, {
    code: 'ERR_RESPONSE_INVALID',
    status,
  })
}

function aborted(where: string, signal: AbortSignal): CredentialsError {
  return new CredentialsError(`request to ${where} was aborted`, {
    code: 'ERR_ABORTED',
    cause: signal.reason,
  })
}
