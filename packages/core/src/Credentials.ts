import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types'

export type { AwsCredentialIdentity, AwsCredentialIdentityProvider }

/**
 * Temporary AWS credentials as podcreds providers return them: an `AwsCredentialIdentity` from
 * `@smithy/types` (so any AWS SDK v3 client takes them) with the expiry always set, and the
 * account id when the source told it.
 */
export interface TemporaryCredentials extends AwsCredentialIdentity {
  readonly sessionToken: string
  readonly expiration: Date
}

/**
 * What an AWS SDK v3 client passes to a credentials provider (its `callerClientConfig`, e.g. the
 * region), typed as `@smithy/types` types it so podcreds providers fit the SDK's own chain helpers.
 */
export type IdentityProperties = NonNullable<Parameters<AwsCredentialIdentityProvider>[0]>
