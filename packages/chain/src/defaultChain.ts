import type { ContainerOptions, InstanceMetadataOptions } from '@podcreds/container'
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
import type { CredentialChain } from './chain.js'
import { chain } from './chain.js'
import { buildDefaultLinks } from './internal/defaultLinks.js'

/**
 * The name of a link of the default chain, as `explain()` reports it: `env` (keys in the
 * environment), `web-identity` (IRSA), `container` (EKS Pod Identity, ECS), `sdk` (profiles through
 * the AWS SDK's ini, SSO and process providers), `profile` (a selected profile that chains roles,
 * resolved natively with `fromAssumeRole`), `imds` (the EC2 instance role).
 */
export type LinkName = 'env' | 'web-identity' | 'container' | 'profile' | 'sdk' | 'imds'

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
   * Options of the instance-role link, `fromInstanceMetadata()` of `@podcreds/container`
   * (`endpoint`, `endpointMode`, `timeoutMs`, …).
   * @defaultValue `{}`: everything from the environment
   */
  imds?: InstanceMetadataOptions
  /**
   * Whether the `imds` link (the EC2 instance role through IMDSv2) may run. Left out, it is
   * **skipped inside Kubernetes** (`KUBERNETES_SERVICE_HOST` set) without any request — a pod
   * would otherwise get the node's role — unless `PODCREDS_INSTANCE_METADATA=true` (kube2iam and
   * kiam serve per-pod roles on that address), and on elsewhere, as in the AWS SDK. `true` opts in
   * inside Kubernetes; `false` turns it off anywhere. `AWS_EC2_METADATA_DISABLED` (set and not
   * `false`) turns it off in every case.
   * @defaultValue off inside Kubernetes, on elsewhere
   */
  instanceMetadata?: boolean
  /**
   * The shared-config profile to use, as the AWS SDK's `fromNodeProviderChain({ profile })`:
   * overrides `AWS_PROFILE`. A selected profile puts the `sdk` link first and skips env keys, as
   * the AWS SDK does. One that a shared file defines but that cannot be used is
   * `ERR_INVALID_CONFIG` naming it (never a silent switch to another source); one that no file
   * defines is skipped, and the pod sources are tried.
   * @defaultValue `AWS_PROFILE`, read per call
   */
  profile?: string
  /**
   * Options of the cache and refresh engine, `refreshing()` of `@podcreds/refresh`.
   * @defaultValue `{}`: jittered background refresh with the engine's defaults
   */
  refresh?: RefreshOptions<AwsCredentialIdentity>
  /**
   * The `sdk` link: profiles (static keys, SSO, `credential_process`, role chaining) through the
   * AWS SDK's own `fromSSO`, `fromIni` and `fromProcess` — never its whole chain, which would read
   * `process.env` and end in IMDS. They come with `@aws-sdk/credential-provider-node`, an optional
   * peer dependency loaded only when the link is reached. `false` disables it; a function replaces
   * the import and returns the provider to use (called once per resolve). A failing import skips
   * the link with the reason "fallback unavailable: @aws-sdk/credential-provider-node is not
   * installed" — unless a selected profile exists, which is then `ERR_INVALID_CONFIG`. With a
   * custom `env` the link is off unless set to `true` (parts of the SDK read `process.env`).
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
 * Identity / ECS container endpoint → profiles (the AWS SDK's ini, SSO and process providers) →
 * the EC2 instance role (IMDSv2, **skipped inside Kubernetes** unless `instanceMetadata: true`),
 * the first configured link winning, wrapped in `refreshing()` (jittered background refresh,
 * single-flight, `invalidate()`). With a profile selected (`AWS_PROFILE`, `profile`) the profile
 * goes first and env keys are skipped, as the AWS SDK does. With IRSA and Pod Identity both set
 * up, IRSA wins, as in the AWS SDK.
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
  if ('dryRun' in options) throw new TypeError('dryRun is an option of explain(), not of defaultChain()')
  if (options.refresh !== undefined && (typeof options.refresh !== 'object' || options.refresh === null)) {
    throw new TypeError('refresh must be an object of refreshing() options')
  }
  const links = buildDefaultLinks(options)
  // One chain per order, each with its own memory of the link that worked; the environment of
  // each call picks the order (AWS_PROFILE is read per call, DESIGN "Conventions").
  const chains = new Map<readonly string[], CredentialChain<AwsCredentialIdentity>>()
  const source = (identityProperties?: Record<string, unknown>): Promise<AwsCredentialIdentity> => {
    const order = links.order()
    let current = chains.get(order)
    if (current === undefined) {
      current = chain<AwsCredentialIdentity>(...order.map((name) => links.byName[name]))
      chains.set(order, current)
    }
    return current(identityProperties)
  }

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
