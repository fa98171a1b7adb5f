import type {
  AwsCredentialIdentity,
  DescribableProvider,
  Env,
  IdentityProperties,
  SourceDescription,
} from '@podcreds/core'
import { CredentialsError, readEnv } from '@podcreds/core'
import type { FromWebIdentityOptions } from '@podcreds/web-identity'

type WebIdentityModule = typeof import('@podcreds/web-identity')
let loaded: Promise<WebIdentityModule> | undefined

/**
 * `@podcreds/web-identity` (and `@podcreds/sts` below it), imported on first use. Every package
 * file costs ~1.5–2 ms to load on Node 20 now that each module ships once (issue 20), and a pod
 * on EKS Pod Identity never needs these two: the chain's import stays within a third of the AWS
 * SDK's. A bundler sees the literal specifier and bundles it as a lazy chunk.
 */
export function loadWebIdentity(): Promise<WebIdentityModule> {
  loaded ??= import('@podcreds/web-identity')
  loaded.catch(() => {
    loaded = undefined
  })
  return loaded
}

/**
 * The default chain's web-identity link: `fromWebIdentity(options)`, built on its first call or
 * `describe()`. While the role ARN or the token file is missing (the pod has no IRSA), it answers
 * `ERR_NOT_CONFIGURED` without loading anything, with fromWebIdentity's own reason. Options the
 * caller gave (`defaultChain({ webIdentity })`, `explicit`) are validated on the first call, which
 * then always builds the link: a bad one is a `TypeError` naming `webIdentity.<option>` from that
 * call (a departure from "validated at construction", for the import time; issue 20).
 */
export function webIdentityLink(
  options: FromWebIdentityOptions,
  explicit: boolean,
): DescribableProvider<AwsCredentialIdentity> {
  let built: ReturnType<WebIdentityModule['fromWebIdentity']> | undefined
  const build = async (): Promise<NonNullable<typeof built>> => {
    if (built !== undefined) return built
    const { fromWebIdentity } = await loadWebIdentity()
    try {
      built = fromWebIdentity(options)
    } catch (error) {
      if (error instanceof TypeError) throw new TypeError(`webIdentity.${error.message}`, { cause: error })
      throw error
    }
    return built
  }
  // The same test fromWebIdentity makes first (options beat the environment, read per call).
  const notConfigured = (): string | undefined => {
    const env: Env = options.env ?? process.env
    const roleArn = options.roleArn ?? readEnv(env, 'AWS_ROLE_ARN')
    const tokenFile = options.tokenFile ?? readEnv(env, 'AWS_WEB_IDENTITY_TOKEN_FILE')
    if (roleArn !== undefined && tokenFile !== undefined) return undefined
    const names: string[] = []
    if (roleArn === undefined) names.push('no role ARN (roleArn option or AWS_ROLE_ARN)')
    if (tokenFile === undefined) names.push('no token file (tokenFile option or AWS_WEB_IDENTITY_TOKEN_FILE)')
    return `web identity is not configured: ${names.join(' and ')}`
  }
  const provider = async (identityProperties?: IdentityProperties): Promise<AwsCredentialIdentity> => {
    const why = built === undefined && !explicit ? notConfigured() : undefined
    if (why !== undefined) throw new CredentialsError(why, { code: 'ERR_NOT_CONFIGURED' })
    return await (await build())(identityProperties)
  }
  const describe = async (): Promise<SourceDescription> => await (await build()).describe()
  return Object.assign(provider, { describe })
}
