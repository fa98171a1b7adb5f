export type { DecodeTokenOptions } from './decodeToken.js'
export { DEFAULT_MAX_TOKEN_LENGTH, decodeToken } from './decodeToken.js'
export type { DescribeTokenClaimsOptions } from './describeTokenClaims.js'
export { describeTokenClaims } from './describeTokenClaims.js'
export type { InspectTokenOptions, TokenInspection, TokenServiceAccount } from './inspectToken.js'
export { inspectToken } from './inspectToken.js'
export type { ServiceAccountRef } from './parseServiceAccountSubject.js'
export { parseServiceAccountSubject } from './parseServiceAccountSubject.js'
export { DEFAULT_MAX_TOKEN_BYTES, readToken } from './read.js'
export type { ReadFile, ReadTokenOptions } from './readToken.js'
export type {
  DecodedToken,
  KubernetesClaims,
  KubernetesObjectRef,
  TokenClaims,
  TokenHeader,
} from './TokenClaims.js'
export type {
  JsonWebKeySet,
  TokenVerifier,
  TokenVerifierOptions,
  VerifyCallOptions,
  VerifyTokenOptions,
} from './verifyToken.js'
export {
  createTokenVerifier,
  DEFAULT_ALGORITHMS,
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_MAX_AGE_MS,
  DEFAULT_VERIFY_TIMEOUT_MS,
  verifyToken,
} from './verifyToken.js'
export type { TokenWatcher, WatchTokenOptions } from './watchToken.js'
export { DEFAULT_WATCH_DEBOUNCE_MS, DEFAULT_WATCH_POLL_INTERVAL_MS, watchToken } from './watchToken.js'
