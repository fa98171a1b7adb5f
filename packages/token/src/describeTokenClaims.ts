import { scrub } from '@podcreds/core'
import { decodeToken } from './decodeToken.js'
import { toEpochMs } from './internal/toEpochMs.js'

/** Options of {@link describeTokenClaims}. */
export interface DescribeTokenClaimsOptions {
  /**
   * The time to judge expiry at: a `Date` or epoch milliseconds. When given, a token with `exp`
   * also gets `tokenExpired: 'yes' | 'no'`.
   * @defaultValue none (no `tokenExpired` entry)
   */
  now?: Date | number
}

// Claims are not secret, but they are text from a file anyone who can write the volume controls:
// a `describe()` result ends up on a terminal (`podcreds doctor`, `explain().toString()`).
const MAX_CLAIM_LENGTH = 256

/**
 * A token's claims as the `details` of a provider's `describe()`: what `explain()` and
 * `podcreds doctor` print. Never the token itself, and never throws for a bad token.
 *
 * - a token that decodes (see {@link decodeToken}; not verified): `tokenFormat: 'jwt'` and, when
 *   present, `tokenIssuer` (`iss`), `tokenSubject` (`sub`), `tokenAudience` (`aud`, joined with
 *   `", "`), `tokenExpiresAt` (`exp` as an ISO 8601 string), and `tokenExpired` (`'yes'` or
 *   `'no'`) when `options.now` is given;
 * - anything else (an ECS token, an OAuth access token, garbage): `{ tokenFormat: 'opaque' }`.
 *
 * Each claim value passes through `scrub()` of `@podcreds/core` (control characters blanked,
 * capped at 256 characters), so a hostile token cannot forge output lines or send terminal
 * escapes. Throws only a `TypeError` for a bad `now`.
 *
 * @param jwt - the token, e.g. from {@link readToken}
 * @param options - the time to judge expiry at
 * @example
 * ```ts
 * const details = describeTokenClaims(await readToken(path), { now: Date.now() })
 * // { tokenFormat: 'jwt', tokenIssuer: 'https://oidc.eks…', tokenSubject: 'system:serviceaccount:shop:checkout',
 * //   tokenAudience: 'sts.amazonaws.com', tokenExpiresAt: '2026-11-24T13:00:00.000Z', tokenExpired: 'no' }
 * ```
 */
export function describeTokenClaims(
  jwt: string,
  options?: DescribeTokenClaimsOptions,
): Record<string, string> {
  const now = options?.now === undefined ? undefined : toEpochMs(options.now, Date.now)
  let claims: ReturnType<typeof decodeToken>['claims']
  try {
    claims = decodeToken(jwt).claims
  } catch {
    return { tokenFormat: 'opaque' }
  }
  const clean = (value: string): string => scrub(value, [], MAX_CLAIM_LENGTH)
  const details: Record<string, string> = { tokenFormat: 'jwt' }
  if (claims.iss !== undefined) details['tokenIssuer'] = clean(claims.iss)
  if (claims.sub !== undefined) details['tokenSubject'] = clean(claims.sub)
  if (claims.aud !== undefined) {
    details['tokenAudience'] = clean(typeof claims.aud === 'string' ? claims.aud : claims.aud.join(', '))
  }
  // decodeToken checked exp is a number; a huge one is still no valid Date.
  const exp = claims.exp === undefined ? Number.NaN : new Date(claims.exp * 1000).getTime()
  if (!Number.isNaN(exp)) {
    details['tokenExpiresAt'] = new Date(exp).toISOString()
    if (now !== undefined) details['tokenExpired'] = now >= exp ? 'yes' : 'no'
  }
  return details
}
