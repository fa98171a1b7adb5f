import type { AwsCredentialIdentity } from '@smithy/types'

/** What a redacted secret prints as. */
export const REDACTED = '[redacted]'

/**
 * Shortens an access key id to its first and last four characters (`AKIA…WXYZ`), enough to tell
 * keys apart in logs without printing the id whole. Short or empty ids print as `…`.
 *
 * @example
 * ```ts
 * redactKeyId('AKIAIOSFODNN7EXAMPLE') // 'AKIA…MPLE'
 * ```
 */
export function redactKeyId(accessKeyId: string): string {
  if (accessKeyId.length < 12) return '…'
  return `${accessKeyId.slice(0, 4)}…${accessKeyId.slice(-4)}`
}

/**
 * Replaces every occurrence of each secret in `text` with `[redacted]`, and caps the text at
 * `maxLength` characters. For text that comes from outside (an agent's error body) and might echo
 * what we sent. Control characters, line breaks included, become spaces (a tab stays).
 *
 * @param maxLength - cap on the returned text, in characters. @defaultValue 512
 * @example
 * ```ts
 * scrub(`bad token ${token}`, [token]) // 'bad token [redacted]'
 * ```
 */
export function scrub(text: string, secrets: readonly (string | undefined)[], maxLength = 512): string {
  let out = text
  for (const secret of secrets) {
    // Very short strings would redact ordinary words; secrets we handle are long.
    if (secret !== undefined && secret.length >= 8) out = out.split(secret).join(REDACTED)
  }
  // Control characters (line breaks included: C0, DEL, C1, U+2028/2029) would let a hostile server
  // forge log lines or terminal output; only the tab survives.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
  out = out.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
  return out.length > maxLength ? `${out.slice(0, maxLength)}…` : out
}

/** The printable, secret-free form of a set of credentials. */
export interface RedactedCredentials {
  /** The access key id shortened by {@link redactKeyId}, e.g. `ASIA…WXYZ`. */
  accessKeyId: string
  /** Always `[redacted]`. */
  secretAccessKey: typeof REDACTED
  /** `[redacted]` when the credentials have a session token. */
  sessionToken?: typeof REDACTED
  /** The expiry as an ISO 8601 string, when known. */
  expiration?: string
  /** The AWS account id, when the source told it (not a secret). */
  accountId?: string
}

/**
 * The secret-free form of credentials, for logs and CLI output.
 *
 * @example
 * ```ts
 * logger.info('resolved', { credentials: redactCredentials(creds) })
 * ```
 */
export function redactCredentials(credentials: AwsCredentialIdentity): RedactedCredentials {
  const out: RedactedCredentials = {
    accessKeyId: redactKeyId(credentials.accessKeyId),
    secretAccessKey: REDACTED,
  }
  if (credentials.sessionToken !== undefined) out.sessionToken = REDACTED
  if (credentials.expiration !== undefined) out.expiration = credentials.expiration.toISOString()
  if (credentials.accountId !== undefined) out.accountId = credentials.accountId
  return out
}
