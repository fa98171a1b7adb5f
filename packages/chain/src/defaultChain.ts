import type { ContainerOptions } from '@podcreds/container'
import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  Clock,
  Env,
  Logger,
  Random,
} from '@podcreds/core'
import type { RefreshingProvider, RefreshOptions } from '@podcreds/refresh'
import { refreshing } from '@podcreds/refresh'
import type { FromWebIdentityOptions } from '@podcreds/web-identity'
import { chain } from './chain.js'
import { buildDefaultLinks } from './internal/defaultLinks.js'

/** The name of a link of the default chain, as `explain()` reports it. */
export type LinkName = 'env' | 'web-identity' | 'container' | 'sdk'

/**
 * Options of {@link defaultChain}, nested per link. Every option is checked when
 * `defaultChain()` is called (a `TypeError` naming it, e.g. `container.timeoutMs`).
 */
export interface DefaultChainOptions {
  /**
   * The environment every link reads, per call (a link's own `env` option wins).
   * @defaultValue `process.env`
   */
  env?: Env
  /**
   * Options of the IRSA link, `fromWebIdentity()` of `@podcreds/web-identity`.
   * @defaultValue `{}`: everything from the environment
   */
  webIdentity?: FromWebIdentityOptions
  /**
   * Options of the EKS Pod Identity / ECS link, `fromContainer()` of `@podcreds/container`.
   * @defaultValue `{}`: everything from the environment
   */
  container?: ContainerOptions
  /**
   * Options of the cache and refresh engine, `refreshing()` of `@podcreds/refresh`.
   * @defaultValue `{}`: jittered background refresh with the engine's defaults
   */
  refresh?: RefreshOptions<AwsCredentialIdentity>
  /**
   * The last link: the AWS SDK's own default chain (profiles, SSO, `credential_process`, IMDS)
   * from `@aws-sdk/credential-provider-node`, an optional peer dependency imported only when the
   * link is reached. `false` disables it; a function replaces the import and returns the
   * provider to use (called once per resolve). A failing import skips the link with the reason
   * "fallback unavailable: @aws-sdk/credential-provider-node is not installed". The SDK chain's
   * final "Could not load credentials from any providers" counts as not configured. The SDK reads
   * `process.env` and `~/.aws`, never the `env` option, so with a custom `env` the link is off
   * unless set to `true` (it would answer for another environment than the one given).
   * @defaultValue `true` when `env` is unset or `process.env`; `false` with any other `env`
   */
  sdkFallback?: boolean | (() => Promise<AwsCredentialIdentityProvider>)
  /** Receives debug lines of every link and the engine (never a secret). @defaultValue none: silent */
  logger?: Logger
  /** Time and timers for every link and the engine. @defaultValue `systemClock` */
  clock?: Clock
  /** Jitter for every link and the engine, `[0, 1)`. @defaultValue `systemRandom` */
  random?: Random
}

/**
 * The credentials provider most pods need: environment keys → IRSA web identity → EKS Pod
 * Identity / ECS container endpoint → the AWS SDK's own default chain, the first configured
 * link winning, wrapped in `refreshing()` (jittered background refresh, single-flight,
 * `invalidate()`). With `AWS_PROFILE` set, the SDK fallback goes first, as the AWS SDK does.
 * With IRSA and Pod Identity both set up, IRSA wins, as in the AWS SDK.
 *
 * A link that is not configured is skipped; one that is configured but broken stops the chain
 * with its own error; when every link is skipped the provider rejects with
 * `ERR_CHAIN_EXHAUSTED` naming each link and why. The link that worked is remembered. Use
 * {@link explain} to see why a pod got what it got.
 *
 * @param options - per-link options and shared seams; see {@link DefaultChainOptions}
 * @returns a refreshing provider for any AWS SDK v3 client's `credentials`
 * @throws TypeError when an option is malformed
 * @example
 * ```ts
 * import { S3Client } from '@aws-sdk/client-s3'
 * import { defaultChain } from '@podcreds/chain'
 *
 * const s3 = new S3Client({ region: 'eu-west-1', credentials: defaultChain() })
 * ```
 */
export function defaultChain(options: DefaultChainOptions = {}): RefreshingProvider<AwsCredentialIdentity> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  if (options.refresh !== undefined && (typeof options.refresh !== 'object' || options.refresh === null)) {
    throw new TypeError('refresh must be an object of refreshing() options')
  }
  const links = buildDefaultLinks(options)
  // Two fixed orders, each with its own memory of the link that worked; AWS_PROFILE picks one
  // per call (the environment is read per call, DESIGN "Conventions").
  const normal = chain<AwsCredentialIdentity>(...links.pod, links.sdk)
  const profileFirst = chain<AwsCredentialIdentity>(links.sdk, ...links.pod)
  const source = (identityProperties?: Record<string, unknown>): Promise<AwsCredentialIdentity> =>
    (links.profileFirst() ? profileFirst : normal)(identityProperties)

  const { clock, random, logger } = options
  try {
    return refreshing(source, {
      ...(clock === undefined ? {} : { clock }),
      ...(random === undefined ? {} : { random }),
      ...(logger === undefined ? {} : { logger }),
      ...options.refresh,
    })
  } catch (error) {
    if (error instanceof TypeError) throw new TypeError(`refresh.${error.message}`, { cause: error })
    throw error
  }
}
