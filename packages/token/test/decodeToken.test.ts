import {
  type DecodedToken,
  decodeToken,
  inspectToken,
  parseServiceAccountSubject,
  type TokenInspection,
} from '@podcreds/token'
import fc from 'fast-check'
import { decodeJwt } from 'jose'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { thrownBy } from '../../../test/support/errors.js'
import { b64u, expectNoLeak, kubernetesClaims, unsignedToken } from './helpers.js'

const HEADER = { alg: 'RS256', kid: 'k8s-key-1' }
const IAT = 1_764_000_000

describe('decodeToken', () => {
  it('returns typed header and Kubernetes claims of a projected token', () => {
    const jwt = unsignedToken(HEADER, kubernetesClaims(IAT))
    const { header, claims } = decodeToken(jwt)
    expect(header).toEqual(HEADER)
    expect(claims.sub).toBe('system:serviceaccount:payments:api')
    expect(claims.aud).toEqual(['sts.amazonaws.com'])
    expect(claims.exp).toBe(IAT + 86_400)
    expect(claims.iat).toBe(IAT)
    expect(claims.nbf).toBe(IAT)
    const k8s = claims['kubernetes.io']
    expect(k8s?.namespace).toBe('payments')
    expect(k8s?.serviceaccount).toEqual({ name: 'api', uid: 'b1c2d3e4-3333-4c4c-9d9d-000000000003' })
    expect(k8s?.pod?.name).toBe('api-7d9f8b6c5d-x2x4z')
    expect(k8s?.node?.name).toBe('ip-10-0-1-23.eu-west-1.compute.internal')
    expect(k8s?.warnafter).toBe(IAT + 3607)
  })

  it('types the claims a caller reads', () => {
    expectTypeOf(decodeToken).returns.toEqualTypeOf<DecodedToken>()
    expectTypeOf<DecodedToken['claims']['aud']>().toEqualTypeOf<string | string[] | undefined>()
    expectTypeOf<DecodedToken['claims']['exp']>().toEqualTypeOf<number | undefined>()
    expectTypeOf<NonNullable<DecodedToken['claims']['kubernetes.io']>['namespace']>().toEqualTypeOf<string>()
    expectTypeOf<DecodedToken['header']['alg']>().toEqualTypeOf<string>()
    expectTypeOf<TokenInspection['audiences']>().toEqualTypeOf<string[]>()
    expectTypeOf<TokenInspection['expiresAt']>().toEqualTypeOf<Date | undefined>()
  })

  it('accepts a string audience and a token without kubernetes.io claims', () => {
    const { claims } = decodeToken(unsignedToken(HEADER, { iss: 'https://issuer', aud: 'one', exp: 1 }))
    expect(claims.aud).toBe('one')
    expect(claims['kubernetes.io']).toBeUndefined()
  })

  const canary = 'SECRETCANARYPAYLOAD'
  const bad: [string, string][] = [
    ['two parts', `${b64u(HEADER)}.${b64u({ sub: canary })}`],
    ['four parts', `${b64u(HEADER)}.${b64u({ sub: canary })}.c2ln.eHg`],
    ['a JWE (five parts)', `${b64u(HEADER)}.${b64u(canary)}.a.b.c`],
    ['empty string', ''],
    ['bad base64url characters', `${b64u(HEADER)}.${b64u({ sub: canary })}+/=.sig`],
    ['base64 padding', `${b64u(HEADER)}.${b64u({ sub: canary })}==.sig`],
    [
      'whitespace inside a part',
      `${b64u(HEADER)}.${b64u({ sub: canary }).slice(0, 8)} ${b64u({ sub: canary }).slice(8)}.sig`,
    ],
    [
      'non-UTF-8 payload',
      `${b64u(HEADER)}.${Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64url')}.sig`,
    ],
    ['base64url of impossible length', `${b64u(HEADER)}.${b64u({ sub: canary })}A.sig`],
    ['non-JSON payload', `${b64u(HEADER)}.${b64u(`{not json ${canary}`)}.sig`],
    ['non-JSON header', `${b64u(`{${canary}`)}.${b64u({ sub: 'x' })}.sig`],
    ['JSON array payload', `${b64u(HEADER)}.${b64u([canary])}.sig`],
    ['header without alg', unsignedToken({ kid: canary }, { sub: 'x' })],
    ['exp as a string', unsignedToken(HEADER, { exp: canary })],
    ['aud as a number array', unsignedToken(HEADER, { aud: [1, 2], sub: canary })],
    ['iss as an object', unsignedToken(HEADER, { iss: { canary } })],
    [
      'kubernetes.io without serviceaccount',
      unsignedToken(HEADER, { 'kubernetes.io': { namespace: canary } }),
    ],
    [
      'kubernetes.io pod.uid as a number',
      unsignedToken(HEADER, {
        'kubernetes.io': {
          namespace: 'n',
          serviceaccount: { name: 'a', uid: 'u' },
          pod: { name: canary, uid: 7 },
        },
      }),
    ],
    ['a huge token over the cap', unsignedToken(HEADER, { sub: canary, pad: 'x'.repeat(20_000) })],
  ]
  for (const [name, jwt] of bad) {
    it(`rejects ${name} with ERR_TOKEN_INVALID, not echoing the token`, () => {
      const err = thrownBy(() => decodeToken(jwt))
      expect(err.code).toBe('ERR_TOKEN_INVALID')
      expect(err.message).toMatch(/^invalid service-account token: /)
      expectNoLeak(err, canary, 'SECRETCANARYSIG')
    })
  }

  it('rejects a non-string', () => {
    expect(thrownBy(() => decodeToken(42 as unknown as string)).code).toBe('ERR_TOKEN_INVALID')
  })

  it('honours maxLength and validates it', () => {
    const jwt = unsignedToken(HEADER, kubernetesClaims(IAT))
    expect(thrownBy(() => decodeToken(jwt, { maxLength: 100 })).code).toBe('ERR_TOKEN_INVALID')
    expect(() => decodeToken(jwt, { maxLength: 0 })).toThrow(TypeError)
    expect(() => decodeToken(jwt, { maxLength: 0 })).toThrow(/maxLength/)
  })

  it('never crashes on arbitrary input: returns a decoded token or throws ERR_TOKEN_INVALID', () => {
    const part = fc.oneof(
      fc.string(),
      fc.base64String().map((s) => s.replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_')),
      fc.jsonValue().map((v) => b64u(JSON.stringify(v) ?? 'null')),
      fc
        .dictionary(
          fc.constantFrom('alg', 'kid', 'iss', 'sub', 'aud', 'exp', 'kubernetes.io'),
          fc.jsonValue(),
        )
        .map(b64u),
    )
    const token = fc.oneof(
      fc.string(),
      fc.array(part, { minLength: 0, maxLength: 6 }).map((parts) => parts.join('.')),
    )
    fc.assert(
      fc.property(token, (jwt) => {
        try {
          const decoded = decodeToken(jwt)
          expect(typeof decoded.header.alg).toBe('string')
          expect(typeof decoded.claims).toBe('object')
        } catch (error) {
          expect((error as { code?: string }).code).toBe('ERR_TOKEN_INVALID')
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('accepts nothing that jose decodeJwt rejects, and decodes the same claims', () => {
    const part = fc.oneof(
      fc.string({ unit: fc.constantFrom('A', 'b', '-', '_', '=', ' ', '+', '/', 'e', 'y', 'J') }),
      fc.jsonValue().map((v) => b64u(JSON.stringify(v) ?? 'null')),
      fc.object().map(b64u),
    )
    fc.assert(
      fc.property(part, part, (p, sig) => {
        const jwt = `${b64u(HEADER)}.${p}.${sig}`
        let ours: unknown
        try {
          ours = decodeToken(jwt).claims
        } catch {
          return // rejecting more than jose is fine (e.g. jose's atob skips whitespace)
        }
        expect(decodeJwt(jwt)).toEqual(ours)
      }),
      { numRuns: 1000 },
    )
  })

  it('round-trips any well-typed claims set', () => {
    const claims = fc.record(
      {
        iss: fc.webUrl(),
        sub: fc.string(),
        aud: fc.oneof(fc.string(), fc.array(fc.string())),
        exp: fc.integer({ min: 0, max: 2 ** 40 }),
        iat: fc.integer({ min: 0, max: 2 ** 40 }),
        extra: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(claims, (c) => {
        const decoded = decodeToken(unsignedToken(HEADER, c))
        expect(decoded.claims).toEqual(JSON.parse(JSON.stringify(c)))
      }),
      { numRuns: 200 },
    )
  })
})

describe('parseServiceAccountSubject', () => {
  it('splits namespace and name', () => {
    expect(parseServiceAccountSubject('system:serviceaccount:payments:api')).toEqual({
      namespace: 'payments',
      name: 'api',
    })
    expect(parseServiceAccountSubject('system:serviceaccount:kube-system:aws-node.v2')).toEqual({
      namespace: 'kube-system',
      name: 'aws-node.v2',
    })
  })

  for (const subject of [
    'system:serviceaccount:payments',
    'system:serviceaccount::api',
    'system:serviceaccount:payments:',
    'system:serviceaccount:pay:ments:api',
    'system:serviceaccount:Payments:api',
    'system:node:ip-10-0-0-1',
    'arn:aws:iam::123456789012:role/x',
    '',
  ]) {
    it(`rejects ${JSON.stringify(subject)} with ERR_TOKEN_INVALID`, () => {
      expect(thrownBy(() => parseServiceAccountSubject(subject)).code).toBe('ERR_TOKEN_INVALID')
    })
  }

  it('does not echo a token passed by mistake', () => {
    const jwt = unsignedToken(HEADER, { sub: 'SECRETCANARYSUB' })
    const err = thrownBy(() => parseServiceAccountSubject(jwt))
    expect(err.code).toBe('ERR_TOKEN_INVALID')
    expectNoLeak(err, 'SECRETCANARYSIG', b64u({ sub: 'SECRETCANARYSUB' }))
  })
})

describe('inspectToken', () => {
  const jwt = unsignedToken(HEADER, kubernetesClaims(IAT, 86_400))

  it('computes lifetime, remaining time and kubelet rotation (80 % of TTL) at an injected now', () => {
    const now = (IAT + 3600) * 1000
    const info = inspectToken(jwt, { now })
    expect(info.issuer).toBe('https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF')
    expect(info.subject).toBe('system:serviceaccount:payments:api')
    expect(info.audiences).toEqual(['sts.amazonaws.com'])
    expect(info.issuedAt).toEqual(new Date(IAT * 1000))
    expect(info.expiresAt).toEqual(new Date((IAT + 86_400) * 1000))
    expect(info.lifetimeMs).toBe(86_400_000)
    expect(info.remainingMs).toBe(86_400_000 - 3_600_000)
    expect(info.rotationDueAt).toEqual(new Date((IAT + 69_120) * 1000))
    expect(info.rotationOverdue).toBe(false)
    expect(info.expired).toBe(false)
    expect(info.notYetValid).toBe(false)
    expect(info.serviceAccount).toEqual({
      namespace: 'payments',
      name: 'api',
      uid: 'b1c2d3e4-3333-4c4c-9d9d-000000000003',
    })
    expect(info.pod?.name).toBe('api-7d9f8b6c5d-x2x4z')
    expect(info.node?.name).toBe('ip-10-0-1-23.eu-west-1.compute.internal')
    expect(info.warnAfter).toEqual(new Date((IAT + 3607) * 1000))
  })

  it('caps rotation at 24 h for long-lived (extended) tokens', () => {
    const year = inspectToken(unsignedToken(HEADER, kubernetesClaims(IAT, 365 * 86_400)), {
      now: new Date(IAT * 1000),
    })
    expect(year.rotationDueAt).toEqual(new Date((IAT + 86_400) * 1000))
    const overdue = inspectToken(unsignedToken(HEADER, kubernetesClaims(IAT, 365 * 86_400)), {
      now: new Date((IAT + 2 * 86_400) * 1000),
    })
    expect(overdue.rotationOverdue).toBe(true)
    expect(overdue.expired).toBe(false)
  })

  it('uses 80 % of a short TTL', () => {
    const info = inspectToken(unsignedToken(HEADER, kubernetesClaims(IAT, 3600)), { now: IAT * 1000 })
    expect(info.rotationDueAt).toEqual(new Date((IAT + 2880) * 1000))
  })

  it('reports an expired token (at exp exactly) with negative remaining time', () => {
    const atExp = inspectToken(jwt, { now: (IAT + 86_400) * 1000 })
    expect(atExp.expired).toBe(true)
    expect(atExp.remainingMs).toBe(0)
    const later = inspectToken(jwt, { now: new Date((IAT + 86_401) * 1000) })
    expect(later.remainingMs).toBe(-1000)
  })

  it('reports a not-yet-valid token', () => {
    expect(inspectToken(jwt, { now: (IAT - 10) * 1000 }).notYetValid).toBe(true)
  })

  it('falls back to the subject for the service account, and handles missing times', () => {
    const info = inspectToken(unsignedToken(HEADER, { sub: 'system:serviceaccount:ns:sa', aud: 'a' }), {
      now: 0,
    })
    expect(info.serviceAccount).toEqual({ namespace: 'ns', name: 'sa' })
    expect(info.audiences).toEqual(['a'])
    expect(info.expired).toBe(false)
    expect(info.remainingMs).toBeUndefined()
    expect(info.rotationDueAt).toBeUndefined()
  })

  it('rejects a bad now with a TypeError and a malformed token with ERR_TOKEN_INVALID', () => {
    expect(() => inspectToken(jwt, { now: Number.NaN })).toThrow(/now/)
    expect(() => inspectToken(jwt, { now: new Date('nope') })).toThrow(TypeError)
    expect(thrownBy(() => inspectToken('a.b', { now: 0 })).code).toBe('ERR_TOKEN_INVALID')
  })
})
