import { inspect } from 'node:util'
import { type Emulator, startEmulator } from '@podcreds/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agentKeys, fakeClock, getCredentials } from './helpers.js'

describe('Pod Identity agent', () => {
  const clock = fakeClock()
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await startEmulator({
      clock,
      associations: [
        {
          namespace: 'default',
          serviceAccount: 'app',
          roleArn: 'arn:aws:iam::111122223333:role/podcreds-demo',
        },
        {
          namespace: 'default',
          serviceAccount: 'untrusted',
          roleArn: 'arn:aws:iam::111122223333:role/irsa-only',
        },
      ],
      roles: [
        {
          arn: 'arn:aws:iam::111122223333:role/podcreds-demo',
          trustPolicy: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'pods.eks.amazonaws.com' },
                Action: ['sts:AssumeRole', 'sts:TagSession'],
              },
            ],
          },
        },
        {
          arn: 'arn:aws:iam::111122223333:role/irsa-only',
          trustPolicy: ({ oidcProviderArn }) => ({
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Federated: oidcProviderArn },
                Action: 'sts:AssumeRoleWithWebIdentity',
              },
            ],
          }),
        },
      ],
    })
  })
  afterAll(() => emulator.close())

  it('answers the agent JSON for a valid Pod Identity token', async () => {
    const token = await emulator.mintToken({ audience: 'pods.eks.amazonaws.com' })
    const reply = await getCredentials(emulator.agentUrl, token)
    expect(reply.status).toBe(200)
    expect(reply.headers['content-type']).toBe('application/json')
    const keys = agentKeys(reply)
    expect(keys.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/)
    expect(keys.secretAccessKey).toHaveLength(40)
    expect(keys.sessionToken!.length).toBeGreaterThan(100)
    expect(keys.accountId).toBe('111122223333')
    // Go's time.RFC3339Nano, as the agent marshals it (pkg/credentials/model.go): fractional
    // seconds, trailing zeros trimmed; 6 h sets by default, as EKS Auth issues them.
    expect(keys.expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z$/)
    expect(Date.parse(keys.expiration)).toBe(clock.now() + 21_600_000)
    // The same token gets the same set (refreshing_cache.go keys its cache by the token).
    const again = agentKeys(await getCredentials(emulator.agentUrl, token))
    expect(again).toEqual(keys)
  })

  it('reads the token raw from Authorization, trimming surrounding whitespace', async () => {
    const token = await emulator.mintToken({ audience: 'pods.eks.amazonaws.com' })
    expect((await getCredentials(emulator.agentUrl, ` ${token}\t`)).status).toBe(200)
  })

  const cases: [string, (e: Emulator) => Promise<string | undefined>, number, RegExp][] = [
    ['no token', async () => undefined, 400, /cannot be empty/],
    ['garbage', async () => 'SECRETCANARY-not-a-jwt', 400, /InvalidTokenException/],
    [
      'a foreign signing key',
      (e) => e.mintToken({ audience: 'pods.eks.amazonaws.com', foreignKey: true }),
      400,
      /signature/,
    ],
    [
      'another issuer',
      (e) => e.mintToken({ audience: 'pods.eks.amazonaws.com', issuer: 'https://evil.example' }),
      400,
      /InvalidTokenException/,
    ],
    ['the IRSA audience', (e) => e.mintToken({ audience: 'sts.amazonaws.com' }), 400, /audience/],
    [
      'an expired token',
      (e) =>
        e.mintToken({
          audience: 'pods.eks.amazonaws.com',
          issuedAt: Date.now() - 7_200_000,
          lifetimeMs: 3_600_000,
        }),
      400,
      /ExpiredTokenException/,
    ],
    [
      'no association',
      (e) => e.mintToken({ audience: 'pods.eks.amazonaws.com', serviceAccount: 'nobody' }),
      404,
      /association.*default\/nobody/,
    ],
    [
      'a role that does not trust Pod Identity',
      (e) => e.mintToken({ audience: 'pods.eks.amazonaws.com', serviceAccount: 'untrusted' }),
      403,
      /AccessDeniedException.*irsa-only/,
    ],
  ]
  for (const [name, mint, status, message] of cases) {
    it(`answers ${status} text/plain for ${name}, without echoing the token`, async () => {
      const token = await mint(emulator)
      const reply = await getCredentials(emulator.agentUrl, token)
      expect(reply.status).toBe(status)
      expect(reply.headers['content-type']).toMatch(/^text\/plain/)
      expect(reply.body).toMatch(message)
      if (token !== undefined) expect(reply.body).not.toContain(token)
      expect(inspect(reply)).not.toContain('SECRETCANARY')
    })
  }

  it('answers 429 when throttled and 500 on an injected error, then recovers', async () => {
    const token = await emulator.mintToken({ audience: 'pods.eks.amazonaws.com' })
    emulator.faults.set({ agent: { throttle: true } })
    const throttled = await getCredentials(emulator.agentUrl, token)
    emulator.faults.set({ agent: { status: 500 } })
    const failed = await getCredentials(emulator.agentUrl, token)
    emulator.faults.clear('agent')
    const healed = await getCredentials(emulator.agentUrl, token)
    expect([throttled.status, failed.status, healed.status]).toEqual([429, 500, 200])
    expect(throttled.body).toMatch(/Throttling/)
    expect(failed.headers['content-type']).toMatch(/^text\/plain/)
  })
})
