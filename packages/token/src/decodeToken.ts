import { validateInteger } from '@podcreds/core'
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

let strictUtf8: InstanceType<typeof TextDecoder> | undefined

// Decodes one base64url part to a JSON object, as jose's decodeJwt does, but with Node's native
// base64url decoder: jose's portable decoder (atob and a byte loop) made decodeToken 1.6x slower
// than decodeJwt alone, over the 1.5x budget, and the import costs ~12 ms (DESIGN
// "Cold-start budget"). Buffer.from skips characters outside the alphabet, hence the regex above
// and the length check here (a length of 4n+1 is not base64).
function decodePart(part: string): Record<string, unknown> | undefined {
  if (part.length % 4 === 1) return undefined
  strictUtf8 ??= new TextDecoder('utf-8', { fatal: true })
  let value: unknown
  try {
    value = JSON.parse(strictUtf8.decode(Buffer.from(part, 'base64url')))
  } catch {
    return undefined
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

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
  const headerEnd = jwt.indexOf('.')
  const payloadEnd = jwt.indexOf('.', headerEnd + 1)
  const header = decodePart(jwt.slice(0, headerEnd))
  if (header === undefined) throw invalidToken('the header is not a base64url-encoded JSON object')
  const claims = decodePart(jwt.slice(headerEnd + 1, payloadEnd))
  if (claims === undefined) throw invalidToken('the payload is not a base64url-encoded JSON object')
  validateHeader(header)
  validateClaims(claims)
  return { header, claims }
}
