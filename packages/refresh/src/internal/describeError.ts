import { isCredentialsError, scrub } from '@podcreds/core'
import type { RefreshErrorInfo } from '../RefreshingProvider.js'

/**
 * The secret-free summary of a source error for `stats().lastError`, events and log lines.
 * CredentialsError messages never carry secrets by contract; any other error's message is
 * scrubbed of the secrets of the identity we hold (a source might echo them) and capped.
 */
export function describeError(error: unknown, at: number, secrets: readonly string[]): RefreshErrorInfo {
  const info: RefreshErrorInfo = {
    name: error instanceof Error ? error.name : typeof error,
    message: scrub(error instanceof Error ? error.message : String(error), secrets, 300),
    retryable: isTransient(error),
    at: new Date(at),
  }
  if (isCredentialsError(error)) {
    info.code = error.code
    if (error.status !== undefined) info.status = error.status
    if (error.stsCode !== undefined) info.stsCode = error.stsCode
  }
  return info
}

/**
 * Rule 7: a CredentialsError that says `retryable: false` (AccessDenied, InvalidIdentityToken,
 * a 403 from the agent) is non-recoverable; everything else, including errors that are not ours
 * (a bug or a foreign provider), counts as transient and is retried with the rule-6 backoff.
 */
export function isTransient(error: unknown): boolean {
  return !isCredentialsError(error) || error.retryable
}

/** The strings of an identity that must never appear in our output. */
export function secretsOf(identity: unknown): string[] {
  const out: string[] = []
  if (typeof identity !== 'object' || identity === null) return out
  for (const field of ['secretAccessKey', 'sessionToken', 'token']) {
    const value = (identity as Record<string, unknown>)[field]
    if (typeof value === 'string') out.push(value)
  }
  return out
}
