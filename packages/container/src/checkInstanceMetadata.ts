import type { Clock, Env, HttpTransport, Milliseconds } from '@podcreds/core'
import { CredentialsError, describeUrl } from '@podcreds/core'
import { fetchRoleName, fetchToken } from './internal/imdsClient.js'
import { imdsCallFor, resolveImdsOptions } from './internal/imdsOptions.js'

/** Options of {@link checkInstanceMetadata}. */
export interface CheckInstanceMetadataOptions {
  /** The IMDS base URL. @defaultValue `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else the address of `endpointMode` */
  endpoint?: string
  /** `'IPv4'` or `'IPv6'`. @defaultValue `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`, else `'IPv4'` */
  endpointMode?: 'IPv4' | 'IPv6'
  /** The environment to read the IMDS variables from. @defaultValue `process.env` */
  env?: Env
  /** Limit on each of the two requests, in milliseconds. @defaultValue 1000 */
  timeoutMs?: Milliseconds
  /** Time and timers. @defaultValue `systemClock` */
  clock?: Clock
  /** The HTTP seam. @defaultValue `httpRequest` of `@podcreds/core` */
  transport?: HttpTransport
}

/** What {@link checkInstanceMetadata} found. Never carries a credential or the IMDS token. */
export interface InstanceMetadataProbe {
  /** Whether an IMDS answered with an instance role: its credentials are reachable from here. */
  reachable: boolean
  /** The endpoint probed (origin and path), or the one that would be, when disabled. */
  endpoint: string
  /** Where the endpoint came from (`AWS_EC2_METADATA_SERVICE_ENDPOINT`, `default (IPv4)`, …). */
  endpointSource: string
  /** The instance role IMDS named, when reachable. */
  roleName?: string
  /** Whether `AWS_EC2_METADATA_DISABLED` switches IMDS off for AWS SDKs here (nothing was sent). */
  disabled: boolean
  /** One sentence: what happened. */
  reason: string
}

/**
 * Probes the instance metadata service as a pod would reach it, **without fetching credentials**:
 * one IMDSv2 token `PUT`, then the role name, a single attempt each with a short timeout (for
 * `podcreds doctor`: a node without IMDS access answers within about a second). Resolves; never
 * rejects for what IMDS does (a bad option still throws a `TypeError`).
 *
 * @param options - endpoint, timeout and seams
 * @returns the {@link InstanceMetadataProbe}
 * @example
 * ```ts
 * import { checkInstanceMetadata } from '@podcreds/container'
 *
 * const probe = await checkInstanceMetadata()
 * if (probe.reachable) console.warn(`this pod can reach the instance role ${probe.roleName}`)
 * ```
 */
export async function checkInstanceMetadata(
  options: CheckInstanceMetadataOptions = {},
): Promise<InstanceMetadataProbe> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  for (const key of Object.keys(options)) {
    if (!['endpoint', 'endpointMode', 'env', 'timeoutMs', 'clock', 'transport'].includes(key)) {
      throw new TypeError(`${key} is not an option of checkInstanceMetadata()`)
    }
  }
  const resolved = resolveImdsOptions(options, { maxAttempts: 1 })
  let call: ReturnType<typeof imdsCallFor>
  try {
    call = imdsCallFor(resolved)
  } catch (error) {
    return {
      reachable: false,
      endpoint: '',
      endpointSource: '',
      disabled: false,
      reason: (error as Error).message,
    }
  }
  if (call === undefined) {
    const where = imdsCallFor({
      ...resolved,
      env: { ...(resolved.env ?? process.env), AWS_EC2_METADATA_DISABLED: undefined },
    })
    return {
      reachable: false,
      endpoint: where === undefined ? '' : describeUrl(where.endpoint.url),
      endpointSource: where?.endpoint.origin ?? '',
      disabled: true,
      reason:
        'AWS_EC2_METADATA_DISABLED is set: AWS SDKs do not ask IMDS (nothing was sent; the address itself may still answer)',
    }
  }
  const base = {
    endpoint: describeUrl(call.endpoint.url),
    endpointSource: call.endpoint.origin,
    disabled: false,
  }
  try {
    const token = await fetchToken(call, 60)
    const roleName = await fetchRoleName(call, token)
    return { ...base, reachable: true, roleName, reason: `IMDS answered with the instance role ${roleName}` }
  } catch (error) {
    const reason = error instanceof CredentialsError ? error.message : 'the probe failed'
    return { ...base, reachable: false, reason }
  }
}
