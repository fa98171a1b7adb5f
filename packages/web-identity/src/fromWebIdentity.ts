import type {
  Clock,
  DescribableProvider,
  Env,
  HttpTransport,
  Logger,
  Milliseconds,
  Random,
  SourceDescription,
  TemporaryCredentials,
} from '@podcreds/core'
import {
  CredentialsError,
  describeUrl,
  readEnv,
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
import type { StsEndpoint, UndiciDispatcher } from '@podcreds/sts'
import {
  callerRegionOf,
  DEFAULT_STS_CONNECT_TIMEOUT_MS,
  DEFAULT_STS_MAX_ATTEMPTS,
  DEFAULT_STS_TIMEOUT_MS,
  describeStsProxy,
  envRegion,
  formBody,
  generateSessionName,
  isInvalidIdentityToken,
  isPolicyArn,
  isRegion,
  isRoleArn,
  isSessionName,
  parseEndpoint,
  quote,
  readStsResponse,
  resolveStsEndpoint,
  retryStsCall,
  stsTransport,
} from '@podcreds/sts'
import type { TokenClaims } from '@podcreds/token'
import type { ReadFile } from '@podcreds/token/read'
import { readToken } from '@podcreds/token/read'

/** A managed session policy, as STS's `PolicyDescriptorType`. */
export interface PolicyDescriptor {
  /** The policy ARN, e.g. `arn:aws:iam::aws:policy/ReadOnlyAccess`. */
  arn: string
}

/** Options of {@link fromWebIdentity}. Explicit options beat environment variables. */
export interface FromWebIdentityOptions {
  /**
   * The projected service-account token file, re-read on every call (kubelet rotates it).
   * @defaultValue `AWS_WEB_IDENTITY_TOKEN_FILE`
   */
  tokenFile?: string
  /**
   * The IAM role to assume, `arn:<partition>:iam::<account>:role/<path/name>`.
   * @defaultValue `AWS_ROLE_ARN`
   */
  roleArn?: string
  /**
   * The session name, 2–64 characters of `[\w+=,.@-]`.
   * @defaultValue `AWS_ROLE_SESSION_NAME`, else a generated `podcreds-<epoch ms>-<random hex>`
   */
  roleSessionName?: string
  /**
   * The region whose STS endpoint to call.
   * @defaultValue the calling SDK client's region, then `AWS_REGION`, then `AWS_DEFAULT_REGION`,
   * then `us-east-1` with a warning (the AWS SDK for JS's order)
   */
  region?: string
  /**
   * The STS endpoint URL.
   * @defaultValue `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL`, then the regional endpoint (see
   * {@link resolveStsEndpoint})
   */
  endpoint?: string | URL
  /** Lifetime of the session, in **seconds** (the STS wire unit), 900 to 43 200. @defaultValue STS's default, 3600 */
  durationSeconds?: number
  /** An inline session policy (JSON, at most 2048 characters). */
  policy?: string
  /** Up to 10 managed session policies. */
  policyArns?: readonly PolicyDescriptor[]
  /** The OAuth 2.0 identity provider, for tokens that are not OpenID Connect ID tokens. */
  providerId?: string
  /** The environment, read on every call. @defaultValue `process.env` */
  env?: Env
  /** Whole STS request, per attempt, in milliseconds. @defaultValue 5000 */
  timeoutMs?: Milliseconds
  /** Until the connection is up, in milliseconds. @defaultValue 1000 */
  connectTimeoutMs?: Milliseconds
  /** Attempts per call, the first included; 1 means no retry. @defaultValue 3 */
  maxAttempts?: number
  /** Time and timers (token expiry, timeouts, back-off). @defaultValue systemClock */
  clock?: Clock
  /** Jitter source. @defaultValue systemRandom */
  random?: Random
  /**
   * An undici dispatcher (e.g. a `ProxyAgent`) to send STS requests through (undici is an
   * optional peer dependency: install it to use this). Without it, `HTTPS_PROXY`/`HTTP_PROXY`
   * (any case) and `NO_PROXY` are honoured by Node's own agents on Node 22.21+/24.5+, and by
   * undici's `EnvHttpProxyAgent` on an older Node or Deno (then undici must be installed); on Bun
   * a proxy is refused with `ERR_INVALID_CONFIG` rather than bypassed.
   */
  dispatcher?: UndiciDispatcher
  /** Structured logger; never receives a secret. */
  logger?: Logger
  /** Aborts calls with `ERR_ABORTED`. */
  signal?: AbortSignal
  /**
   * The HTTP seam. Takes precedence over `dispatcher` and proxy variables.
   * @defaultValue core's `httpRequest` (through Node's own proxy-aware agents when a proxy is set, on Node 22.21+/24.5+), or an undici transport for a `dispatcher` or a proxy on an older Node
   */
  transport?: HttpTransport
  /** The file-reading seam for the token file. @defaultValue `fs.promises.readFile` */
  readFile?: ReadFile
}

const MAX_POLICY_LENGTH = 2048
const MAX_POLICY_ARNS = 10

/** The configuration of one call, after options, environment and the caller's region. */
interface CallConfig {
  env: Env
  roleArn: string
  tokenFile: string
  roleSessionName: string | undefined
  region: string | undefined
  regionSource: string
  endpoint: StsEndpoint
}

/**
 * IRSA credentials: reads the projected service-account token and exchanges it for temporary
 * credentials with an unsigned STS `AssumeRoleWithWebIdentity` request — no AWS SDK client
 * involved. Configuration comes from the options, else (per call) from `AWS_ROLE_ARN`,
 * `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_SESSION_NAME` and the region and endpoint variables
 * (see {@link resolveStsEndpoint}).
 *
 * Every call re-reads the token file and makes one STS exchange (retried with full-jitter
 * back-off on throttling, IdP communication errors, 429, 5xx and network errors; an
 * `InvalidIdentityToken` answer re-reads the file and tries once more). Wrap the provider in
 * `refreshing()` from `@podcreds/refresh` to cache and refresh in the background.
 *
 * Errors (`CredentialsError`): `ERR_NOT_CONFIGURED` (no role ARN or token file;
 * `tryNextLink`), `ERR_INVALID_CONFIG` (a malformed value in the environment), `ERR_TOKEN_FILE`,
 * `ERR_TOKEN_EXPIRED` (the token's `exp` has passed; STS is not called), `ERR_STS` (with
 * `stsCode`, `status` and `retryable`), `ERR_HTTP_STATUS`, `ERR_RESPONSE_INVALID`,
 * `ERR_HTTP_TIMEOUT`, `ERR_NETWORK`, `ERR_ABORTED`. A malformed option throws a `TypeError` here.
 *
 * @param options - see {@link FromWebIdentityOptions}
 * @returns a provider usable as the `credentials` of any AWS SDK v3 client, with `describe()`
 * @example
 * ```ts
 * import { S3Client } from '@aws-sdk/client-s3'
 * import { fromWebIdentity } from '@podcreds/web-identity'
 *
 * const s3 = new S3Client({ credentials: fromWebIdentity() })
 * ```
 */
export function fromWebIdentity(
  options: FromWebIdentityOptions = {},
): DescribableProvider<TemporaryCredentials> {
  validateOptions(options)
  const clock = options.clock ?? systemClock
  const random = options.random ?? systemRandom
  const logger = options.logger
  const timeoutMs = options.timeoutMs ?? DEFAULT_STS_TIMEOUT_MS
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_STS_CONNECT_TIMEOUT_MS
  const maxAttempts = options.maxAttempts ?? DEFAULT_STS_MAX_ATTEMPTS
  const policyArns = options.policyArns?.map((descriptor) => ({ arn: descriptor.arn }))
  const endpointOption = options.endpoint instanceof URL ? new URL(options.endpoint.href) : options.endpoint

  const resolveConfig = (callerRegion: string | undefined): CallConfig => {
    const env = options.env ?? process.env
    const roleArn = options.roleArn ?? readEnv(env, 'AWS_ROLE_ARN')
    const tokenFile = options.tokenFile ?? readEnv(env, 'AWS_WEB_IDENTITY_TOKEN_FILE')
    if (roleArn === undefined || tokenFile === undefined) {
      throw new CredentialsError(`web identity is not configured: ${missing(roleArn, tokenFile)}`, {
        code: 'ERR_NOT_CONFIGURED',
      })
    }
    if (options.roleArn === undefined && !isRoleArn(roleArn)) {
      throw new CredentialsError(
        `AWS_ROLE_ARN must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>), got ${quote(roleArn)}`,
        { code: 'ERR_INVALID_CONFIG' },
      )
    }
    let roleSessionName = options.roleSessionName
    if (roleSessionName === undefined) {
      roleSessionName = readEnv(env, 'AWS_ROLE_SESSION_NAME')
      if (roleSessionName !== undefined && !isSessionName(roleSessionName)) {
        throw new CredentialsError(
          `AWS_ROLE_SESSION_NAME must be 2 to 64 characters of [\\w+=,.@-], got ${quote(roleSessionName)}`,
          { code: 'ERR_INVALID_CONFIG' },
        )
      }
    }
    // The AWS SDK for JS's order (issue 19): the option, the calling client's region, then the
    // environment (its web-identity role assumer: region ?? parentRegion ?? the env/ini default).
    let region = options.region
    let regionSource = 'region option'
    if (region === undefined && callerRegion !== undefined) {
      region = callerRegion
      regionSource = "the calling client's region"
    }
    if (region === undefined) {
      const fromEnv = envRegion(env)
      region = fromEnv?.region
      regionSource = fromEnv?.name ?? 'none'
    }
    const endpoint = resolveStsEndpoint({
      env,
      ...(region === undefined ? {} : { region }),
      ...(endpointOption === undefined ? {} : { endpoint: endpointOption }),
    })
    return { env, roleArn, tokenFile, roleSessionName, region, regionSource, endpoint }
  }

  const readCheckedToken = async (tokenFile: string): Promise<string> => {
    const token = await readToken(
      tokenFile,
      options.readFile === undefined ? {} : { readFile: options.readFile },
    )
    const exp = await expiryOf(token)
    if (exp !== undefined && exp * 1000 <= clock.now()) {
      throw new CredentialsError(
        `the web identity token in ${tokenFile} expired at ${isoSeconds(exp)}; is kubelet still rotating it?`,
        { code: 'ERR_TOKEN_EXPIRED' },
      )
    }
    return token
  }

  const transportOptions = { transport: options.transport, dispatcher: options.dispatcher, connectTimeoutMs }

  const provider = async (identityProperties?: Record<string, unknown>): Promise<TemporaryCredentials> => {
    const config = resolveConfig(await callerRegionOf(identityProperties))
    const { endpoint, roleArn, tokenFile } = config
    if (endpoint.warning !== undefined) logger?.warn?.(`web-identity: ${endpoint.warning}`, { roleArn })
    let token = await readCheckedToken(tokenFile)
    const { transport, via } = await stsTransport(transportOptions, config.env)
    const where = describeUrl(endpoint.url)
    const roleSessionName = config.roleSessionName ?? generateSessionName(clock, random)
    logger?.debug?.('web-identity: assuming role', {
      roleArn,
      roleSessionName,
      tokenFile,
      endpoint: where,
      endpointSource: endpoint.source,
      via,
    })

    const exchange = async (webIdentityToken: string): Promise<TemporaryCredentials> => {
      const response = await transport(
        {
          url: endpoint.url,
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
            accept: 'text/xml',
          },
          body: formBody({
            roleArn,
            roleSessionName,
            webIdentityToken,
            durationSeconds: options.durationSeconds,
            policy: options.policy,
            policyArns,
            providerId: options.providerId,
          }),
        },
        {
          timeoutMs,
          connectTimeoutMs,
          clock,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        },
      )
      return readStsResponse(response.status, response.body, where, roleArn, [webIdentityToken], clock.now())
    }

    let reread = false
    return await retryStsCall(
      async () => {
        try {
          return await exchange(token)
        } catch (error) {
          // A rotation race: kubelet swapped the token between our read and STS's check, or STS
          // saw the old one. Re-read the file once and try again at once; a second rejection stands.
          if (reread || !isInvalidIdentityToken(error)) throw error
          reread = true
          logger?.debug?.('web-identity: STS rejected the token; re-reading the token file once', {
            tokenFile,
          })
          token = await readCheckedToken(tokenFile)
          return await exchange(token)
        }
      },
      { maxAttempts, clock, random, signal: options.signal, logger, label: 'web-identity', roleArn },
    )
  }

  const describe = async (): Promise<SourceDescription> => {
    let config: CallConfig
    try {
      config = resolveConfig(undefined)
    } catch (error) {
      if (error instanceof CredentialsError && error.code === 'ERR_NOT_CONFIGURED') {
        // Half a configuration is worth showing: it is usually a typo in the other variable.
        const env = options.env ?? process.env
        const details: Record<string, string> = {}
        const roleArn = options.roleArn ?? readEnv(env, 'AWS_ROLE_ARN')
        const tokenFile = options.tokenFile ?? readEnv(env, 'AWS_WEB_IDENTITY_TOKEN_FILE')
        if (roleArn !== undefined) details.roleArn = roleArn
        if (tokenFile !== undefined) details.tokenFile = tokenFile
        return { configured: false, reason: error.message, details }
      }
      throw error
    }
    const { endpoint, roleArn, tokenFile } = config
    const token = await readCheckedToken(tokenFile)
    const details: Record<string, string> = {
      roleArn,
      roleArnSource: options.roleArn === undefined ? 'AWS_ROLE_ARN' : 'roleArn option',
      tokenFile,
      tokenFileSource: options.tokenFile === undefined ? 'AWS_WEB_IDENTITY_TOKEN_FILE' : 'tokenFile option',
      roleSessionName: config.roleSessionName ?? '(generated per call)',
      region: config.region ?? '(none)',
      regionSource: config.regionSource,
      // Origin and path only: an endpoint variable may carry user:password (issue 11).
      endpoint: describeUrl(endpoint.url),
      endpointSource: endpoint.source,
    }
    if (endpoint.warning !== undefined) details.warning = endpoint.warning
    Object.assign(details, await tokenDetails(token, clock.now()))
    Object.assign(details, describeStsProxy(transportOptions, config.env, endpoint.url))
    return {
      configured: true,
      reason: `would assume ${roleArn} with the token in ${tokenFile} through STS at ${describeUrl(endpoint.url)}`,
      details,
    }
  }

  return Object.assign(provider, { describe })
}

function validateOptions(options: FromWebIdentityOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  validateString('tokenFile', options.tokenFile)
  validateString('roleArn', options.roleArn)
  if (options.roleArn !== undefined && !isRoleArn(options.roleArn)) {
    throw new TypeError(
      `roleArn must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>), got ${quote(options.roleArn)}`,
    )
  }
  validateString('roleSessionName', options.roleSessionName)
  if (options.roleSessionName !== undefined && !isSessionName(options.roleSessionName)) {
    throw new TypeError(
      `roleSessionName must be 2 to 64 characters of [\\w+=,.@-], got ${quote(options.roleSessionName)}`,
    )
  }
  validateString('region', options.region)
  if (options.region !== undefined && !isRegion(options.region)) {
    throw new TypeError(`region must be a region code such as us-east-1, got ${quote(options.region)}`)
  }
  if (options.endpoint !== undefined) {
    if (
      (typeof options.endpoint !== 'string' && !(options.endpoint instanceof URL)) ||
      parseEndpoint(options.endpoint) === undefined
    ) {
      throw new TypeError('endpoint must be an absolute http: or https: URL')
    }
  }
  validateInteger('durationSeconds', options.durationSeconds, 900, 43_200)
  validateString('policy', options.policy)
  if (options.policy !== undefined && options.policy.length > MAX_POLICY_LENGTH) {
    throw new TypeError(
      `policy must be at most ${MAX_POLICY_LENGTH} characters, got ${options.policy.length}`,
    )
  }
  if (options.policyArns !== undefined) {
    if (!Array.isArray(options.policyArns) || options.policyArns.length > MAX_POLICY_ARNS) {
      throw new TypeError(`policyArns must be an array of at most ${MAX_POLICY_ARNS} { arn } objects`)
    }
    options.policyArns.forEach((descriptor: unknown, index) => {
      const arn = (descriptor as { arn?: unknown } | null)?.arn
      if (typeof arn !== 'string' || !isPolicyArn(arn)) {
        throw new TypeError(
          `policyArns[${index}].arn must be an IAM policy ARN (arn:aws:iam::<account>:policy/<name>)`,
        )
      }
    })
  }
  validateString('providerId', options.providerId)
  if (
    options.providerId !== undefined &&
    (options.providerId.length < 4 || options.providerId.length > 2048)
  ) {
    throw new TypeError('providerId must be 4 to 2048 characters')
  }
  validateEnv('env', options.env)
  validateMilliseconds('timeoutMs', options.timeoutMs, { min: 1 })
  validateMilliseconds('connectTimeoutMs', options.connectTimeoutMs, { min: 1 })
  validateInteger('maxAttempts', options.maxAttempts, 1, 10)
  validateClock('clock', options.clock)
  validateRandom('random', options.random)
  validateLogger('logger', options.logger)
  validateSignal('signal', options.signal)
  if (
    options.dispatcher !== undefined &&
    (typeof options.dispatcher !== 'object' ||
      options.dispatcher === null ||
      typeof (options.dispatcher as { dispatch?: unknown }).dispatch !== 'function')
  ) {
    throw new TypeError('dispatcher must be an undici Dispatcher')
  }
  validateFunction('transport', options.transport)
  validateFunction('readFile', options.readFile)
}

function missing(roleArn: string | undefined, tokenFile: string | undefined): string {
  const names: string[] = []
  if (roleArn === undefined) names.push('no role ARN (roleArn option or AWS_ROLE_ARN)')
  if (tokenFile === undefined) names.push('no token file (tokenFile option or AWS_WEB_IDENTITY_TOKEN_FILE)')
  return names.join(' and ')
}

// The decoder (and the jose subpaths under it) loads on the first call, never at import time
// (DESIGN "Cold-start budget"); the call path reads the file through `@podcreds/token/read`.
let tokenModule: Promise<typeof import('@podcreds/token')> | undefined

// Tokens that are not JWTs (OAuth 2.0 access tokens with ProviderId) are sent as they are: STS
// judges them. Only a decodable token's claims are used.
async function claimsOf(token: string): Promise<TokenClaims | undefined> {
  tokenModule ??= import('@podcreds/token')
  const { decodeToken } = await tokenModule
  try {
    return decodeToken(token).claims
  } catch {
    return undefined
  }
}

async function expiryOf(token: string): Promise<number | undefined> {
  const exp = (await claimsOf(token))?.exp
  return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined
}

// Claims only, scrubbed of control characters (they reach `podcreds doctor` and explain()'s
// text); a token that is not a JWT (sent to STS as is) shows as `tokenFormat: 'opaque'`.
async function tokenDetails(token: string, now: number): Promise<Record<string, string>> {
  tokenModule ??= import('@podcreds/token')
  const { describeTokenClaims } = await tokenModule
  return describeTokenClaims(token, { now })
}

function isoSeconds(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000)
  return Number.isNaN(date.getTime()) ? String(epochSeconds) : date.toISOString()
}
