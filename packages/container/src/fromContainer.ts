import type {
  Clock,
  DescribableProvider,
  Env,
  HttpResponse,
  HttpTransport,
  Logger,
  Milliseconds,
  Random,
  SourceDescription,
  TemporaryCredentials,
} from '@podcreds/core'
import {
  CredentialsError,
  DEFAULT_MAX_ATTEMPTS,
  describeUrl,
  httpRequest,
  protectCredentials,
  redactKeyId,
  scrub,
  systemClock,
  systemRandom,
  validateClock,
  validateEnv,
  validateFunction,
  validateInteger,
  validateLogger,
  validateMilliseconds,
  validateRandom,
  validateSignal,
  validateString,
} from '@podcreds/core'
import type { ReadFile } from '@podcreds/token'
import { checkEndpoint } from './checkEndpoint.js'
import { parseCredentials } from './internal/parseCredentials.js'
import type { Endpoint, SourceOptions, TokenSource } from './internal/resolveSource.js'
import {
  checkHeaderValue,
  ENV_FULL_URI,
  ENV_RELATIVE_URI,
  loadToken,
  relativeEndpoint,
  resolveEndpoint,
  resolveTokenSource,
} from './internal/resolveSource.js'
import { retryWithin } from './internal/retryWithin.js'

/** Options of {@link fromContainer}. Every option is checked when `fromContainer` is called. */
export interface ContainerOptions {
  /**
   * The endpoint, an absolute URL. Overrides `AWS_CONTAINER_CREDENTIALS_FULL_URI`; the EKS Pod
   * Identity webhook sets it to `http://169.254.170.23/v1/credentials`. Must pass
   * {@link checkEndpoint}. When `relativeUri` is also given, `relativeUri` wins.
   * @defaultValue `AWS_CONTAINER_CREDENTIALS_FULL_URI`, read per call
   */
  fullUri?: string
  /**
   * A path on the ECS agent `http://169.254.170.2`, starting with `/`. Overrides
   * `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` and wins over a full URI, as in the AWS SDK.
   * @defaultValue `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, read per call
   */
  relativeUri?: string
  /**
   * The token sent raw in `Authorization`. Overrides `AWS_CONTAINER_AUTHORIZATION_TOKEN`; an
   * `authorizationTokenFile` wins over it.
   * @defaultValue `AWS_CONTAINER_AUTHORIZATION_TOKEN`, read per call
   */
  authorizationToken?: string
  /**
   * A file holding the token (the projected service-account token of EKS Pod Identity),
   * **re-read on every call** because kubelet rotates it. Overrides
   * `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` and wins over any inline token.
   * @defaultValue `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, read per call
   */
  authorizationTokenFile?: string
  /**
   * The environment to read the `AWS_CONTAINER_*` variables from, per call. Explicit options
   * beat it: when either URI option is given no URI variable is read, and when either token
   * option is given no token variable is read.
   * @defaultValue `process.env`
   */
  env?: Env
  /**
   * Limit on one whole request (connect, send, receive), in milliseconds.
   * @defaultValue 2000
   */
  timeoutMs?: Milliseconds
  /**
   * Limit on establishing the connection, in milliseconds.
   * @defaultValue 1000
   */
  connectTimeoutMs?: Milliseconds
  /**
   * Attempts per call, the first included (1 = no retry at all, not even within `retryWindowMs`),
   * in `[1, 10]`. Timeouts, 429, 5xx and answers cut short or not JSON are retried with
   * full-jitter backoff (both AWS SDKs retry those); 400/401/403/404 never. Connection errors
   * have their own budget, `retryWindowMs`.
   * @defaultValue 3
   */
  maxAttempts?: number
  /**
   * How long connection errors (refused, reset: an agent restarting) are retried, in
   * milliseconds from the first attempt, with a back-off of 50–500 ms; `0` counts them as
   * attempts instead. The AWS SDK for JS and botocore keep trying for about 3 s as well.
   * @defaultValue 3000
   */
  retryWindowMs?: Milliseconds
  /**
   * Time and timers (request timeouts, retry back-off, the expiry check).
   * @defaultValue `systemClock`
   */
  clock?: Clock
  /**
   * Jitter source for the retry back-off, `[0, 1)`.
   * @defaultValue `systemRandom`
   */
  random?: Random
  /** Receives debug lines (never a secret). @defaultValue none: silent */
  logger?: Logger
  /** Aborts an in-flight call with `ERR_ABORTED`. */
  signal?: AbortSignal
  /**
   * The HTTP seam.
   * @defaultValue `httpRequest` of `@podcreds/core` (`node:http`, keep-alive, no redirects, 64 KiB cap)
   */
  transport?: HttpTransport
  /**
   * The file-reading seam for the token file.
   * @defaultValue `fs.promises.readFile`
   */
  readFile?: ReadFile
}

/** @defaultValue 2000 */
export const DEFAULT_CONTAINER_TIMEOUT_MS: Milliseconds = 2000
/** @defaultValue 1000 */
export const DEFAULT_CONTAINER_CONNECT_TIMEOUT_MS: Milliseconds = 1000
/** @defaultValue 3000: the time budget for connection errors, see {@link ContainerOptions.retryWindowMs}. */
export const DEFAULT_CONTAINER_RETRY_WINDOW_MS: Milliseconds = 3000

const SOURCE = 'container credentials'

/**
 * Credentials from a container credentials endpoint: the **EKS Pod Identity** agent
 * (`AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, as the Pod
 * Identity webhook injects them) or the ECS agent (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`).
 *
 * Each call reads the environment and the token file afresh, sends one `GET` with the token raw
 * in `Authorization`, and retries transient failures. It caches nothing: wrap it in `refreshing()`
 * of `@podcreds/refresh`, or hand it to an AWS SDK client, which caches it.
 *
 * Errors are `CredentialsError`s: `ERR_NOT_CONFIGURED` (neither URI set; `tryNextLink`),
 * `ERR_INVALID_CONFIG` / `ERR_ENDPOINT_NOT_ALLOWED` (see {@link checkEndpoint}), `ERR_TOKEN_FILE`,
 * `ERR_TOKEN_INVALID` (sent nothing), `ERR_HTTP_STATUS` (with `status` and the agent's text),
 * `ERR_HTTP_TIMEOUT`, `ERR_NETWORK`, `ERR_RESPONSE_INVALID` (naming the field), `ERR_ABORTED`.
 * No message contains the token or a credential.
 *
 * `describe()` reports the configuration without sending anything.
 *
 * @param options - endpoint, token, limits and seams; checked now (`TypeError` naming the option)
 * @returns a provider for any AWS SDK v3 client's `credentials`, with `describe()`
 * @example
 * ```ts
 * import { S3Client } from '@aws-sdk/client-s3'
 * import { fromContainer } from '@podcreds/container'
 *
 * const s3 = new S3Client({ credentials: fromContainer() })
 * ```
 */
export function fromContainer(options: ContainerOptions = {}): DescribableProvider<TemporaryCredentials> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  const sourceOptions = validateSourceOptions(options)
  validateMilliseconds('timeoutMs', options.timeoutMs, { min: 1 })
  validateMilliseconds('connectTimeoutMs', options.connectTimeoutMs, { min: 1 })
  validateInteger('maxAttempts', options.maxAttempts, 1, 10)
  validateMilliseconds('retryWindowMs', options.retryWindowMs, { min: 0, max: 60_000 })
  validateClock('clock', options.clock)
  validateRandom('random', options.random)
  validateLogger('logger', options.logger)
  validateSignal('signal', options.signal)
  validateEnv('env', options.env)
  validateFunction('transport', options.transport, '(request, options) => Promise<HttpResponse>')
  validateFunction('readFile', options.readFile, '(path) => Promise<Uint8Array>')

  const timeoutMs = options.timeoutMs ?? DEFAULT_CONTAINER_TIMEOUT_MS
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONTAINER_CONNECT_TIMEOUT_MS
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
  const retryWindowMs = options.retryWindowMs ?? DEFAULT_CONTAINER_RETRY_WINDOW_MS
  const clock = options.clock ?? systemClock
  const random = options.random ?? systemRandom
  const transport = options.transport ?? httpRequest
  const { logger, signal, readFile } = options

  // Per call, never at import or construction time (DESIGN "Conventions").
  const configure = (): { endpoint: Endpoint; token: TokenSource } => {
    const env = options.env ?? process.env
    const endpoint = resolveEndpoint(sourceOptions, env)
    if (endpoint === undefined) {
      throw new CredentialsError(`${SOURCE}: neither ${ENV_FULL_URI} nor ${ENV_RELATIVE_URI} is set`, {
        code: 'ERR_NOT_CONFIGURED',
      })
    }
    return { endpoint, token: resolveTokenSource(sourceOptions, env) }
  }

  const provider = async (_identityProperties?: Record<string, unknown>): Promise<TemporaryCredentials> => {
    const { endpoint, token: tokenSource } = configure()
    const token = await loadToken(tokenSource, readFile)
    const where = describeUrl(endpoint.url)
    const headers: Record<string, string> = { accept: 'application/json' }
    // The agent takes the token raw, without a `Bearer` scheme (EKS Pod Identity agent, ECS).
    if (token !== undefined) headers['authorization'] = token
    logger?.debug?.(`${SOURCE}: requesting`, {
      url: where,
      uriSource: endpoint.origin,
      tokenSource: tokenSource.kind === 'none' ? 'none' : tokenSource.origin,
    })

    const credentials = await retryWithin(
      async (attempt) => {
        const res = await transport(
          { url: endpoint.url, method: 'GET', headers },
          { timeoutMs, connectTimeoutMs, clock, ...(signal === undefined ? {} : { signal }) },
        )
        if (res.status < 200 || res.status > 299) throw statusError(res, where, token, attempt)
        // Parsed inside the retry: a body that is not JSON (a proxy's error page, a half-written
        // answer) is retried like a 5xx, as the AWS SDK for JS and botocore do (issue 17).
        return parseCredentials(res.body, where, clock.now())
      },
      {
        maxAttempts,
        retryWindowMs,
        clock,
        random,
        signal,
        onRetry: (error, attempt, delayMs) =>
          logger?.debug?.(`${SOURCE}: attempt ${attempt} failed, retrying`, {
            url: where,
            delayMs,
            ...(error instanceof CredentialsError
              ? { code: error.code, ...(error.status === undefined ? {} : { status: error.status }) }
              : {}),
          }),
        exhausted: (last, attempts, elapsedMs) =>
          new CredentialsError(
            `${SOURCE}: no answer from ${where} (${endpoint.origin}) after ${attempts} attempts in ${(elapsedMs / 1000).toFixed(1)} s: ${last.message}`,
            { code: last.code, retryable: true, cause: last },
          ),
      },
    )

    logger?.debug?.(`${SOURCE}: received credentials`, {
      url: where,
      accessKeyId: redactKeyId(credentials.accessKeyId),
      expiration: credentials.expiration.toISOString(),
      ...(credentials.accountId === undefined ? {} : { accountId: credentials.accountId }),
    })
    return protectCredentials(credentials)
  }

  const describe = async (): Promise<SourceDescription> => {
    let config: { endpoint: Endpoint; token: TokenSource }
    try {
      config = configure()
    } catch (error) {
      if (error instanceof CredentialsError && error.code === 'ERR_NOT_CONFIGURED') {
        return { configured: false, reason: error.message, details: {} }
      }
      throw error
    }
    const { endpoint, token: tokenSource } = config
    const details: Record<string, string> = {
      uri: describeUrl(endpoint.url),
      uriSource: endpoint.origin,
      tokenSource: tokenSource.kind === 'none' ? 'none' : tokenSource.origin,
    }
    if (tokenSource.kind === 'file') details['tokenFile'] = tokenSource.path
    // Reads the file as a call would (an unreadable one rejects with the same ERR_TOKEN_FILE),
    // but sends nothing.
    const token = await loadToken(tokenSource, readFile)
    if (tokenSource.kind === 'file') details['tokenFileReadable'] = 'yes'
    if (token !== undefined) Object.assign(details, await describeClaims(token, clock.now()))
    const tokenText =
      tokenSource.kind === 'file'
        ? `with the token from ${tokenSource.path}`
        : tokenSource.kind === 'inline'
          ? `with the token from ${tokenSource.origin}`
          : 'without a token'
    return {
      configured: true,
      reason: `GET ${details['uri']} ${tokenText} (from ${endpoint.origin})`,
      details,
    }
  }

  return Object.assign(provider, { describe })
}

function validateSourceOptions(options: ContainerOptions): SourceOptions {
  validateString('fullUri', options.fullUri)
  validateString('relativeUri', options.relativeUri)
  validateString('authorizationToken', options.authorizationToken)
  validateString('authorizationTokenFile', options.authorizationTokenFile)
  const source: SourceOptions = {
    fullUri: options.fullUri,
    relativeUri: options.relativeUri,
    authorizationToken: options.authorizationToken?.trimEnd(),
    authorizationTokenFile: options.authorizationTokenFile,
  }
  // A bad URI or token given as an option is a programming error: TypeError now, naming the
  // option, with the CredentialsError (and its code) as the cause. The same value from the
  // environment fails at call time instead.
  if (source.fullUri !== undefined) asOption('fullUri', () => checkEndpoint(source.fullUri as string))
  if (source.relativeUri !== undefined) {
    asOption('relativeUri', () => relativeEndpoint(source.relativeUri as string, 'relativeUri'))
  }
  if (source.authorizationToken !== undefined) {
    asOption('authorizationToken', () =>
      checkHeaderValue(source.authorizationToken as string, 'authorizationToken'),
    )
  }
  return source
}

function asOption(name: string, check: () => unknown): void {
  try {
    check()
  } catch (error) {
    const message = (error as Error).message
    throw new TypeError(message.startsWith(name) ? message : `${name}: ${message}`, { cause: error })
  }
}

function statusError(
  res: HttpResponse,
  where: string,
  token: string | undefined,
  attempt: number,
): CredentialsError {
  const status = res.status
  // 429 and 5xx are transient (throttling, agent restart); 400 (invalid or expired token),
  // 401, 403 (AccessDenied), 404 (no association) will not change by asking again.
  const retryable = status === 429 || status >= 500
  // The agent answers errors as text/plain; it may echo the token, so scrub it. Capped, and
  // control characters stripped, by scrub().
  const text = scrub(res.body.trim(), [token], 512)
  const what =
    status >= 300 && status < 400
      ? `redirected with ${status} (redirects are not followed)`
      : `answered ${status}${text === '' ? ' with an empty body' : `: ${text}`}`
  return new CredentialsError(`${SOURCE}: ${where} ${what}${attempt > 1 ? ` (attempt ${attempt})` : ''}`, {
    code: 'ERR_HTTP_STATUS',
    status,
    retryable,
  })
}

async function describeClaims(token: string, now: number): Promise<Record<string, string>> {
  // Loaded on demand: decoding pulls in the token decoder, which the credentials path never needs
  // (DESIGN "Cold-start budget": the container path loads node:http and nothing else). Claims only,
  // scrubbed; an ECS token or another opaque string shows as `tokenFormat: 'opaque'`.
  const { describeTokenClaims } = await import('@podcreds/token')
  return describeTokenClaims(token, { now })
}
