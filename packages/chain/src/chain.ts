import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, SourceDescription } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import { reasonFor } from './internal/linkErrors.js'
import { walk } from './internal/walk.js'

/**
 * The identity properties an AWS SDK v3 client passes to a credentials provider (its
 * `callerClientConfig`, …): the parameter type of `AwsCredentialIdentityProvider`, so SDK
 * providers (`fromIni()`, …) fit as links and chains fit into the SDK's own chain helpers.
 */
export type IdentityProperties = Parameters<AwsCredentialIdentityProvider>[0]

/**
 * A credentials provider as the AWS SDK v3 defines one: called with the identity properties the
 * client passes (or none), it resolves to an identity.
 */
export type CredentialsProvider<T extends AwsCredentialIdentity = AwsCredentialIdentity> = (
  identityProperties?: IdentityProperties,
) => Promise<T>

/** A chain link with a name, which error messages and `describe()` use. */
export interface NamedLink<T extends AwsCredentialIdentity = AwsCredentialIdentity> {
  /** Shown in the `ERR_CHAIN_EXHAUSTED` message and in `describe()` details. */
  name: string
  /** The provider; any AWS SDK v3 credentials provider or a podcreds one. */
  provider: CredentialsProvider<T>
}

/**
 * One link of {@link chain}: a provider, or a {@link NamedLink}. An unnamed provider is called
 * after its function name, or `link N` (1-based) when it has none.
 */
export type ChainLink<T extends AwsCredentialIdentity = AwsCredentialIdentity> =
  | CredentialsProvider<T>
  | NamedLink<T>

/**
 * The provider {@link chain} returns: a credentials provider with `describe()` (which link would
 * be used, from configuration only) and `lastLink()`.
 */
export interface CredentialChain<T extends AwsCredentialIdentity = AwsCredentialIdentity> {
  /** Resolves credentials from the first link that has them (see {@link chain}). */
  (identityProperties?: IdentityProperties): Promise<T>
  /**
   * Which link would be used, from each link's `describe()` (configuration only; a link without
   * `describe()` counts as configured). Rejects with the error of a link that is broken.
   */
  describe(): Promise<SourceDescription>
  /** The name of the link that produced the last credentials (where the next call starts), if any. */
  lastLink(): string | undefined
}

interface Link<T extends AwsCredentialIdentity> {
  name: string
  provider: CredentialsProvider<T> & { describe?: unknown }
}

/**
 * Tries each link in order; the first that resolves wins. A link that rejects with
 * `tryNextLink: true` (podcreds' `ERR_NOT_CONFIGURED`, or the AWS SDK's `ProviderError` /
 * `CredentialsProviderError` with that flag) is skipped, and so is the AWS SDK default chain's
 * final "Could not load credentials from any providers" (it found nothing). Any other rejection — a source that is
 * configured but broken — stops the chain with **that link's own error**, never masked by a
 * later link's (AWS SDK issue #8101 is the anti-example). When every link is skipped, the chain
 * rejects with `ERR_CHAIN_EXHAUSTED` (`tryNextLink: true`, so it nests in other chains) whose
 * message lists each link and why it was skipped.
 *
 * The chain remembers the link that worked: later calls start there. If that link later says
 * it is not configured any more, the chain falls back to the full order.
 *
 * The chain caches no credentials; wrap it in `refreshing()` of `@podcreds/refresh` (as
 * `defaultChain()` does) or hand it to an AWS SDK client, which caches.
 *
 * @param links - providers or `{ name, provider }`, tried in this order; at least one
 * @returns a provider for any AWS SDK v3 client's `credentials`, with `describe()` and `lastLink()`
 * @throws TypeError when no link is given or a link is not a provider
 * @example
 * ```ts
 * import { fromIni } from '@aws-sdk/credential-providers'
 * import { chain, fromEnv } from '@podcreds/chain'
 * import { fromContainer } from '@podcreds/container'
 *
 * const credentials = chain(fromEnv(), { name: 'container', provider: fromContainer() }, fromIni())
 * ```
 */
export function chain<T extends AwsCredentialIdentity = AwsCredentialIdentity>(
  ...links: ChainLink<T>[]
): CredentialChain<T> {
  if (links.length === 0) throw new TypeError('chain() needs at least one link')
  const list: Link<T>[] = links.map((link, index) => normalize(link, index))
  // Index of the link that worked last; later calls start there (DESIGN "@podcreds/chain").
  let remembered: number | undefined

  const provider = async (identityProperties?: IdentityProperties): Promise<T> => {
    const start = remembered
    const result = await walk(list.length, (index) => call(list[index]!, identityProperties), start)
    if (result.chosen !== undefined) {
      remembered = result.chosen.index
      return result.chosen.value
    }
    // The remembered link said it is not configured any more: the set-up changed, so the full
    // order runs again (the walk did that) and nothing is remembered unless another link won.
    if (start !== undefined && remembered === start && result.steps[0]?.outcome === 'skipped') {
      remembered = undefined
    }
    if (result.failed !== undefined) throw result.failed.error
    const skipped = [...result.steps].sort((a, b) => a.index - b.index)
    throw exhausted(
      skipped.map(({ index, error }) => ({ name: list[index]!.name, error })),
      list.length,
    )
  }

  const describe = async (): Promise<SourceDescription> => {
    const details: Record<string, string> = {}
    let first: string | undefined
    let firstReason = ''
    for (const link of list) {
      const description = await describeLink(link)
      details[link.name] = description.configured
        ? `configured: ${description.reason}`
        : `not configured: ${description.reason}`
      if (description.configured && first === undefined) {
        first = link.name
        firstReason = description.reason
      }
    }
    if (first === undefined) {
      return { configured: false, reason: 'no link of the chain is configured', details }
    }
    return { configured: true, reason: `${first}: ${firstReason}`, details }
  }

  const lastLink = (): string | undefined => (remembered === undefined ? undefined : list[remembered]!.name)

  return Object.assign(provider, { describe, lastLink })
}

function normalize<T extends AwsCredentialIdentity>(link: ChainLink<T>, index: number): Link<T> {
  if (typeof link === 'function') {
    return {
      name: link.name === '' || link.name === 'provider' ? `link ${index + 1}` : link.name,
      provider: link,
    }
  }
  if (typeof link === 'object' && link !== null) {
    const { name, provider } = link as Partial<NamedLink<T>>
    if (typeof name !== 'string' || name.trim() === '') {
      throw new TypeError(`links[${index}].name must be a non-empty string`)
    }
    if (typeof provider !== 'function') throw new TypeError(`links[${index}].provider must be a function`)
    return { name, provider }
  }
  throw new TypeError(`links[${index}] must be a credentials provider or { name, provider }`)
}

// A link may throw synchronously; treat that like a rejection.
async function call<T extends AwsCredentialIdentity>(
  link: Link<T>,
  identityProperties: IdentityProperties,
): Promise<T> {
  return await link.provider(identityProperties)
}

async function describeLink<T extends AwsCredentialIdentity>(link: Link<T>): Promise<SourceDescription> {
  const { describe } = link.provider
  if (typeof describe !== 'function') {
    return { configured: true, reason: 'cannot describe itself; it will be called', details: {} }
  }
  return (await describe.call(link.provider)) as SourceDescription
}

function exhausted(skipped: readonly { name: string; error: unknown }[], count: number): CredentialsError {
  const lines = skipped.map(({ name, error }) => `  - ${name}: ${reasonFor(name, error)}`)
  return new CredentialsError(
    `no credentials: all ${count} links of the chain were skipped\n${lines.join('\n')}`,
    {
      code: 'ERR_CHAIN_EXHAUSTED',
      tryNextLink: true,
      cause: new AggregateError(
        skipped.map(({ error }) => error),
        'every link was skipped',
      ),
    },
  )
}
