import { readFile } from 'node:fs/promises'
import { type Emulator, lintTrustPolicy, startEmulator, type TrustPolicy } from '@podcreds/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Reply } from './helpers.js'
import { agentKeys, assumeRole, getCredentials, signedSend, stsForm, stsKeys, xmlField } from './helpers.js'

const IRSA_ROLE = 'arn:aws:iam::111122223333:role/podcreds-demo-irsa'

describe('STS AssumeRoleWithWebIdentity', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await startEmulator()
  })
  afterAll(() => emulator.close())

  it('issues credentials for the pod’s own IRSA token, as STS XML', async () => {
    const token = await emulator.mintToken()
    const reply = await assumeRole(emulator.stsUrl, IRSA_ROLE, token)
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('text/xml')
    expect(reply.body).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?><AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">/,
    )
    const keys = stsKeys(reply)
    expect(keys.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/)
    expect(keys.expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(xmlField(reply.body, 'SubjectFromWebIdentityToken')).toBe('system:serviceaccount:default:app')
    expect(xmlField(reply.body, 'Audience')).toBe('sts.amazonaws.com')
    expect(xmlField(reply.body, 'Arn')).toBe(
      'arn:aws:sts::111122223333:assumed-role/podcreds-demo-irsa/test-session',
    )
    expect(xmlField(reply.body, 'AssumedRoleId')).toMatch(/^AROA[A-Z2-7]{17}:test-session$/)
  })

  it('honours DurationSeconds', async () => {
    const reply = await assumeRole(emulator.stsUrl, IRSA_ROLE, await emulator.mintToken(), {
      DurationSeconds: '900',
    })
    const expiry = Date.parse(stsKeys(reply).expiration)
    expect(expiry - Date.now()).toBeLessThanOrEqual(900_000)
    expect(expiry - Date.now()).toBeGreaterThan(800_000)
  })

  const failures: [string, (e: Emulator) => Promise<string>, string, number, string, RegExp][] = [
    [
      'another service account',
      (e) => e.mintToken({ serviceAccount: 'other' }),
      IRSA_ROLE,
      403,
      'AccessDenied',
      /Not authorized/,
    ],
    [
      'another namespace',
      (e) => e.mintToken({ namespace: 'kube-system' }),
      IRSA_ROLE,
      403,
      'AccessDenied',
      /Not authorized/,
    ],
    [
      'an unknown role',
      (e) => e.mintToken(),
      'arn:aws:iam::111122223333:role/nope',
      403,
      'AccessDenied',
      /Not authorized/,
    ],
    [
      'the Pod Identity token',
      (e) => e.mintToken({ audience: 'pods.eks.amazonaws.com' }),
      IRSA_ROLE,
      400,
      'InvalidIdentityToken',
      /audience/,
    ],
    [
      'a foreign signature',
      (e) => e.mintToken({ foreignKey: true }),
      IRSA_ROLE,
      400,
      'InvalidIdentityToken',
      /signature/,
    ],
    [
      'another issuer',
      (e) => e.mintToken({ issuer: 'https://oidc.example.com/id/X' }),
      IRSA_ROLE,
      400,
      'InvalidIdentityToken',
      /No OpenIDConnect provider found in your account for oidc.example.com\/id\/X/,
    ],
    ['a garbage token', async () => 'SECRETCANARY.not.jwt', IRSA_ROLE, 400, 'InvalidIdentityToken', /parse/],
    [
      'an expired token',
      (e) => e.mintToken({ issuedAt: Date.now() - 7_200_000, lifetimeMs: 3_600_000 }),
      IRSA_ROLE,
      400,
      'ExpiredTokenException',
      /Token expired: current date\/time .* must be before the expiration date\/time/,
    ],
  ]
  for (const [name, mint, role, status, code, message] of failures) {
    it(`refuses ${name}: ${status} ${code}, without echoing the token`, async () => {
      const token = await mint(emulator)
      const reply = await assumeRole(emulator.stsUrl, role, token)
      expect(reply.status).toBe(status)
      expect(reply.body).toContain('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">')
      expect(xmlField(reply.body, 'Code')).toBe(code)
      expect(xmlField(reply.body, 'Message')).toMatch(message)
      expect(reply.body).not.toContain(token)
      expect(reply.body).not.toContain('SECRETCANARY')
    })
  }

  it('answers ValidationError for missing or malformed parameters and InvalidAction for unknown actions', async () => {
    const token = await emulator.mintToken()
    const noToken = await stsForm(emulator.stsUrl, {
      Action: 'AssumeRoleWithWebIdentity',
      RoleArn: IRSA_ROLE,
      RoleSessionName: 's1',
    })
    const badName = await assumeRole(emulator.stsUrl, IRSA_ROLE, token, { RoleSessionName: 'has space' })
    const badDuration = await assumeRole(emulator.stsUrl, IRSA_ROLE, token, { DurationSeconds: '60' })
    const unknown = await stsForm(emulator.stsUrl, { Action: 'GetSessionToken' })
    expect([noToken, badName, badDuration].map((r) => [r.status, xmlField(r.body, 'Code')])).toEqual([
      [400, 'ValidationError'],
      [400, 'ValidationError'],
      [400, 'ValidationError'],
    ])
    expect(xmlField(noToken.body, 'Message')).toMatch(/webIdentityToken/)
    expect([unknown.status, xmlField(unknown.body, 'Code')]).toEqual([400, 'InvalidAction'])
  })
})

describe('the IRSA trust-policy weakness', () => {
  const WILDCARD = 'arn:aws:iam::111122223333:role/wildcard-sub'
  const NO_AUD = 'arn:aws:iam::111122223333:role/no-aud'
  const STRICT = 'arn:aws:iam::111122223333:role/strict'
  const policies = new Map<string, TrustPolicy>()
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await startEmulator({
      // The cluster issuer is also registered for Vault: tokens for either audience pass IAM's audience check.
      clientIds: ['sts.amazonaws.com', 'vault.example.com'],
      roles: [
        {
          arn: WILDCARD,
          trustPolicy: ({ oidcProviderArn, issuerHostPath }) => {
            const policy: TrustPolicy = {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { Federated: oidcProviderArn },
                  Action: 'sts:AssumeRoleWithWebIdentity',
                  Condition: {
                    StringLike: { [`${issuerHostPath}:sub`]: 'system:serviceaccount:*' },
                    StringEquals: { [`${issuerHostPath}:aud`]: 'sts.amazonaws.com' },
                  },
                },
              ],
            }
            policies.set(WILDCARD, policy)
            return policy
          },
        },
        {
          arn: NO_AUD,
          trustPolicy: ({ oidcProviderArn, issuerHostPath }) => {
            const policy: TrustPolicy = {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { Federated: oidcProviderArn },
                  Action: 'sts:AssumeRoleWithWebIdentity',
                  Condition: { StringLike: { [`${issuerHostPath}:sub`]: 'system:serviceaccount:default:*' } },
                },
              ],
            }
            policies.set(NO_AUD, policy)
            return policy
          },
        },
        {
          arn: STRICT,
          trustPolicy: ({ oidcProviderArn, issuerHostPath }) => {
            const policy: TrustPolicy = {
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { Federated: oidcProviderArn },
                  Action: 'sts:AssumeRoleWithWebIdentity',
                  Condition: {
                    StringEquals: {
                      [`${issuerHostPath}:sub`]: 'system:serviceaccount:default:app',
                      [`${issuerHostPath}:aud`]: 'sts.amazonaws.com',
                    },
                  },
                },
              ],
            }
            policies.set(STRICT, policy)
            return policy
          },
        },
      ],
    })
  })
  afterAll(() => emulator.close())

  it('a wildcard sub lets any other service account’s token assume the role, and lint flags it', async () => {
    const intruder = await emulator.mintToken({ namespace: 'sandbox', serviceAccount: 'ci-runner' })
    const stolen = await assumeRole(emulator.stsUrl, WILDCARD, intruder)
    const refused = await assumeRole(emulator.stsUrl, STRICT, intruder)
    expect(stolen.status).toBe(200)
    expect(xmlField(stolen.body, 'SubjectFromWebIdentityToken')).toBe(
      'system:serviceaccount:sandbox:ci-runner',
    )
    expect([refused.status, xmlField(refused.body, 'Code')]).toEqual([403, 'AccessDenied'])
    expect(lintTrustPolicy(policies.get(WILDCARD)).map((f) => f.code)).toContain('WILDCARD_SUB')
    expect(lintTrustPolicy(policies.get(STRICT))).toEqual([])
  })

  it('a missing aud lets a token minted for another audience (and another service account) assume the role, and lint flags it', async () => {
    const vaultToken = await emulator.mintToken({
      serviceAccount: 'reporting',
      audience: 'vault.example.com',
    })
    const replayed = await assumeRole(emulator.stsUrl, NO_AUD, vaultToken)
    const refused = await assumeRole(
      emulator.stsUrl,
      STRICT,
      await emulator.mintToken({ audience: 'vault.example.com' }),
    )
    expect(replayed.status).toBe(200)
    expect(xmlField(replayed.body, 'Audience')).toBe('vault.example.com')
    expect([refused.status, xmlField(refused.body, 'Code')]).toEqual([403, 'AccessDenied'])
    const codes = lintTrustPolicy(policies.get(NO_AUD)).map((f) => f.code)
    expect(codes).toContain('MISSING_AUD')
    expect(codes).toContain('WILDCARD_SUB')
  })
})

describe('STS AssumeRole (signed, role chaining; issue 19)', () => {
  const CROSS = 'arn:aws:iam::444455556666:role/podcreds-demo-cross-account'
  let emulator: Emulator
  let pod: Awaited<ReturnType<typeof agentKeys>>
  beforeAll(async () => {
    emulator = await startEmulator()
    const token = await readFile(emulator.env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE!, 'utf8')
    pod = agentKeys(await getCredentials(emulator.agentUrl, token))
  })
  afterAll(() => emulator.close())
  const form = (params: Record<string, string>): string =>
    new URLSearchParams({ Action: 'AssumeRole', Version: '2011-06-15', ...params }).toString()

  it('issues the cross-account role to the pod role its trust policy names', async () => {
    const reply = await signedSend(emulator.stsUrl, pod, {
      service: 'sts',
      body: form({ RoleArn: CROSS, RoleSessionName: 'hop' }),
    })
    expect(reply.status).toBe(200)
    expect(reply.body).toContain('<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">')
    expect(xmlField(reply.body, 'Arn')).toBe(
      'arn:aws:sts::444455556666:assumed-role/podcreds-demo-cross-account/hop',
    )
    // The chained session defaults to (at most) an hour, as STS's.
    const expiry = Date.parse(xmlField(reply.body, 'Expiration') ?? '')
    expect(expiry - Date.now()).toBeLessThanOrEqual(3_600_000)
  })

  const refusals: [string, () => Promise<Reply>, number, string, RegExp][] = [
    [
      'an unsigned request',
      () =>
        stsForm(emulator.stsUrl, {
          Action: 'AssumeRole',
          Version: '2011-06-15',
          RoleArn: CROSS,
          RoleSessionName: 'x1',
        }),
      403,
      'MissingAuthenticationToken',
      /missing Authentication Token/,
    ],
    [
      'a tampered signature',
      () =>
        signedSend(emulator.stsUrl, pod, {
          service: 'sts',
          body: form({ RoleArn: CROSS, RoleSessionName: 'x2' }),
          tamper: (headers) => {
            headers.authorization = String(headers.authorization).replace(
              /Signature=[0-9a-f]{4}/,
              'Signature=0000',
            )
          },
        }),
      403,
      'SignatureDoesNotMatch',
      /signature we calculated/,
    ],
    [
      'a key the emulator never issued',
      () =>
        signedSend(
          emulator.stsUrl,
          { accessKeyId: 'ASIAUNKNOWN000000000', secretAccessKey: 'x', sessionToken: 'y' },
          {
            service: 'sts',
            body: form({ RoleArn: CROSS, RoleSessionName: 'x3' }),
          },
        ),
      403,
      'InvalidClientTokenId',
      /security token included in the request is invalid/,
    ],
    [
      'a chained session over an hour',
      () =>
        signedSend(emulator.stsUrl, pod, {
          service: 'sts',
          body: form({ RoleArn: CROSS, RoleSessionName: 'x4', DurationSeconds: '3601' }),
        }),
      400,
      'ValidationError',
      /exceeds the 1 hour session limit for roles assumed by role chaining/,
    ],
    [
      'a role whose trust policy does not name the caller (the IRSA role trusts only its OIDC provider)',
      () =>
        signedSend(emulator.stsUrl, pod, {
          service: 'sts',
          body: form({ RoleArn: IRSA_ROLE, RoleSessionName: 'x5' }),
        }),
      403,
      'AccessDenied',
      /is not authorized to perform: sts:AssumeRole on resource/,
    ],
  ]
  it.each(refusals)('refuses %s', async (_name, request, status, code, message) => {
    const reply = await request()
    expect(reply.status).toBe(status)
    expect(xmlField(reply.body, 'Code')).toBe(code)
    expect(xmlField(reply.body, 'Message')).toMatch(message)
  })
})
