import { fromContainer } from '@podcreds/container'
import type { AwsCredentialIdentity, DescribableProvider } from '@podcreds/core'
import { readEnv, validateClock, validateEnv, validateLogger, validateRandom } from '@podcreds/core'
import { fromWebIdentity } from '@podcreds/web-identity'
import type { DefaultChainOptions, LinkName } from '../defaultChain.js'
import { fromEnv } from '../fromEnv.js'
import { sdkFallbackLink } from './sdkFallback.js'

/** One link of the default chain, named as `explain()` reports it. */
export interface DefaultLink {
  name: LinkName
  provider: DescribableProvider<AwsCredentialIdentity>
}

/** The built links, and a function giving their order for the current environment. */
export interface DefaultLinks {
  /** env, web-identity, container: the pod sources in their fixed order. */
  pod: DefaultLink[]
  /** The SDK fallback. */
  sdk: DefaultLink
  /** Whether this call puts `sdk` first: `AWS_PROFILE` is set, read now. */
  profileFirst(): boolean
  /** The links in the order of this call. */
  ordered(): DefaultLink[]
}

/**
 * Validates the options of `defaultChain()` / `explain()` and builds the four links. The
 * per-link factories validate their own options now, so a bad `container.timeoutMs` throws a
 * `TypeError` from `defaultChain()`, prefixed with the nesting (`container: …`).
 */
export function buildDefaultLinks(options: Omit<DefaultChainOptions, 'refresh'>): DefaultLinks {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  const { env, clock, random, logger } = options
  validateEnv('env', env)
  validateClock('clock', clock)
  validateRandom('random', random)
  validateLogger('logger', logger)
  for (const name of ['webIdentity', 'container'] as const) {
    const value = options[name]
    if (value !== undefined && (typeof value !== 'object' || value === null)) {
      throw new TypeError(
        `${name} must be an object of ${name === 'container' ? 'fromContainer' : 'fromWebIdentity'} options`,
      )
    }
  }
  // The AWS SDK's chain reads process.env and ~/.aws, never our `env`: with a custom `env` it
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
  const envLink = fromEnv({
    ...(env === undefined ? {} : { env }),
    ...(clock === undefined ? {} : { clock }),
  })
  const webIdentity = nested('webIdentity', () => fromWebIdentity({ ...shared, ...options.webIdentity }))
  const container = nested('container', () => fromContainer({ ...shared, ...options.container }))
  const sdk = sdkFallbackLink(
    sdkFallback,
    env,
    options.sdkFallback === undefined && customEnv
      ? 'off by default with a custom env: the AWS SDK reads only process.env (pass sdkFallback: true to use it anyway)'
      : 'disabled (sdkFallback: false)',
  )

  const pod: DefaultLink[] = [
    { name: 'env', provider: envLink },
    // IRSA before Pod Identity when both are set up, as the AWS SDK orders them (fromTokenFile
    // before remoteProvider in credential-provider-node's defaultProvider).
    { name: 'web-identity', provider: webIdentity },
    { name: 'container', provider: container },
  ]
  const sdkLink: DefaultLink = { name: 'sdk', provider: sdk }
  // A set AWS_PROFILE puts the profile first, as the AWS SDK does (its defaultProvider skips
  // fromEnv when AWS_PROFILE is set). Read per call, never at construction.
  const profileFirst = (): boolean => readEnv(env ?? process.env, 'AWS_PROFILE') !== undefined
  return {
    pod,
    sdk: sdkLink,
    profileFirst,
    ordered: () => (profileFirst() ? [sdkLink, ...pod] : [...pod, sdkLink]),
  }
}

function nested<T>(name: string, build: () => T): T {
  try {
    return build()
  } catch (error) {
    if (error instanceof TypeError) throw new TypeError(`${name}.${error.message}`, { cause: error })
    throw error
  }
}
