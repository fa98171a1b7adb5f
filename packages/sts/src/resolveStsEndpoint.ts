import type { Env } from '@podcreds/core'
import { CredentialsError, readEnv } from '@podcreds/core'
import { envRegion, quote, readBoolean } from './internal/config.js'
import { GLOBAL_REGION, isRegion, parseEndpoint } from './internal/validate.js'

/** Input of {@link resolveStsEndpoint}. */
export interface ResolveStsEndpointInput {
  /**
   * The region whose STS endpoint to use. When absent, `AWS_REGION`, then `AWS_DEFAULT_REGION`
   * from `env`. `aws-global` selects the global endpoint.
   */
  region?: string
  /** The environment to read. @defaultValue `process.env` */
  env?: Env
  /** An explicit endpoint URL; beats every environment variable. */
  endpoint?: string | URL
}

/** Where STS requests go, and why. */
export interface StsEndpoint {
  /** The endpoint URL requests are `POST`ed to. */
  url: URL
  /**
   * Why this URL, for humans: `'endpoint option'`, `'AWS_ENDPOINT_URL_STS'`,
   * `'AWS_ENDPOINT_URL'`, `'regional endpoint of <region>'` (with `FIPS` / `dual-stack` noted),
   * a global-endpoint reason, or the no-region fallback.
   */
  source: string
  /** The region the URL was built for; absent for a configured endpoint URL or the global one. */
  region?: string
  /**
   * Set when the configuration is probably not what was meant: no region at all, or an
   * `AWS_STS_REGIONAL_ENDPOINTS` other than `regional`/`legacy` (ignored, as the AWS SDK for JS does).
   */
  warning?: string
}

/** The region the AWS SDK falls back to when none is configured. @defaultValue 'us-east-1' */
export const DEFAULT_STS_REGION = 'us-east-1'

const GLOBAL_URL = 'https://sts.amazonaws.com'

interface Partition {
  readonly pattern: RegExp
  readonly dnsSuffix: string
  readonly dualStackDnsSuffix: string
  readonly govCloud?: true
}

// From the AWS partitions table (`partitions.json` of the SDKs' endpoint rules): the first
// matching pattern wins, anything else is the commercial `aws` partition.
const PARTITIONS: readonly Partition[] = [
  {
    pattern: /^cn-\w+-\d+$/,
    dnsSuffix: 'amazonaws.com.cn',
    dualStackDnsSuffix: 'api.amazonwebservices.com.cn',
  },
  { pattern: /^us-gov-\w+-\d+$/, dnsSuffix: 'amazonaws.com', dualStackDnsSuffix: 'api.aws', govCloud: true },
  { pattern: /^us-iso-\w+-\d+$/, dnsSuffix: 'c2s.ic.gov', dualStackDnsSuffix: 'api.aws.ic.gov' },
  { pattern: /^us-isob-\w+-\d+$/, dnsSuffix: 'sc2s.sgov.gov', dualStackDnsSuffix: 'api.aws.scloud' },
  { pattern: /^eu-isoe-\w+-\d+$/, dnsSuffix: 'cloud.adc-e.uk', dualStackDnsSuffix: 'api.cloud-aws.adc-e.uk' },
  { pattern: /^us-isof-\w+-\d+$/, dnsSuffix: 'csp.hci.ic.gov', dualStackDnsSuffix: 'api.aws.hci.ic.gov' },
  { pattern: /^eusc-de-\w+-\d+$/, dnsSuffix: 'amazonaws.eu', dualStackDnsSuffix: 'api.amazonwebservices.eu' },
]
const COMMERCIAL: Partition = { pattern: /$/, dnsSuffix: 'amazonaws.com', dualStackDnsSuffix: 'api.aws' }

/**
 * Resolves the STS endpoint the way the AWS SDKs do, without any network call: an explicit
 * `endpoint`, then `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL` (both skipped when
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`); otherwise the regional endpoint of the region,
 * partition-aware (`sts.cn-north-1.amazonaws.com.cn`, GovCloud), with `AWS_USE_FIPS_ENDPOINT`
 * (`sts-fips.<region>.amazonaws.com`; GovCloud's regional endpoints are FIPS already) and
 * `AWS_USE_DUALSTACK_ENDPOINT` (`sts.<region>.api.aws`). The global `https://sts.amazonaws.com`
 * only for the region `aws-global`, or for `AWS_STS_REGIONAL_ENDPOINTS=legacy` with no region.
 * No region at all: `us-east-1`'s regional endpoint and a `warning`. Another
 * `AWS_STS_REGIONAL_ENDPOINTS` value than `regional`/`legacy` is ignored with a `warning`, as the AWS
 * SDK for JS ignores it. Equal to the AWS SDK for JS's STS endpoint resolver for every region it
 * knows, with FIPS and dual-stack (a test compares them).
 *
 * A malformed `region` or `endpoint` argument throws a `TypeError`; a malformed value in `env`
 * throws a `CredentialsError` with code `ERR_INVALID_CONFIG`.
 *
 * @param input - region, environment and explicit endpoint
 * @returns the URL, why it was chosen, and a warning when no region was found
 * @example
 * ```ts
 * const { url, source } = resolveStsEndpoint({ region: 'eu-west-1', env: {} })
 * // url.href === 'https://sts.eu-west-1.amazonaws.com/', source === 'regional endpoint of eu-west-1'
 * ```
 */
export function resolveStsEndpoint(input: ResolveStsEndpointInput = {}): StsEndpoint {
  const env = input.env ?? process.env
  if (input.endpoint !== undefined) {
    const url = parseEndpoint(input.endpoint)
    if (url === undefined) throw new TypeError('endpoint must be an absolute http: or https: URL')
    return { url, source: 'endpoint option' }
  }
  if (input.region !== undefined && (typeof input.region !== 'string' || !isRegion(input.region))) {
    throw new TypeError(`region must be a region code such as us-east-1, got ${describeValue(input.region)}`)
  }
  if (readBoolean(env, 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS') !== true) {
    for (const name of ['AWS_ENDPOINT_URL_STS', 'AWS_ENDPOINT_URL']) {
      const value = readEnv(env, name)
      if (value === undefined) continue
      const url = parseEndpoint(value)
      if (url === undefined) {
        throw new CredentialsError(`${name} must be an absolute http: or https: URL`, {
          code: 'ERR_INVALID_CONFIG',
        })
      }
      return { url, source: name }
    }
  }

  const region = input.region ?? envRegion(env)?.region
  const fips = readBoolean(env, 'AWS_USE_FIPS_ENDPOINT') === true
  const dualStack = readBoolean(env, 'AWS_USE_DUALSTACK_ENDPOINT') === true
  const rawMode = readEnv(env, 'AWS_STS_REGIONAL_ENDPOINTS')?.toLowerCase()
  // The AWS SDK for JS ignores any other value (issue 19): so do we, with a warning, as regional.
  const mode = rawMode === 'legacy' || rawMode === 'regional' ? rawMode : undefined
  const modeWarning =
    rawMode === undefined || mode !== undefined
      ? undefined
      : `AWS_STS_REGIONAL_ENDPOINTS must be "regional" or "legacy", got ${JSON.stringify(rawMode.slice(0, 32))}; using regional endpoints as the AWS SDK does`
  const warn = (result: StsEndpoint): StsEndpoint => {
    if (modeWarning === undefined) return result
    return {
      ...result,
      warning: result.warning === undefined ? modeWarning : `${result.warning}; ${modeWarning}`,
    }
  }

  if (region === GLOBAL_REGION && !fips && !dualStack) {
    return warn({ url: new URL(GLOBAL_URL), source: 'global endpoint (region aws-global)' })
  }
  if (region === undefined) {
    // The SDKs' endpoint rules use the global endpoint only without FIPS and dual-stack.
    if (mode === 'legacy' && !fips && !dualStack) {
      return {
        url: new URL(GLOBAL_URL),
        source: 'global endpoint (AWS_STS_REGIONAL_ENDPOINTS=legacy, no region)',
      }
    }
    const warning =
      `no region is configured (region option, AWS_REGION, AWS_DEFAULT_REGION or the calling client's ` +
      `region); using ${DEFAULT_STS_REGION}'s STS endpoint as the AWS SDK does`
    return warn({
      url: regionalUrl(DEFAULT_STS_REGION, fips, dualStack),
      source: `no region: regional endpoint of ${DEFAULT_STS_REGION}${variant(fips, dualStack)}`,
      region: DEFAULT_STS_REGION,
      warning,
    })
  }
  return warn({
    url: regionalUrl(region, fips, dualStack),
    source: `regional endpoint of ${region}${variant(fips, dualStack)}`,
    region,
  })
}

function regionalUrl(region: string, fips: boolean, dualStack: boolean): URL {
  const partition = PARTITIONS.find((p) => p.pattern.test(region)) ?? COMMERCIAL
  if (fips && dualStack) return new URL(`https://sts-fips.${region}.${partition.dualStackDnsSuffix}`)
  // GovCloud: the STS rules answer FIPS with the ordinary regional host, which is FIPS-validated.
  if (fips) {
    return new URL(
      partition.govCloud === true
        ? `https://sts.${region}.amazonaws.com`
        : `https://sts-fips.${region}.${partition.dnsSuffix}`,
    )
  }
  if (dualStack) return new URL(`https://sts.${region}.${partition.dualStackDnsSuffix}`)
  return new URL(`https://sts.${region}.${partition.dnsSuffix}`)
}

function variant(fips: boolean, dualStack: boolean): string {
  if (fips && dualStack) return ' (FIPS, dual-stack)'
  if (fips) return ' (FIPS)'
  return dualStack ? ' (dual-stack)' : ''
}

function describeValue(value: unknown): string {
  return typeof value === 'string' ? quote(value) : typeof value
}
