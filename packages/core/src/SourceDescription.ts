import type { IdentityProperties } from './Credentials.js'

/**
 * What a credential source finds in its configuration, without any network call: the answer
 * `explain()` and `podcreds doctor` print for one chain link. Never carries a secret: token
 * claims and file paths yes, token text and keys no.
 */
export interface SourceDescription {
  /** Whether the source is set up here (its environment variables or options are present). */
  configured: boolean
  /** One human sentence: why it is (not) configured, or what it would do. */
  reason: string
  /** Facts for humans and `--json`: the endpoint, the token file, the role ARN, token claims… */
  details: Record<string, string>
}

/**
 * A credentials provider that can also describe its configuration (see {@link SourceDescription}).
 * `describe()` reads the environment and files as a call would, but sends nothing; a source
 * that is configured but broken (a malformed URI, an unreadable token file) rejects with the same
 * `CredentialsError` a call would.
 */
export interface DescribableProvider<T> {
  /**
   * Resolves the identity, as any `AwsCredentialIdentityProvider` does.
   * @param identityProperties - what the calling AWS SDK client passes (e.g. its region); may be ignored
   */
  (identityProperties?: IdentityProperties): Promise<T>
  /** What the source finds in its configuration; no network call. */
  describe(): Promise<SourceDescription>
}
