import type {
  AwsCredentialIdentity,
  Clock,
  DescribableProvider,
  Env,
  HttpTransport,
  IdentityProperties,
  Logger,
  Milliseconds,
  Random,
  SourceDescription,
  TemporaryCredentials,
} from '@podcreds/core'
import {
  CredentialsError,
  describeUrl,
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
import { callerRegionOf, generateSessionName } from './internal/caller.js'
import { envRegion, quote } from './internal/config.js'
import { retryStsCall } from './internal/retryStsCall.js'
import type { StsPolicyDescriptor } from './internal/sts.js'
import { isRejectedSourceKey, readStsResponse } from './internal/sts.js'
import { preloadXmlParser } from './internal/stsXml.js'
import type { UndiciDispatcher } from './internal/transport.js'
import { describeStsProxy, stsTransport } from './internal/transport.js'
import { isPolicyArn, isRegion, isRoleArn, isSessionName, parseEndpoint } from './internal/validate.js'
import type { StsEndpoint } from './resolveStsEndpoint.js'
import { DEFAULT_STS_REGION, resolveStsEndpoint } from './resolveStsEndpoint.js'
import {
  DEFAULT_STS_CONNECT_TIMEOUT_MS,
  DEFAULT_STS_MAX_ATTEMPTS,
  DEFAULT_STS_TIMEOUT_MS,
} from './stsDefaults.js'

/** A session tag, as STS's `Tag`: `Tags.member.N.Key` / `.Value`. */
export interface SessionTag {
  /** 1 to 128 characters of letters, digits, spaces and `_.:/=+-@`. */
  key: string
  /** 0 to 256 characters of the same set. */
  value: string
}

/**
 * Where the credentials that sign `AssumeRole` come from: any credentials provider — a podcreds
 * provider or chain, an AWS SDK provider, or another `fromAssumeRole` (a chain of roles). When it
 * has an `invalidate(key)` method (every `refreshing()` provider does), a key STS rejects as
 * expired or invalid is invalidated there and the call is tried once more.
 */
export type AssumeRoleSource = ((
  identityProperties?: IdentityProperties,
) => Promise<AwsCredentialIdentity>) & {
  /** Drops the cached credentials whose access key id is `key` (see `refreshing()`). */
  invalidate?: (key?: string) => void
  /** The source's own configuration, shown by {@link fromAssumeRole}'s `describe()`. */
  describe?: () => Promise<SourceDescription>
}

/** Options of {@link fromAssumeRole}. */
export interface FromAssumeRoleOptions {
  /** The credentials that sign the `AssumeRole` call (see {@link AssumeRoleSource}). Required. */
  source: AssumeRoleSource
  /** The role to assume, `arn:<partition>:iam::<account>:role/<path/name>`. Required. */
  roleArn: string
  /**
   * The session name, 2–64 characters of `[\w+=,.@-]`.
   * @defaultValue a generated `podcreds-<epoch ms>-<random hex>`
   */
  roleSessionName?: string
  /** The external id the role's trust policy asks for (`sts:ExternalId`), 2–1224 characters of `[\w+=,.@:/-]`. */
  externalId?: string
  /**
   * Lifetime of the session, in **seconds** (the STS wire unit), 900 to 43 200, and at most the
   * role's `MaxSessionDuration`. AWS caps a role-chained session (the source's credentials are
   * themselves a role session, as in every pod) at 3600: a longer value is refused before calling
   * STS when the source's credentials carry a session token.
   * @defaultValue STS's default, 3600
   */
  durationSeconds?: number
  /** An inline session policy (JSON, at most 2048 characters). */
  policy?: string
  /** Up to 10 managed session policies. */
  policyArns?: readonly StsPolicyDescriptor[]
  /** Up to 50 session tags; keys are unique regardless of case. */
  tags?: readonly SessionTag[]
  /** Keys of `tags` that pass on to later sessions in a chain of roles. */
  transitiveTagKeys?: readonly string[]
  /** The source identity to stamp on the session, 2–64 characters of `[\w+=,.@-]`. */
  sourceIdentity?: string
  /**
   * The region whose STS endpoint to call, and the SigV4 signing region.
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
  /** The environment, read on every call. @defaultValue `process.env` */
  env?: Env
  /** Whole STS request, per attempt, in milliseconds. @defaultValue 5000 */
  timeoutMs?: Milliseconds
  /** Until the connection is up, in milliseconds. @defaultValue 1000 */
  connectTimeoutMs?: Milliseconds
  /** STS attempts per call, the first included; 1 means no retry. @defaultValue 3 */
  maxAttempts?: number
  /** Time (the signing date, expiry checks) and timers (timeouts, back-off). @defaultValue systemClock */
  clock?: Clock
  /** Jitter source. @defaultValue systemRandom */
  random?: Random
  /** Structured logger; never receives a secret. */
  logger?: Logger
  /** Aborts calls with `ERR_ABORTED`. */
  signal?: AbortSignal
  /**
   * An undici dispatcher (e.g. a `ProxyAgent`) to send STS requests through (undici is an
   * optional peer dependency). Without it, the proxy variables are honoured as by
   * `fromWebIdentity` (Node's own agents on Node 22.21+/24.5+, undici on an older Node).
   */
  dispatcher?: UndiciDispatcher
  /**
   * The HTTP seam. Takes precedence over `dispatcher` and proxy variables.
   * @defaultValue core's `httpRequest` (proxy-aware as `fromWebIdentity`'s), or an undici
   * transport for a `dispatcher`
   */
  transport?: HttpTransport
}

/** AWS's cap on a session assumed with role-session credentials (role chaining), in seconds. */
export const ROLE_CHAINING_MAX_DURATION_SECONDS = 3600

const MAX_POLICY_LENGTH = 2048
const MAX_POLICY_ARNS = 10
const MAX_TAGS = 50
// STS's patterns (AssumeRole API reference): ExternalId [\w+=,.@:\/-]*, 2–1224; tag keys and
// values [\p{L}\p{Z}\p{N}_.:/=+\-@]*, 1–128 and 0–256; SourceIdentity [\w+=,.@-]*, 2–64.
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u
const SOURCE_IDENTITY = /^[\w+=,.@-]{2,64}$/

/**
 * Cross-account and role chaining: gets credentials from `source`, signs an STS `AssumeRole`
 * request with them (SigV4 by `@smithy/signature-v4`, the AWS SDK's own signer, loaded on the
 * first call) and returns the role's temporary credentials with `accountId` and `expiration`.
 *
 * Like `fromContainer`, it is a source and does not cache: every call assumes the role once.
 * Wrap it in `refreshing()` — `refreshing(fromAssumeRole({ source: defaultChain(), roleArn }))` is
 * the cross-account provider of a Pod Identity or IRSA pod.
 *
 * STS errors surface as `ERR_STS` with `stsCode`: `Throttling`, 429, 5xx and network errors are
 * retried with full-jitter back-off; `AccessDenied` and the other non-recoverable codes are not.
 * When STS rejects the source's key (`ExpiredToken`, `InvalidClientTokenId`), the source's
 * `invalidate(key)` is called when it has one and the call is tried once more. A failing source
 * stops the call with the source's code and the source's error as `cause`. A malformed option
 * throws a `TypeError` here; secrets never appear in errors, logs or `describe()`.
 *
 * @param options - see {@link FromAssumeRoleOptions}
 * @returns a provider usable as the `credentials` of any AWS SDK v3 client, with `describe()`
 * @example
 * ```ts
 * import { defaultChain } from '@podcreds/chain'
 * import { refreshing } from '@podcreds/refresh'
 * import { fromAssumeRole } from '@podcreds/sts'
 *
 * const roleArn = 'arn:aws:iam::444455556666:role/reports-reader'
 * const credentials = refreshing(fromAssumeRole({ source: defaultChain(), roleArn }))
 * ```
 */
export function fromAssumeRole(options: FromAssumeRoleOptions): DescribableProvider<TemporaryCredentials> {
  validateOptions(options)
  const { source, roleArn } = options
  const clock = options.clock ?? systemClock
  const random = options.random ?? systemRandom
  const logger = options.logger
  const timeoutMs = options.timeoutMs ?? DEFAULT_STS_TIMEOUT_MS
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_STS_CONNECT_TIMEOUT_MS
  const maxAttempts = options.maxAttempts ?? DEFAULT_STS_MAX_ATTEMPTS
  const endpointOption = options.endpoint instanceof URL ? new URL(options.endpoint.href) : options.endpoint
  const transportOptions = { transport: options.transport, dispatcher: options.dispatcher, connectTimeoutMs }
  const fields = formFields(options)

  const resolveConfig = (
    callerRegion: string | undefined,
  ): { env: Env; endpoint: StsEndpoint; region: string | undefined; regionSource: string } => {
    const env = options.env ?? process.env
    // The AWS SDK for JS's order (issue 19): the option, the calling client's region, then the
    // environment (fromTemporaryCredentials: clientConfig.region ?? callerClientConfig.region ?? env).
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
    return { env, endpoint, region, regionSource }
  }

  const sourceCredentials = async (
    identityProperties: IdentityProperties | undefined,
  ): Promise<AwsCredentialIdentity> => {
    let credentials: AwsCredentialIdentity
    try {
      credentials = await source(identityProperties)
    } catch (error) {
      throw sourceFailed(roleArn, error)
    }
    if (
      typeof credentials !== 'object' ||
      credentials === null ||
      typeof credentials.accessKeyId !== 'string' ||
      credentials.accessKeyId === '' ||
      typeof credentials.secretAccessKey !== 'string' ||
      credentials.secretAccessKey === ''
    ) {
      throw new CredentialsError(
        `fromAssumeRole(${roleArn}): the source returned no usable credentials (accessKeyId and secretAccessKey are required)`,
        { code: 'ERR_RESPONSE_INVALID' },
      )
    }
    // AWS caps role chaining at 1 hour and STS refuses more with a ValidationError; we refuse it
    // before sending, naming the option (issue 19). Temporary credentials (a session token) are a
    // role session from every pod source (Pod Identity, IRSA, another fromAssumeRole).
    const duration = options.durationSeconds
    if (
      duration !== undefined &&
      duration > ROLE_CHAINING_MAX_DURATION_SECONDS &&
      typeof credentials.sessionToken === 'string' &&
      credentials.sessionToken !== ''
    ) {
      throw new CredentialsError(
        `fromAssumeRole(${roleArn}): durationSeconds ${duration} exceeds the ${ROLE_CHAINING_MAX_DURATION_SECONDS} s AWS allows for a role-chained session (the source's credentials are a role session); use at most ${ROLE_CHAINING_MAX_DURATION_SECONDS}`,
        { code: 'ERR_INVALID_CONFIG' },
      )
    }
    return credentials
  }

  const provider = async (identityProperties?: IdentityProperties): Promise<TemporaryCredentials> => {
    // The signer and the XML parser load in parallel with the source's call (first call only).
    const signer = import('./internal/sign.js')
    signer.catch(() => {})
    preloadXmlParser()
    const config = resolveConfig(await callerRegionOf(identityProperties))
    const { endpoint } = config
    if (endpoint.warning !== undefined) logger?.warn?.(`assume-role: ${endpoint.warning}`, { roleArn })
    // The SDK signs the global endpoint (region aws-global) for us-east-1, and a configured
    // endpoint URL for the configured region.
    const signingRegion =
      endpoint.region ??
      (config.region === undefined || config.region === 'aws-global' ? DEFAULT_STS_REGION : config.region)
    const { transport, via } = await stsTransport(transportOptions, config.env)
    const where = describeUrl(endpoint.url)
    const roleSessionName = options.roleSessionName ?? generateSessionName(clock, random)
    const body = formBody(fields, roleSessionName)
    let credentials = await sourceCredentials(identityProperties)
    logger?.debug?.('assume-role: assuming role', {
      roleArn,
      roleSessionName,
      sourceAccessKeyId: redactKeyId(credentials.accessKeyId),
      endpoint: where,
      endpointSource: endpoint.source,
      via,
    })

    const exchange = async (signWith: AwsCredentialIdentity): Promise<TemporaryCredentials> => {
      const { signStsRequest } = await signer
      const headers = await signStsRequest({
        url: endpoint.url,
        headers: {
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          accept: 'text/xml',
        },
        body,
        credentials: signWith,
        region: signingRegion,
        now: clock.now(),
      })
      const response = await transport(
        { url: endpoint.url, method: 'POST', headers, body },
        {
          timeoutMs,
          connectTimeoutMs,
          clock,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        },
      )
      // The source's key id too: printable only shortened (issue 11's canary rule), and an STS or a
      // proxy that echoes the Authorization header would print it whole.
      const secrets = [signWith.secretAccessKey, signWith.sessionToken ?? '', signWith.accessKeyId].filter(
        (s) => s !== '',
      )
      return readStsResponse(
        response.status,
        response.body,
        where,
        roleArn,
        secrets,
        clock.now(),
        'AssumeRole',
      )
    }

    let invalidated = false
    return await retryStsCall(
      async () => {
        try {
          return await exchange(credentials)
        } catch (error) {
          // The source's key was rejected (expired early, revoked, or a cached set STS no longer
          // honours): drop it at the source and try once with fresh credentials (issue 19, as
          // credentialsPlugin does for AWS calls).
          if (invalidated || !isRejectedSourceKey(error) || typeof source.invalidate !== 'function')
            throw error
          invalidated = true
          logger?.debug?.('assume-role: STS rejected the source key; invalidating it and trying once more', {
            roleArn,
            sourceAccessKeyId: redactKeyId(credentials.accessKeyId),
            stsCode: (error as CredentialsError).stsCode,
          })
          source.invalidate(credentials.accessKeyId)
          credentials = await sourceCredentials(identityProperties)
          return await exchange(credentials)
        }
      },
      { maxAttempts, clock, random, signal: options.signal, logger, label: 'assume-role', roleArn },
    )
  }

  const describe = async (): Promise<SourceDescription> => {
    const config = resolveConfig(undefined)
    const { endpoint } = config
    const details: Record<string, string> = {
      roleArn,
      roleSessionName: options.roleSessionName ?? '(generated per call)',
      region: config.region ?? '(none)',
      regionSource: config.regionSource,
      // Origin and path only: an endpoint variable may carry user:password (issue 11).
      endpoint: describeUrl(endpoint.url),
      endpointSource: endpoint.source,
    }
    if (options.externalId !== undefined) details.externalId = '(set)'
    if (options.durationSeconds !== undefined) details.durationSeconds = String(options.durationSeconds)
    if (endpoint.warning !== undefined) details.warning = endpoint.warning
    Object.assign(details, describeStsProxy(transportOptions, config.env, endpoint.url))
    let sourceReason = 'a credentials provider'
    if (typeof source.describe === 'function') {
      const inner = await source.describe()
      sourceReason = inner.reason
      for (const [key, value] of Object.entries(inner.details)) details[`source.${key}`] = value
    }
    return {
      configured: true,
      reason: `would assume ${roleArn} through STS at ${describeUrl(endpoint.url)}, signed with credentials from ${sourceReason}`,
      details,
    }
  }

  return Object.assign(provider, { describe })
}

/** The form fields that do not change between calls, in STS's parameter order. */
function formFields(options: FromAssumeRoleOptions): [string, string][] {
  const fields: [string, string][] = [['RoleArn', options.roleArn]]
  if (options.durationSeconds !== undefined) fields.push(['DurationSeconds', String(options.durationSeconds)])
  if (options.externalId !== undefined) fields.push(['ExternalId', options.externalId])
  if (options.policy !== undefined) fields.push(['Policy', options.policy])
  // Query protocol lists are 1-based: PolicyArns.member.1.arn, Tags.member.1.Key, …
  options.policyArns?.forEach((descriptor, index) => {
    fields.push([`PolicyArns.member.${index + 1}.arn`, descriptor.arn])
  })
  options.tags?.forEach((tag, index) => {
    fields.push([`Tags.member.${index + 1}.Key`, tag.key], [`Tags.member.${index + 1}.Value`, tag.value])
  })
  options.transitiveTagKeys?.forEach((key, index) => {
    fields.push([`TransitiveTagKeys.member.${index + 1}`, key])
  })
  if (options.sourceIdentity !== undefined) fields.push(['SourceIdentity', options.sourceIdentity])
  return fields
}

function formBody(fields: readonly [string, string][], roleSessionName: string): string {
  const form = new URLSearchParams()
  form.set('Action', 'AssumeRole')
  form.set('Version', '2011-06-15')
  for (const [name, value] of fields) {
    form.set(name, value)
    if (name === 'RoleArn') form.set('RoleSessionName', roleSessionName)
  }
  return form.toString()
}

function sourceFailed(roleArn: string, error: unknown): CredentialsError {
  const message = error instanceof Error ? error.message : String(error)
  const text = scrub(message, [], 300)
  if (error instanceof CredentialsError) {
    return new CredentialsError(`fromAssumeRole(${roleArn}): the source credentials failed: ${text}`, {
      code: error.code,
      tryNextLink: error.tryNextLink,
      retryable: error.retryable,
      ...(error.status === undefined ? {} : { status: error.status }),
      cause: error,
    })
  }
  // An AWS SDK provider's ProviderError: keep its tryNextLink, so chains behave as the SDK's do.
  const tryNextLink = (error as { tryNextLink?: unknown } | null)?.tryNextLink === true
  return new CredentialsError(`fromAssumeRole(${roleArn}): the source credentials failed: ${text}`, {
    code: tryNextLink ? 'ERR_NOT_CONFIGURED' : 'ERR_INVALID_CONFIG',
    tryNextLink,
    cause: error,
  })
}

function validateOptions(options: FromAssumeRoleOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  if (typeof options.source !== 'function') {
    throw new TypeError('source must be a credentials provider (a function returning credentials)')
  }
  if (typeof options.roleArn !== 'string' || !isRoleArn(options.roleArn)) {
    throw new TypeError(
      `roleArn must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>), got ${typeof options.roleArn === 'string' ? quote(options.roleArn) : typeof options.roleArn}`,
    )
  }
  validateString('roleSessionName', options.roleSessionName)
  if (options.roleSessionName !== undefined && !isSessionName(options.roleSessionName)) {
    throw new TypeError(
      `roleSessionName must be 2 to 64 characters of [\\w+=,.@-], got ${quote(options.roleSessionName)}`,
    )
  }
  if (options.externalId !== undefined) {
    // Not echoed: an external id is not a secret by AWS's definition, but it is often treated as one.
    if (typeof options.externalId !== 'string' || !EXTERNAL_ID.test(options.externalId)) {
      throw new TypeError('externalId must be 2 to 1224 characters of [\\w+=,.@:/-]')
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
  const tagKeys = new Set<string>()
  if (options.tags !== undefined) {
    if (!Array.isArray(options.tags) || options.tags.length > MAX_TAGS) {
      throw new TypeError(`tags must be an array of at most ${MAX_TAGS} { key, value } objects`)
    }
    options.tags.forEach((tag: unknown, index) => {
      const { key, value } = (tag ?? {}) as { key?: unknown; value?: unknown }
      if (typeof key !== 'string' || !TAG_KEY.test(key)) {
        throw new TypeError(`tags[${index}].key must be 1 to 128 letters, digits, spaces or _.:/=+-@`)
      }
      if (typeof value !== 'string' || !TAG_VALUE.test(value)) {
        throw new TypeError(`tags[${index}].value must be 0 to 256 letters, digits, spaces or _.:/=+-@`)
      }
      // STS: "Duplicate tag keys" regardless of case.
      if (tagKeys.has(key.toLowerCase()))
        throw new TypeError(`tags[${index}].key ${quote(key)} is a duplicate`)
      tagKeys.add(key.toLowerCase())
    })
  }
  if (options.transitiveTagKeys !== undefined) {
    if (!Array.isArray(options.transitiveTagKeys) || options.transitiveTagKeys.length > MAX_TAGS) {
      throw new TypeError(`transitiveTagKeys must be an array of at most ${MAX_TAGS} tag keys`)
    }
    options.transitiveTagKeys.forEach((key: unknown, index) => {
      if (typeof key !== 'string' || !tagKeys.has(key.toLowerCase())) {
        throw new TypeError(`transitiveTagKeys[${index}] must be the key of one of the tags`)
      }
    })
  }
  if (options.sourceIdentity !== undefined) {
    if (typeof options.sourceIdentity !== 'string' || !SOURCE_IDENTITY.test(options.sourceIdentity)) {
      throw new TypeError('sourceIdentity must be 2 to 64 characters of [\\w+=,.@-]')
    }
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
}
