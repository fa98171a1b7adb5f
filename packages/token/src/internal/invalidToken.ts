import { CredentialsError } from '@podcreds/core'

/**
 * An `ERR_TOKEN_INVALID` error. `reason` must never contain the token: callers pass fixed text
 * and claim names only. No `cause` is attached on purpose: jose's and `JSON.parse`'s messages
 * quote the input they failed on.
 */
export function invalidToken(reason: string): CredentialsError {
  return new CredentialsError(`invalid service-account token: ${reason}`, { code: 'ERR_TOKEN_INVALID' })
}
