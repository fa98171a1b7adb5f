import type { createLocalJWKSet } from 'jose/jwks/local'
import type { jwtVerify } from 'jose/jwt/verify'

/** The parts of jose the verify path needs. */
export interface JoseVerify {
  jwtVerify: typeof jwtVerify
  createLocalJWKSet: typeof createLocalJWKSet
}

let loading: Promise<JoseVerify> | undefined

/**
 * Loads jose's verify modules on first use, never at import time (DESIGN "Cold-start budget":
 * only code that verifies pays for them; `decodeToken` users never do).
 */
export function loadJose(): Promise<JoseVerify> {
  loading ??= Promise.all([import('jose/jwt/verify'), import('jose/jwks/local')]).then(
    ([verify, local]) => ({ jwtVerify: verify.jwtVerify, createLocalJWKSet: local.createLocalJWKSet }),
    (error: unknown) => {
      loading = undefined
      throw error
    },
  )
  return loading
}
