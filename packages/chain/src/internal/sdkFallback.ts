import type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  DescribableProvider,
  Env,
  SourceDescription,
} from '@podcreds/core'
import { CredentialsError, scrub } from '@podcreds/core'
import { mayTryNextLink, reasonOf } from './linkErrors.js'
import type { SelectedProfile } from './selectedProfile.js'
import { selectedProfile } from './selectedProfile.js'
import { findProfile, profileFiles } from './sharedProfiles.js'

/** What `sdkFallback` may be: on, off, or a loader replacing the lazy import. */
export type SdkFallbackOption = boolean | (() => Promise<AwsCredentialIdentityProvider>)

export const SDK_PACKAGE = '@aws-sdk/credential-provider-node'
const NOT_INSTALLED = `${SDK_PACKAGE} is not installed`
// Bundlers cannot see the SDK's providers (they are resolved by name at run time, from the SDK
// package's folder), so a bundle never carries them (issue 20: say so, not "not installed").
const NOT_IN_BUNDLE = `${SDK_PACKAGE} is not in this bundle (podcreds loads it by name at run time, which bundlers cannot see): install it where the bundle runs`

/**
 * Whether this code runs from an app's bundle rather than from its own package: an install
 * (`node_modules/@podcreds/chain/dist/`) or this repository (`packages/chain/`).
 */
function runsFromABundle(): boolean {
  return !/\/(?:@podcreds\/chain|packages\/chain)\/(?:dist|src)\//.test(import.meta.url)
}

type ProviderFactory = (init: Record<string, unknown>) => AwsCredentialIdentityProvider

// The SDK's own providers for profiles, in the order of its defaultProvider (fromSSO, fromIni,
// fromProcess). Not its whole chain (issue 17): that one also reads env keys, the web-identity
// token file, the container endpoint and IMDS — all from process.env, and the last two repeat or
// bypass our own links. They are installed with credential-provider-node (its dependencies), so
// they are resolved from its folder.
const SDK_PROVIDERS = [
  ['@aws-sdk/credential-provider-sso', 'fromSSO'],
  ['@aws-sdk/credential-provider-ini', 'fromIni'],
  ['@aws-sdk/credential-provider-process', 'fromProcess'],
] as const

// The SDK warns through `console.warn` unless given a logger; podcreds is silent.
const silentSdkLogger = {
  trace(): void {},
  debug(): void {},
  info(): void {},
  warn(): void {},
  error(): void {},
}

let loaded: Promise<ProviderFactory[]> | undefined

/** The SDK's profile providers, loaded once, on the link's first use (never at import). */
function loadSdkProviders(): Promise<ProviderFactory[]> {
  loaded ??= (async () => {
    const [{ createRequire }, { pathToFileURL }] = await Promise.all([
      import('node:module'),
      import('node:url'),
    ])
    // Resolved from here (the optional peer), then its own dependencies from its folder, and
    // imported (not required) so that loader hooks and bundlers see them as any import.
    const fromNode = createRequire(createRequire(import.meta.url).resolve(SDK_PACKAGE))
    return await Promise.all(
      SDK_PROVIDERS.map(async ([name, factory]) => {
        const module = (await import(pathToFileURL(fromNode.resolve(name)).href)) as Record<string, unknown>
        const create =
          module[factory] ?? (module['default'] as Record<string, unknown> | undefined)?.[factory]
        if (typeof create !== 'function') throw new TypeError(`${name} has no ${factory}()`)
        return create as ProviderFactory
      }),
    )
  })()
  // A failed load is retried on the next call (the package may be installed meanwhile).
  loaded.catch(() => {
    loaded = undefined
  })
  return loaded
}

/** The options of the SDK link. */
export interface SdkLinkOptions {
  option: SdkFallbackOption
  env: Env | undefined
  profile: string | undefined
  /** Why the link is off when `option` is `false`. */
  disabledReason: string
}

/**
 * The SDK fallback link: profiles (static keys, SSO, `credential_process`, role chaining) through
 * the AWS SDK's own ini, SSO and process providers, never its whole chain. A fresh SDK provider
 * per call: the SDK's memoization would hide a rotation from our engine and defeat `invalidate()`.
 *
 * A selected profile (`AWS_PROFILE`, or `defaultChain({ profile })`) is never silently ignored
 * (issue 17): one that a shared file defines but that cannot be used (the fallback is off or not
 * installed, or the SDK finds no credentials in it) is `ERR_INVALID_CONFIG` naming it; one that no
 * file defines is skipped, as the AWS SDK for JS moves on then.
 */
export function sdkFallbackLink(options: SdkLinkOptions): DescribableProvider<AwsCredentialIdentity> {
  const { option, disabledReason } = options
  const envNow = (): Env => options.env ?? process.env

  /** The providers to run, or why there are none. */
  const load = async (): Promise<
    { providers: AwsCredentialIdentityProvider[] } | { unavailable: string; cause?: unknown }
  > => {
    if (option === false) return { unavailable: disabledReason }
    try {
      if (typeof option === 'function') {
        const provider = await option()
        if (typeof provider !== 'function')
          throw new TypeError('the sdkFallback loader did not return a provider')
        return { providers: [provider] }
      }
      const factories = await loadSdkProviders()
      const env = envNow()
      const files = profileFiles(env)
      const profile = selectedProfile(options.profile, env)?.name
      const init = {
        ...(profile === undefined ? {} : { profile }),
        filepath: files.credentials,
        configFilepath: files.config,
        ignoreCache: true,
        logger: silentSdkLogger,
      }
      return { providers: factories.map((create) => create(init)) }
    } catch (error) {
      return { unavailable: `fallback unavailable: ${unavailableReason(error)}`, cause: error }
    }
  }

  /** Where the selected profile is defined (undefined: no profile selected, or none found). */
  const locate = async (selected: SelectedProfile | undefined): Promise<string | undefined> =>
    selected === undefined ? undefined : await findProfile(selected.name, envNow())

  const missing = (selected: SelectedProfile): CredentialsError => {
    const files = profileFiles(envNow())
    return new CredentialsError(
      `sdk: profile ${selected.name} (${selected.origin}) is in no shared config file (${files.config}, ${files.credentials}): skipped, and as the AWS SDK for JS does, env keys are skipped and the pod sources tried`,
      { code: 'ERR_NOT_CONFIGURED' },
    )
  }

  const unusable = (
    selected: SelectedProfile,
    where: string,
    why: string,
    cause?: unknown,
  ): CredentialsError =>
    new CredentialsError(
      `sdk: profile ${selected.name} (${selected.origin}) is defined in ${where} but cannot be used: ${why}`,
      { code: 'ERR_INVALID_CONFIG', ...(cause === undefined ? {} : { cause }) },
    )

  const provider = async (identityProperties?: Record<string, unknown>): Promise<AwsCredentialIdentity> => {
    const selected = selectedProfile(options.profile, envNow())
    const where = await locate(selected)
    const ready = await load()
    if ('unavailable' in ready) {
      if (selected !== undefined && where !== undefined) {
        throw unusable(
          selected,
          where,
          `${ready.unavailable} (install it, pass sdkFallback: true, or unset ${selected.origin})`,
          ready.cause,
        )
      }
      if (selected !== undefined) throw missing(selected)
      throw new CredentialsError(`sdk: ${ready.unavailable}`, {
        code: 'ERR_NOT_CONFIGURED',
        ...(ready.cause === undefined ? {} : { cause: ready.cause }),
      })
    }
    // The real SDK providers would only say "profile not found": say it ourselves, with the files.
    if (selected !== undefined && where === undefined && typeof option !== 'function') throw missing(selected)
    const skipped: unknown[] = []
    for (const sdkProvider of ready.providers) {
      try {
        return await sdkProvider(identityProperties)
      } catch (error) {
        if (!mayTryNextLink(error)) throw error
        skipped.push(error)
      }
    }
    const last = skipped.at(-1)
    if (selected !== undefined && where !== undefined) {
      throw unusable(selected, where, `the AWS SDK found no credentials in it (${reasonOf(last)})`, last)
    }
    if (selected !== undefined) throw missing(selected)
    throw new CredentialsError(
      `sdk: the AWS SDK's profile providers found no credentials (default profile: static keys, SSO, credential_process; last: ${reasonOf(last)})`,
      { code: 'ERR_NOT_CONFIGURED', cause: last },
    )
  }

  const describe = async (): Promise<SourceDescription> => {
    const selected = selectedProfile(options.profile, envNow())
    const where = await locate(selected)
    const ready = await load()
    const details: Record<string, string> = {}
    if (selected !== undefined) {
      details['profile'] = selected.name
      details['profileSource'] = selected.origin
      details['profileFile'] = where ?? 'none'
    }
    if ('unavailable' in ready) {
      if (selected !== undefined && where !== undefined) {
        throw unusable(selected, where, ready.unavailable, ready.cause)
      }
      if (selected !== undefined)
        return { configured: false, reason: missing(selected).message.replace(/^sdk: /, ''), details }
      return { configured: false, reason: ready.unavailable, details }
    }
    if (selected !== undefined && where === undefined && typeof option !== 'function') {
      return { configured: false, reason: missing(selected).message.replace(/^sdk: /, ''), details }
    }
    details['provider'] =
      typeof option === 'function' ? 'sdkFallback loader' : 'AWS SDK fromSSO, fromIni, fromProcess'
    return {
      configured: true,
      reason:
        typeof option === 'function'
          ? 'the sdkFallback loader will be asked (a dry run cannot tell what it finds)'
          : `the AWS SDK's profile providers will be tried with ${selected === undefined ? 'the default profile' : `profile ${selected.name} (from ${where})`} (SSO, static keys, credential_process, role chaining; a dry run cannot tell what they find)`,
      details,
    }
  }

  return Object.assign(provider, { describe })
}

function unavailableReason(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
    return runsFromABundle() ? NOT_IN_BUNDLE : NOT_INSTALLED
  }
  const message = error instanceof Error ? error.message : String(error)
  return scrub(message, [], 200)
}

/**
 * The SDK's profile providers for one profile, as one provider: the root of a role-chaining
 * profile (issue 19) whose credentials are SSO, `credential_process` or anything else the SDK
 * knows. A string says why there are none (the fallback is off or not installed).
 */
export async function sdkProfileRoot(
  option: SdkFallbackOption,
  disabledReason: string,
  env: Env,
  profile: string,
): Promise<(() => Promise<AwsCredentialIdentity>) | string> {
  if (option === false) return `the sdk link is ${disabledReason}`
  let providers: AwsCredentialIdentityProvider[]
  try {
    if (typeof option === 'function') providers = [await option()]
    else {
      const files = profileFiles(env)
      const init = {
        profile,
        filepath: files.credentials,
        configFilepath: files.config,
        ignoreCache: true,
        logger: silentSdkLogger,
      }
      providers = (await loadSdkProviders()).map((create) => create(init))
    }
  } catch (error) {
    return `fallback unavailable: ${unavailableReason(error)}`
  }
  return async () => {
    let last: unknown
    for (const sdkProvider of providers) {
      try {
        return await sdkProvider()
      } catch (error) {
        if (!mayTryNextLink(error)) throw error
        last = error
      }
    }
    throw new CredentialsError(`the AWS SDK found no credentials in profile ${profile} (${reasonOf(last)})`, {
      code: 'ERR_INVALID_CONFIG',
      cause: last,
    })
  }
}
