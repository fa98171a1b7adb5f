import { fromContainer } from '@podcreds/container'
import type { AwsCredentialIdentity, DescribableProvider, SourceDescription } from '@podcreds/core'
import { CredentialsError, validateClock, validateEnv, validateLogger, validateRandom } from '@podcreds/core'
import type { DefaultChainOptions, LinkName } from '../defaultChain.js'
import { fromEnv } from '../fromEnv.js'
import { imdsLink } from './imdsLink.js'
import { profileLink } from './profileLink.js'
import { sdkFallbackLink, sdkProfileRoot } from './sdkFallback.js'
import { selectedProfile } from './selectedProfile.js'
import { webIdentityLink } from './webIdentityLink.js'

/** One link of the default chain, named as `explain()` reports it. */
export interface DefaultLink {
  name: LinkName
  provider: DescribableProvider<AwsCredentialIdentity>
}

/** The built links, and the order of the current call. */
export interface DefaultLinks {
  /** Every link by name. */
  byName: Readonly<Record<LinkName, DefaultLink>>
  /** The order for this call's environment: a selected profile puts `sdk` first (read now). */
  order(): readonly LinkName[]
}

// The two orders of the default chain. To add a link, add its name to `LinkName`, build it in
// `buildDefaultLinks` and place it in the lists. The `profile` link (issue 19) takes the sdk
// link's place only when a profile is selected: with none, the default profile is the sdk link's.
/** No profile selected: the pod's own sources, then profiles, then the node's instance role. */
export const NORMAL_ORDER: readonly LinkName[] = ['env', 'web-identity', 'container', 'sdk', 'imds']
/**
 * A profile selected (`AWS_PROFILE` or `profile`): the profile first, as the AWS SDK's
 * defaultProvider does (it skips env keys when AWS_PROFILE is set; the env link says so).
 */
export const PROFILE_ORDER: readonly LinkName[] = [
  'profile',
  'sdk',
  'env',
  'web-identity',
  'container',
  'imds',
]

/** The options `defaultChain()` and `explain()` accept (explain adds `dryRun`); others are a TypeError. */
export const DEFAULT_CHAIN_OPTION_KEYS: readonly string[] = [
  'env',
  'webIdentity',
  'container',
  'imds',
  'instanceMetadata',
  'profile',
  'refresh',
  'sdkFallback',
  'logger',
  'clock',
  'random',
]

/**
 * Validates the options of `defaultChain()` / `explain()` and builds the links. The per-link
 * factories validate their own options now, so a bad `container.timeoutMs` throws a `TypeError`
 * from `defaultChain()`, prefixed with the nesting (`container.timeoutMs …`).
 */
export function buildDefaultLinks(
  options: DefaultChainOptions,
  extraKeys: readonly string[] = [],
): DefaultLinks {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  for (const key of Object.keys(options)) {
    if (!DEFAULT_CHAIN_OPTION_KEYS.includes(key) && !extraKeys.includes(key)) {
      throw new TypeError(
        `${key} is not an option (options: ${[...DEFAULT_CHAIN_OPTION_KEYS, ...extraKeys].join(', ')})`,
      )
    }
  }
  const { env, clock, random, logger, instanceMetadata, profile } = options
  validateEnv('env', env)
  validateClock('clock', clock)
  validateRandom('random', random)
  validateLogger('logger', logger)
  if (instanceMetadata !== undefined && typeof instanceMetadata !== 'boolean') {
    throw new TypeError('instanceMetadata must be a boolean')
  }
  if (
    profile !== undefined &&
    (typeof profile !== 'string' || profile.trim() === '' || /[\]\r\n]/.test(profile))
  ) {
    throw new TypeError('profile must be a non-empty profile name')
  }
  for (const [name, factory] of [
    ['webIdentity', 'fromWebIdentity'],
    ['container', 'fromContainer'],
    ['imds', 'fromInstanceMetadata'],
  ] as const) {
    const value = options[name]
    if (value !== undefined && (typeof value !== 'object' || value === null)) {
      throw new TypeError(`${name} must be an object of ${factory} options`)
    }
  }
  // The AWS SDK's providers read process.env and ~/.aws, never our `env`: with a custom `env` they
  // would answer for another environment than the one asked about, so it is off unless asked for.
  const customEnv = env !== undefined && env !== process.env
  const sdkFallback = options.sdkFallback ?? !customEnv
  if (typeof sdkFallback !== 'boolean' && typeof sdkFallback !== 'function') {
    throw new TypeError('sdkFallback must be a boolean or a function returning a credentials provider')
  }

  // Shared seams go to every link; a link's own options win.
  const shared = {
    ...(env === undefined ? {} : { env }),
    ...(clock === undefined ? {} : { clock }),
    ...(random === undefined ? {} : { random }),
    ...(logger === undefined ? {} : { logger }),
  }
  const envLink = skippedWhenProfileSelected(
    fromEnv({ ...(env === undefined ? {} : { env }), ...(clock === undefined ? {} : { clock }) }),
    profile,
    env,
  )
  // Loaded on first use (issue 20: import time); validated then, see webIdentityLink.
  const webIdentity = webIdentityLink(
    { ...shared, ...options.webIdentity },
    options.webIdentity !== undefined,
  )
  const container = nested('container', () => fromContainer({ ...shared, ...options.container }))
  const imds = nested('imds', () => imdsLink(instanceMetadata, env, { ...shared, ...options.imds }))
  const disabledReason =
    options.sdkFallback === undefined && customEnv
      ? 'off by default with a custom env: the AWS SDK reads only process.env (pass sdkFallback: true to use it anyway)'
      : 'disabled (sdkFallback: false)'
  const sdk = sdkFallbackLink({ option: sdkFallback, env, profile, disabledReason })
  // Issue 19: a selected profile that chains roles resolves natively, in the sdk link's place; its
  // credential_source names our own links (the imds one keeps its Kubernetes guard).
  const profileChain = profileLink({
    env,
    profile,
    environment: fromEnv({
      ...(env === undefined ? {} : { env }),
      ...(clock === undefined ? {} : { clock }),
    }),
    container,
    instanceMetadata: imds,
    sdkRoot: (name) => sdkProfileRoot(sdkFallback, disabledReason, env ?? process.env, name),
  })

  const byName: Record<LinkName, DefaultLink> = {
    env: { name: 'env', provider: envLink },
    // IRSA before Pod Identity when both are set up, as the AWS SDK orders them (fromTokenFile
    // before remoteProvider in credential-provider-node's defaultProvider).
    'web-identity': { name: 'web-identity', provider: webIdentity },
    container: { name: 'container', provider: container },
    profile: { name: 'profile', provider: profileChain },
    sdk: { name: 'sdk', provider: sdk },
    imds: { name: 'imds', provider: imds },
  }
  return {
    byName,
    order: () => (selectedProfile(profile, env ?? process.env) === undefined ? NORMAL_ORDER : PROFILE_ORDER),
  }
}

/**
 * The env link, skipped while a profile is selected: the AWS SDK's defaultProvider skips env keys
 * when AWS_PROFILE is set ("AWS_PROFILE is set, skipping fromEnv provider"), so a profile found in
 * no file falls through to the pod sources, not to env keys (issue 17).
 */
function skippedWhenProfileSelected(
  link: DescribableProvider<AwsCredentialIdentity>,
  profile: string | undefined,
  env: DefaultChainOptions['env'],
): DescribableProvider<AwsCredentialIdentity> {
  const skip = (): string | undefined => {
    const selected = selectedProfile(profile, env ?? process.env)
    return selected === undefined
      ? undefined
      : `skipped: profile ${selected.name} is selected (${selected.origin}), and the AWS SDK skips environment keys then`
  }
  const provider = async (identityProperties?: Record<string, unknown>): Promise<AwsCredentialIdentity> => {
    const why = skip()
    if (why !== undefined) throw new CredentialsError(`env: ${why}`, { code: 'ERR_NOT_CONFIGURED' })
    return await link(identityProperties)
  }
  const describe = async (): Promise<SourceDescription> => {
    const why = skip()
    return why === undefined ? await link.describe() : { configured: false, reason: why, details: {} }
  }
  return Object.assign(provider, { describe })
}

function nested<T>(name: string, build: () => T): T {
  try {
    return build()
  } catch (error) {
    if (error instanceof TypeError) throw new TypeError(`${name}.${error.message}`, { cause: error })
    throw error
  }
}
