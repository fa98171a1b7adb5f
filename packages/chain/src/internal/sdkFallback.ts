import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  DescribableProvider,
  Env,
  SourceDescription,
} from '@podcreds/core'
import { CredentialsError, readEnv, scrub } from '@podcreds/core'
import { isSdkNothingFound } from './linkErrors.js'

/** What `sdkFallback` may be: on, off, or a loader replacing the lazy import. */
export type SdkFallbackOption = boolean | (() => Promise<AwsCredentialIdentityProvider>)

export const SDK_PACKAGE = '@aws-sdk/credential-provider-node'
const NOT_INSTALLED = `fallback unavailable: ${SDK_PACKAGE} is not installed`

interface SdkModule {
  defaultProvider(init: Record<string, unknown>): AwsCredentialIdentityProvider
}

// The SDK warns through `console.warn` unless given a logger (its defaultProvider's fromEnv
// link); podcreds is silent, so it always gets one that drops everything.
const silentSdkLogger = {
  trace(): void {},
  debug(): void {},
  info(): void {},
  warn(): void {},
  error(): void {},
}

/**
 * The SDK fallback link: profiles, SSO, `credential_process`, IMDS… through the AWS SDK's own
 * default chain. `@aws-sdk/credential-provider-node` is an optional peer dependency, imported
 * on the link's first call, never at import time (DESIGN "Cold-start budget"). A fresh SDK
 * provider per call: the SDK's memoization would hide a rotation from our refresh engine and
 * defeat `invalidate()`.
 */
export function sdkFallbackLink(
  option: SdkFallbackOption,
  envOption: Env | undefined,
  disabledReason = 'disabled (sdkFallback: false)',
): DescribableProvider<AwsCredentialIdentity> {
  const load = async (): Promise<AwsCredentialIdentityProvider> => {
    if (typeof option === 'function') return await option()
    const env = envOption ?? process.env
    const profile = readEnv(env, 'AWS_PROFILE')
    // A variable specifier keeps bundlers and `tsc` from resolving the optional peer eagerly.
    const specifier: string = SDK_PACKAGE
    const sdk = (await import(specifier)) as SdkModule
    return sdk.defaultProvider({ ...(profile === undefined ? {} : { profile }), logger: silentSdkLogger })
  }

  const loadOrSkip = async (): Promise<AwsCredentialIdentityProvider> => {
    if (option === false) {
      throw new CredentialsError(`sdk: ${disabledReason}`, { code: 'ERR_NOT_CONFIGURED' })
    }
    try {
      const loaded = await load()
      if (typeof loaded !== 'function')
        throw new TypeError('the sdkFallback loader did not return a provider')
      return loaded
    } catch (error) {
      throw new CredentialsError(`sdk: ${unavailableReason(error)}`, {
        code: 'ERR_NOT_CONFIGURED',
        cause: error,
      })
    }
  }

  const provider = async (identityProperties?: Record<string, unknown>): Promise<AwsCredentialIdentity> => {
    const sdkProvider = await loadOrSkip()
    try {
      return await sdkProvider(identityProperties)
    } catch (error) {
      // The SDK chain's own final "found nothing" is `tryNextLink: false`; here it means "not
      // configured", so a pod with nothing set up gets ERR_CHAIN_EXHAUSTED naming every link.
      if (isSdkNothingFound(error)) {
        throw new CredentialsError(
          "sdk: the AWS SDK's default chain found no credentials (profiles, SSO, credential_process, token file, container, IMDS)",
          { code: 'ERR_NOT_CONFIGURED', cause: error },
        )
      }
      throw error
    }
  }

  const describe = async (): Promise<SourceDescription> => {
    if (option === false) return { configured: false, reason: disabledReason, details: {} }
    try {
      await loadOrSkip()
    } catch (error) {
      return { configured: false, reason: (error as Error).message.replace(/^sdk: /, ''), details: {} }
    }
    const env = envOption ?? process.env
    const profile = readEnv(env, 'AWS_PROFILE')
    const details: Record<string, string> = {
      provider: typeof option === 'function' ? 'sdkFallback loader' : `${SDK_PACKAGE} defaultProvider`,
    }
    if (profile !== undefined) details['profile'] = profile
    return {
      configured: true,
      reason:
        typeof option === 'function'
          ? 'the sdkFallback loader will be asked (a dry run cannot tell what it finds)'
          : `the AWS SDK's default chain will be tried${profile === undefined ? '' : ` with profile ${profile}`} (profiles, SSO, credential_process, IMDS; a dry run cannot tell what it finds)`,
      details,
    }
  }

  return Object.assign(provider, { describe })
}

function unavailableReason(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return NOT_INSTALLED
  const message = error instanceof Error ? error.message : String(error)
  return `fallback unavailable: ${scrub(message, [], 200)}`
}
