import { describeTokenClaims } from '@podcreds/token'
import { describe, expect, it } from 'vitest'
import { kubernetesClaims, unsignedToken } from './helpers.js'

const HEADER = { alg: 'RS256', kid: 'k8s-key-1' }
const IAT = 1_764_000_000

describe('describeTokenClaims', () => {
  it('shows issuer, subject, audience and expiry of a projected token, never the token', () => {
    const jwt = unsignedToken(HEADER, kubernetesClaims(IAT))
    const details = describeTokenClaims(jwt)
    expect(details).toEqual({
      tokenFormat: 'jwt',
      tokenIssuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF',
      tokenSubject: 'system:serviceaccount:payments:api',
      tokenAudience: 'sts.amazonaws.com',
      tokenExpiresAt: new Date((IAT + 86_400) * 1000).toISOString(),
    })
    expect(JSON.stringify(details)).not.toContain('SECRETCANARY')
  })

  it('joins several audiences and omits absent claims', () => {
    const jwt = unsignedToken(HEADER, { aud: ['a', 'b'] })
    expect(describeTokenClaims(jwt)).toEqual({ tokenFormat: 'jwt', tokenAudience: 'a, b' })
  })

  it('tells whether the token is expired at now (a Date or epoch ms)', () => {
    const jwt = unsignedToken(HEADER, kubernetesClaims(IAT, 3600))
    const exp = (IAT + 3600) * 1000
    expect(describeTokenClaims(jwt, { now: exp - 1 })['tokenExpired']).toBe('no')
    expect(describeTokenClaims(jwt, { now: new Date(exp) })['tokenExpired']).toBe('yes')
    expect(describeTokenClaims(unsignedToken(HEADER, { sub: 'x' }), { now: exp })).toEqual({
      tokenFormat: 'jwt',
      tokenSubject: 'x',
    })
    expect(() => describeTokenClaims(jwt, { now: Number.NaN })).toThrow(TypeError)
  })

  it('answers opaque, without any of the text, for what does not decode', () => {
    for (const token of [
      'SECRETCANARYOPAQUE0001',
      'a.b.c',
      '',
      unsignedToken(HEADER, { sub: 42 }),
      `${'x'.repeat(20_000)}.y.z`,
    ]) {
      expect(describeTokenClaims(token)).toEqual({ tokenFormat: 'opaque' })
    }
  })

  it('blanks control characters and caps each claim (a hostile token cannot forge output lines)', () => {
    const jwt = unsignedToken(HEADER, {
      iss: 'https://oidc.example.com/id/TEST\u001b[2J',
      sub: 'system:serviceaccount:default:app\nforged line\u2028x',
      aud: ['sts.amazonaws.com\u001b]0;title\u0007', 'y'.repeat(300)],
    })
    const details = describeTokenClaims(jwt)
    for (const value of Object.values(details)) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
      expect(value).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/)
      expect(value.length).toBeLessThanOrEqual(257)
    }
    expect(details['tokenSubject']).toBe('system:serviceaccount:default:app forged line x')
    expect(details['tokenAudience']?.endsWith('…')).toBe(true)
  })
})
