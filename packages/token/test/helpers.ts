import { assertNoSecret } from '../../../test/support/secrets.js'

/** base64url of a JSON value or raw string. */
export function b64u(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value)
  return Buffer.from(text, 'utf8').toString('base64url')
}

/** An unsigned compact JWS with the given header and claims, and a canary-bearing signature. */
export function unsignedToken(header: unknown, claims: unknown, signature = b64u('SECRETCANARYSIG')): string {
  return `${b64u(header)}.${b64u(claims)}.${signature}`
}

/** A realistic projected service-account token's claims (EKS, Kubernetes 1.30+). */
export function kubernetesClaims(iat: number, ttlSeconds = 86_400): Record<string, unknown> {
  return {
    aud: ['sts.amazonaws.com'],
    exp: iat + ttlSeconds,
    iat,
    iss: 'https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF',
    jti: '2a0e8f55-1b7c-4a55-9b1d-3b9d2c1f7e11',
    'kubernetes.io': {
      namespace: 'payments',
      node: { name: 'ip-10-0-1-23.eu-west-1.compute.internal', uid: 'f2b4b7a0-1111-4c4c-9d9d-000000000001' },
      pod: { name: 'api-7d9f8b6c5d-x2x4z', uid: 'a1b2c3d4-2222-4c4c-9d9d-000000000002' },
      serviceaccount: { name: 'api', uid: 'b1c2d3e4-3333-4c4c-9d9d-000000000003' },
      warnafter: iat + 3607,
    },
    nbf: iat,
    sub: 'system:serviceaccount:payments:api',
  }
}

/** Asserts that no canary appears in any printed form of an error (test/support/secrets.ts). */
export function expectNoLeak(error: unknown, ...canaries: string[]): void {
  assertNoSecret(error, canaries)
}
