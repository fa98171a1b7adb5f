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
import { CredentialsError, describeUrl, protectCredentials, redactKeyId } from '@podcreds/core'
import type { ImdsCall } from './internal/imdsClient.js'
import { fetchCredentials, fetchRoleName, fetchToken, SOURCE } from './internal/imdsClient.js'
import { ENV_IMDS_DISABLED } from './internal/imdsEndpoint.js'
import { imdsCallFor, resolveImdsOptions } from './internal/imdsOptions.js'

/** Options of {@link fromInstanceMetadata}. Every option is checked when it is called. */
export interface InstanceMetadataOptions {
  /**
   * The IMDS base URL, e.g. `http://169.254.169.254`. Overrides `AWS_EC2_METADATA_SERVICE_ENDPOINT`.
   * @defaultValue `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else the address of `endpointMode`
   */
  endpoint?: string
  /**
   * `'IPv4'` (`http://169.254.169.254`) or `'IPv6'` (`http://[fd00:ec2::254]`). Overrides
   * `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`; an endpoint, given or from the environment, wins.
   * @defaultValue `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`, else `'IPv4'`
   */
  endpointMode?: 'IPv4' | 'IPv6'
  /**
   * The environment to read `AWS_EC2_METADATA_DISABLED` (set and not `false`: the link is off,
   * as the AWS SDK reads it) and the endpoint variables from, per call.
   * @defaultValue `process.env`
   */
  env?: Env
  /**
   * Limit on each of the three requests (token, role, credentials), in milliseconds. Short, so a
   * machine without IMDS moves on fast (the AWS SDK for JS uses 1 s too).
   * @defaultValue 1000
   */
  timeoutMs?: Milliseconds
  /** Limit on connecting, in milliseconds. @defaultValue 1000 */
  connectTimeoutMs?: Milliseconds
  /**
   * Attempts per request, the first included, in `[1, 10]`; 5xx, 429, timeouts and answers cut
   * short are retried with full jitter. The AWS SDK for JS makes one (`maxRetries: 0`).
   * @defaultValue 1
   */
  maxAttempts?: number
  /**
   * The lifetime asked for the IMDSv2 session token, in seconds, in `[1, 21600]`. The token is
   * used at once and not kept.
   * @defaultValue 21600, as the AWS SDKs ask
   */
  tokenTtlSeconds?: number
  /** Time and timers. @defaultValue `systemClock` */
  clock?: Clock
  /** Jitter for the retry back-off, `[0, 1)`. @defaultValue `systemRandom` */
  random?: Random
  /** Receives debug lines (never a secret). @defaultValue none: silent */
  logger?: Logger
  /** Aborts an in-flight call with `ERR_ABORTED`. */
  signal?: AbortSignal
  /** The HTTP seam. @defaultValue `httpRequest` of `@podcreds/core` (`node:http`, no redirects, 64 KiB cap) */
  transport?: HttpTransport
}

/** @defaultValue 1000 */
export const DEFAULT_IMDS_TIMEOUT_MS: Milliseconds = 1000
/** @defaultValue 21600 */
export const DEFAULT_IMDS_TOKEN_TTL_SECONDS = 21_600

/**
 * Credentials of the EC2 instance role from the **instance metadata service**, IMDSv2 only:
 * `PUT /latest/api/token` (with `x-aws-ec2-metadata-token-ttl-seconds`), then
 * `GET /latest/meta-data/iam/security-credentials/` for the role name and `…/<role>` for its
 * credentials, both with the token. Endpoint and mode from the options or
 * `AWS_EC2_METADATA_SERVICE_ENDPOINT` / `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE` (IPv4
 * `169.254.169.254`, IPv6 `[fd00:ec2::254]`), as the AWS SDK reads them; off when
 * `AWS_EC2_METADATA_DISABLED` is set to anything but `false`.
 *
 * **In a pod, these are the node's credentials** (unless kube2iam/kiam answer on that address):
 * `defaultChain()` of `@podcreds/chain` skips this link inside Kubernetes unless asked for.
 *
 * `ERR_NOT_CONFIGURED` (`tryNextLink`) when disabled, when no IMDS answers the token request
 * (refused, unreachable, timed out — also what a hop limit of 1 looks like from a pod), or when
 * the instance has no role (404). Any other answer that is not credentials stops a chain:
 * `ERR_HTTP_STATUS` (with `status`; redirects are not followed), `ERR_RESPONSE_INVALID` (naming
 * the field, never a value), `ERR_INVALID_CONFIG`. No IMDSv1 fallback. Caches nothing.
 *
 * `describe()` sends nothing; after a call, its details name the role IMDS named.
 *
 * @param options - endpoint, limits and seams; checked now (`TypeError` naming the option)
 * @returns a provider for any AWS SDK v3 client's `credentials`, with `describe()`
 * @example
 * ```ts
 * import { fromInstanceMetadata } from '@podcreds/container'
 *
 * const credentials = await fromInstanceMetadata({ timeoutMs: 500 })()
 * ```
 */
export function fromInstanceMetadata(
  options: InstanceMetadataOptions = {},
): DescribableProvider<TemporaryCredentials> {
  const resolved = resolveImdsOptions(options, { maxAttempts: 1 })
  const { logger } = resolved
  let lastRole: string | undefined

  const callOrSkip = (): ImdsCall => {
    const call = imdsCallFor(resolved)
    if (call === undefined) {
      throw new CredentialsError(`${SOURCE}: disabled by ${ENV_IMDS_DISABLED}`, {
        code: 'ERR_NOT_CONFIGURED',
      })
    }
    return call
  }

  const provider = async (_identityProperties?: Record<string, unknown>): Promise<TemporaryCredentials> => {
    const call = callOrSkip()
    const where = describeUrl(call.endpoint.url)
    logger?.debug?.(`${SOURCE}: requesting an IMDSv2 token`, {
      url: where,
      endpointSource: call.endpoint.origin,
    })
    const token = await fetchToken(call, resolved.tokenTtlSeconds)
    const role = await fetchRoleName(call, token)
    const credentials = await fetchCredentials(call, token, role)
    lastRole = role
    logger?.debug?.(`${SOURCE}: received credentials`, {
      url: where,
      role,
      accessKeyId: redactKeyId(credentials.accessKeyId),
      expiration: credentials.expiration.toISOString(),
    })
    return protectCredentials(credentials)
  }

  const describe = async (): Promise<SourceDescription> => {
    let call: ImdsCall
    try {
      call = callOrSkip()
    } catch (error) {
      if (error instanceof CredentialsError && error.code === 'ERR_NOT_CONFIGURED') {
        return { configured: false, reason: error.message, details: {} }
      }
      throw error
    }
    const details: Record<string, string> = {
      endpoint: describeUrl(call.endpoint.url),
      endpointSource: call.endpoint.origin,
    }
    if (lastRole !== undefined) details['role'] = lastRole
    return {
      configured: true,
      reason: `IMDSv2 at ${details['endpoint']} (${call.endpoint.origin}) will be asked for the instance role${lastRole === undefined ? '' : ` (last answer: ${lastRole})`}`,
      details,
    }
  }

  return Object.assign(provider, { describe })
}
