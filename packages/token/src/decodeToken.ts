import { validateInteger } from '@podcreds/core'
import { decodeProtectedHeader } from 'jose/decode/protected_header'
import { decodeJwt } from 'jose/jwt/decode'
import { invalidToken } from './internal/invalidToken.js'
import { kind, validateClaims, validateHeader } from './internal/validateClaims.js'
import type { DecodedToken } from './TokenClaims.js'

/** Options of {@link decodeToken}. */
export interface DecodeTokenOptions {
  /**
   * Longest accepted token, in characters. Projected tokens are about 1 KiB.
   * @defaultValue 16384 ({@link DEFAULT_MAX_TOKEN_LENGTH})
   */
  maxLength?: number
}

/** @defaultValue 16384 — the same cap as {@link DEFAULT_MAX_TOKEN_BYTES} for token files. */
export const DEFAULT_MAX_TOKEN_LENGTH = 16_384

// Compact JWS: header.payload.signature, base64url without padding. The signature may be empty
// (an unsecured `alg: none` token still decodes; verifyToken rejects it).
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/**
 * Decodes a service-account token (a compact JWS) **without verifying it**: the typed header and
 * claims, with the registered claims' and the `kubernetes.io` claim's types checked. Use
 * {@link verifyToken} to trust the content.
 *
 * Throws `ERR_TOKEN_INVALID` for anything that is not such a token (not three parts, bad
 * base64url, not JSON, over {@link DecodeTokenOptions.maxLength}, wrong claim types). The message
 * never contains the token.
 *
 * @param jwt - the token, e.g. from {@link readToken}
 * @param options - size cap
 * @example
 * ```ts
 * const { header, claims } = decodeToken(jwt)
 * console.log(header.kid, claims.sub, claims['kubernetes.io']?.pod?.name)
 * ```
 */
export function decodeToken(jwt: string, options?: DecodeTokenOptions): DecodedToken {
  validateInteger('maxLength', options?.maxLength, 1, Number.MAX_SAFE_INTEGER)
  const maxLength = options?.maxLength ?? DEFAULT_MAX_TOKEN_LENGTH
  if (typeof jwt !== 'string') throw invalidToken(`expected a string, got ${kind(jwt)}`)
  if (jwt.length > maxLength) {
    throw invalidToken(`${jwt.length} characters, over the ${maxLength}-character cap`)
  }
  if (!COMPACT_JWS.test(jwt)) {
    const parts = jwt.split('.').length
    throw invalidToken(
      parts === 3
        ? 'a part is empty or not base64url'
        : `expected 3 dot-separated parts (compact JWS), got ${parts}`,
    )
  }
  let header: Record<string, unknown>
  try {
    header = decodeProtectedHeader(jwt) as Record<string, unknown>
  } catch {
    throw invalidToken('the header is not a base64url-encoded JSON object')
  }
  let claims: Record<string, unknown>
  try {
    claims = decodeJwt(jwt)
  } catch {
    throw invalidToken('the payload is not a base64url-encoded JSON object')
  }
  validateHeader(header)
  validateClaims(claims)
  return { header, claims }
}
