import { inspect } from 'node:util'
import { fromContainer } from '@podcreds/container'
import type { AwsCredentialIdentity, HttpTransport, Logger } from '@podcreds/core'
import { CredentialsError, httpRequest } from '@podcreds/core'
import type { Emulator, EmulatorRole } from '@podcreds/emulator'
import { startEmulator } from '@podcreds/emulator'
import { refreshing } from '@podcreds/refresh'
import type { FromAssumeRoleOptions } from '@podcreds/sts'
import { fromAssumeRole, ROLE_CHAINING_MAX_DURATION_SECONDS } from '@podcreds/sts'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { credentialsErrorOf, thrownBy } from '../../../test/support/errors.js'
import { FakeClock } from '../../../test/support/fakeClock.js'
import { assertNoSecret } from '../../../test/support/secrets.js'

const POD_ROLE = 'arn:aws:iam::111122223333:role/podcreds-demo'
const CROSS = 'arn:aws:iam::444455556666:role/podcreds-demo-cross-account'
const WITH_EXTERNAL_ID = 'arn:aws:iam::444455556666:role/vendor-audit'
const SECOND_HOP = 'arn:aws:iam::777788889999:role/second-hop'
const UNTRUSTED = 'arn:aws:iam::444455556666:role/nobody-trusts-you'

const extraRoles: EmulatorRole[] = [
  {
    arn: WITH_EXTERNAL_ID,
    trustPolicy: {
      Statement: {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::111122223333:root' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: { StringEquals: { 'sts:ExternalId': 'vendor-4711' } },
      },
    },
  },
  {
    arn: SECOND_HOP,
    trustPolicy: { Statement: { Effect: 'Allow', Principal: { AWS: CROSS }, Action: 'sts:AssumeRole' } },
  },
  {
    arn: UNTRUSTED,
    trustPolicy: {
      Statement: { Effect: 'Allow', Principal: { AWS: '999999999999' }, Action: 'sts:AssumeRole' },
    },
  },
]

let emulator: Emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(() => emulator.close())

// The default roles plus a few more (`roles` replaces the defaults, so every role is named).
function rolesEmulator(): Promise<Emulator> {
  return startEmulator({
    roles: [
      {
        arn: POD_ROLE,
        trustPolicy: {
          Statement: {
            Effect: 'Allow',
            Principal: { Service: 'pods.eks.amazonaws.com' },
            Action: ['sts:AssumeRole', 'sts:TagSession'],
          },
        },
      },
      {
        arn: CROSS,
        trustPolicy: {
          Statement: { Effect: 'Allow', Principal: { AWS: POD_ROLE }, Action: 'sts:AssumeRole' },
        },
      },
      ...extraRoles,
    ],
  })
}

function options(e: Emulator, overrides: Partial<FromAssumeRoleOptions> = {}): FromAssumeRoleOptions {
  return { source: fromContainer({ env: e.env }), roleArn: CROSS, env: e.env, ...overrides }
}

/** Who the credentials are, asked of the emulator's SigV4-verifying STS (GetCallerIdentity). */
async function callerArn(e: Emulator, credentials: AwsCredentialIdentity): Promise<string> {
  const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts')
  const client = new STSClient({ region: 'us-east-1', endpoint: e.awsUrl, credentials })
  const { Arn } = await client.send(new GetCallerIdentityCommand({}))
  client.destroy()
  return Arn ?? ''
}

describe('fromAssumeRole against the emulator', () => {
  it('a Pod Identity pod assumes the cross-account role: signed AssumeRole, accountId, expiration', async () => {
    // Act: the README's form, the refresh engine over the source and over the hop.
    const source = refreshing(fromContainer({ env: emulator.env }))
    const provider = refreshing(
      fromAssumeRole({ source, roleArn: CROSS, roleSessionName: 'reports', env: emulator.env }),
    )
    const credentials = await provider()
    provider.close()
    source.close()
    // Assess
    expect(emulator.roleArns).toContain(CROSS)
    expect(credentials.accessKeyId).toMatch(/^ASIA/)
    expect(credentials.accountId).toBe('444455556666')
    expect(credentials.expiration.getTime()).toBeGreaterThan(Date.now())
    expect(await callerArn(emulator, credentials)).toBe(
      'arn:aws:sts::444455556666:assumed-role/podcreds-demo-cross-account/reports',
    )
  })

  it('chains roles: pod role → cross-account → a third account', async () => {
    const e = await rolesEmulator()
    try {
      const first = fromAssumeRole(options(e))
      const second = fromAssumeRole({
        source: first,
        roleArn: SECOND_HOP,
        env: e.env,
        roleSessionName: 'hop2',
      })
      const credentials = await second()
      expect(credentials.accountId).toBe('777788889999')
      expect(await callerArn(e, credentials)).toBe('arn:aws:sts::777788889999:assumed-role/second-hop/hop2')
    } finally {
      await e.close()
    }
  })

  it('sends the external id, tags and source identity the trust policy asks for', async () => {
    const e = await rolesEmulator()
    try {
      const bodies: string[] = []
      const transport: HttpTransport = (request, opts) => {
        bodies.push(request.body ?? '')
        return httpRequest(request, opts)
      }
      const credentials = await fromAssumeRole(
        options(e, {
          roleArn: WITH_EXTERNAL_ID,
          externalId: 'vendor-4711',
          tags: [{ key: 'team', value: 'audit' }],
          transitiveTagKeys: ['team'],
          transport,
        }),
      )()
      expect(credentials.accountId).toBe('444455556666')
      const form = new URLSearchParams(bodies[0])
      expect(form.get('Action')).toBe('AssumeRole')
      expect(form.get('ExternalId')).toBe('vendor-4711')
      expect(form.get('Tags.member.1.Key')).toBe('team')
      expect(form.get('Tags.member.1.Value')).toBe('audit')
      expect(form.get('TransitiveTagKeys.member.1')).toBe('team')
      // Without the external id the trust policy does not allow it: AccessDenied, not retried.
      let calls = 0
      const counting: HttpTransport = (request, opts) => {
        calls += 1
        return httpRequest(request, opts)
      }
      const error = await credentialsErrorOf(
        fromAssumeRole(options(e, { roleArn: WITH_EXTERNAL_ID, transport: counting }))(),
      )
      expect(error.code).toBe('ERR_STS')
      expect(error.stsCode).toBe('AccessDenied')
      expect(error.status).toBe(403)
      expect(error.retryable).toBe(false)
      expect(calls).toBe(1)
    } finally {
      await e.close()
    }
  })

  it('a role whose trust policy does not name the caller answers AccessDenied (ERR_STS, stsCode)', async () => {
    const e = await rolesEmulator()
    try {
      const error = await credentialsErrorOf(fromAssumeRole(options(e, { roleArn: UNTRUSTED }))())
      expect(error.code).toBe('ERR_STS')
      expect(error.stsCode).toBe('AccessDenied')
      expect(error.message).toContain(UNTRUSTED)
      expect(error.message).toContain('AssumeRole')
    } finally {
      await e.close()
    }
  })

  it('Throttling and 5xx are retried with jitter; the third attempt succeeds', async () => {
    let calls = 0
    const transport: HttpTransport = async (request, opts) => {
      calls += 1
      if (calls === 1) emulator.faults.set({ sts: { throttle: true } })
      if (calls === 2) emulator.faults.set({ sts: { status: 503 } })
      if (calls === 3) emulator.faults.clear('sts')
      return httpRequest(request, opts)
    }
    const delays: number[] = []
    const logger: Logger = {
      debug: (message, fields) => {
        if (message.includes('retrying')) delays.push(Number(fields?.delayMs))
      },
    }
    try {
      const credentials = await fromAssumeRole(options(emulator, { transport, random: () => 0, logger }))()
      expect(credentials.accountId).toBe('444455556666')
      expect(calls).toBe(3)
      expect(delays).toEqual([0, 0])
    } finally {
      emulator.faults.clear('sts')
    }
  })

  it('a source key STS rejects (InvalidClientTokenId) is invalidated at the source and tried once more', async () => {
    // Prepare: a source whose first answer is a key the emulator never issued.
    const real = fromContainer({ env: emulator.env })
    const invalidated: (string | undefined)[] = []
    let first = true
    const source = Object.assign(
      async () => {
        if (first) {
          first = false
          return {
            accessKeyId: 'ASIAUNKNOWNKEY000000',
            secretAccessKey: 'canary-secret-unknown',
            sessionToken: 'x',
          }
        }
        return real()
      },
      { invalidate: (key?: string) => invalidated.push(key) },
    )
    // Act
    const credentials = await fromAssumeRole({ source, roleArn: CROSS, env: emulator.env })()
    // Assess
    expect(credentials.accountId).toBe('444455556666')
    expect(invalidated).toEqual(['ASIAUNKNOWNKEY000000'])
  })

  it('a second rejection of the source key stands: ERR_STS InvalidClientTokenId, invalidate called once', async () => {
    const invalidated: (string | undefined)[] = []
    const source = Object.assign(
      async () => ({
        accessKeyId: 'ASIAUNKNOWNKEY000001',
        secretAccessKey: 'canary-secret-2',
        sessionToken: 'canary-tok-2',
      }),
      { invalidate: (key?: string) => invalidated.push(key) },
    )
    const error = await credentialsErrorOf(fromAssumeRole({ source, roleArn: CROSS, env: emulator.env })())
    expect(error.code).toBe('ERR_STS')
    expect(error.stsCode).toBe('InvalidClientTokenId')
    expect(invalidated).toHaveLength(1)
    assertNoSecret(error, ['canary-secret-2', 'canary-tok-2'])
  })

  it('expired source credentials: STS answers ExpiredToken; without invalidate() it is not retried', async () => {
    // The emulator's clock moves past the credentials' expiry: STS checks expiry first.
    const clock = new FakeClock(Date.now())
    const e = await startEmulator({ clock, rotateEveryMs: 0 })
    try {
      const stale = await fromContainer({ env: e.env })()
      clock.jump(stale.expiration.getTime() - clock.now() + 60_000)
      const error = await credentialsErrorOf(
        fromAssumeRole({ source: async () => stale, roleArn: CROSS, env: e.env })(),
      )
      expect(error.stsCode).toBe('ExpiredToken')
      expect(error.retryable).toBe(false)
      assertNoSecret(error, [stale.secretAccessKey, stale.sessionToken ?? ''])
    } finally {
      await e.close()
    }
  })

  it('a source failure stops the call with the source error as cause and its code', async () => {
    const cause = new CredentialsError('agent said no', {
      code: 'ERR_HTTP_STATUS',
      status: 500,
      retryable: true,
    })
    const error = await credentialsErrorOf(
      fromAssumeRole({
        source: async () => {
          throw cause
        },
        roleArn: CROSS,
        env: emulator.env,
      })(),
    )
    expect(error.code).toBe('ERR_HTTP_STATUS')
    expect(error.retryable).toBe(true)
    expect(error.cause).toBe(cause)
    expect(error.message).toContain('the source credentials failed: agent said no')
  })

  it(`refuses durationSeconds over ${ROLE_CHAINING_MAX_DURATION_SECONDS} on a chained hop before calling STS`, async () => {
    let calls = 0
    const transport: HttpTransport = (request, opts) => {
      calls += 1
      return httpRequest(request, opts)
    }
    const error = await credentialsErrorOf(
      fromAssumeRole(options(emulator, { durationSeconds: 7200, transport }))(),
    )
    expect(error.code).toBe('ERR_INVALID_CONFIG')
    expect(error.message).toMatch(
      /durationSeconds 7200 exceeds the 3600 s AWS allows for a role-chained session/,
    )
    expect(calls).toBe(0)
  })

  it('the emulator refuses a chained session over an hour as STS does (the AWS SDK sees ValidationError)', async () => {
    // The AWS SDK's own STS client signs this one, so the emulator's answer is checked
    // independently of fromAssumeRole (which refuses it before sending, above).
    const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts')
    const pod = await fromContainer({ env: emulator.env })()
    const client = new STSClient({
      region: 'us-east-1',
      endpoint: emulator.stsUrl,
      credentials: pod,
      maxAttempts: 1,
    })
    const send = (DurationSeconds: number) =>
      client.send(new AssumeRoleCommand({ RoleArn: CROSS, RoleSessionName: 'sdk', DurationSeconds }))
    const error = (await send(7200).then(
      () => undefined,
      (e: unknown) => e,
    )) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } }
    expect(error.name).toBe('ValidationError')
    expect(error.message).toBe(
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    )
    expect(error.$metadata?.httpStatusCode).toBe(400)
    const ok = await send(3600)
    expect(ok.AssumedRoleUser?.Arn).toBe(
      'arn:aws:sts::444455556666:assumed-role/podcreds-demo-cross-account/sdk',
    )
    client.destroy()
  })

  it('never puts the source secret or the session tokens in errors, logs or inspect output', async () => {
    const lines: string[] = []
    const logger: Logger = {
      debug: (m, f) => lines.push(m, JSON.stringify(f)),
      warn: (m, f) => lines.push(m, JSON.stringify(f)),
    }
    const pod = await fromContainer({ env: emulator.env })()
    const provider = fromAssumeRole({ source: async () => pod, roleArn: CROSS, env: emulator.env, logger })
    const credentials = await provider()
    const printed = [
      inspect(credentials),
      JSON.stringify(credentials),
      ...lines,
      JSON.stringify(await provider.describe()),
    ]
    for (const secret of [
      pod.secretAccessKey,
      pod.sessionToken ?? '',
      credentials.secretAccessKey,
      credentials.sessionToken ?? '',
    ]) {
      for (const text of printed) expect(text).not.toContain(secret)
    }
    expect(lines.join('\n')).toContain('assume-role: assumed role')
  })

  it('describe() shows the role, the endpoint and the source, without a network call', async () => {
    let calls = 0
    const description = await fromAssumeRole({
      source: Object.assign(
        async () => {
          calls += 1
          return { accessKeyId: 'AKIA', secretAccessKey: 's' }
        },
        {
          describe: async () => ({
            configured: true,
            reason: 'the Pod Identity agent',
            details: { roleArn: POD_ROLE },
          }),
        },
      ),
      roleArn: CROSS,
      env: emulator.env,
      externalId: 'vendor-4711',
    }).describe()
    expect(calls).toBe(0)
    expect(description.configured).toBe(true)
    expect(description.details).toMatchObject({
      roleArn: CROSS,
      endpoint: `${emulator.stsUrl}/`,
      endpointSource: 'AWS_ENDPOINT_URL_STS',
      externalId: '(set)',
      'source.roleArn': POD_ROLE,
    })
    expect(description.reason).toContain('the Pod Identity agent')
    expect(JSON.stringify(description)).not.toContain('vendor-4711')
  })
})

describe('fromAssumeRole region order and signing region', () => {
  let seen: { host: string; authorization: string }[]
  let transport: HttpTransport
  beforeEach(() => {
    seen = []
    transport = async (request) => {
      seen.push({ host: request.url.host, authorization: request.headers?.authorization ?? '' })
      return {
        status: 403,
        headers: {},
        body: '<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>',
      }
    }
  })
  const source = async (): Promise<AwsCredentialIdentity> => ({
    accessKeyId: 'AKIAEXAMPLE',
    secretAccessKey: 'secret',
  })

  it('option → the calling client’s region → AWS_REGION, as the AWS SDK for JS orders them', async () => {
    const env = { AWS_REGION: 'eu-west-1' }
    const caller = { callerClientConfig: { region: async () => 'ap-south-1' } }
    await credentialsErrorOf(
      fromAssumeRole({ source, roleArn: CROSS, env, transport, region: 'us-west-2' })(caller),
    )
    await credentialsErrorOf(fromAssumeRole({ source, roleArn: CROSS, env, transport })(caller))
    await credentialsErrorOf(fromAssumeRole({ source, roleArn: CROSS, env, transport })())
    expect(seen.map((s) => s.host)).toEqual([
      'sts.us-west-2.amazonaws.com',
      'sts.ap-south-1.amazonaws.com',
      'sts.eu-west-1.amazonaws.com',
    ])
    expect(seen[0]?.authorization).toMatch(/Credential=AKIAEXAMPLE\/\d{8}\/us-west-2\/sts\/aws4_request/)
  })

  it('signs for us-east-1 on the global endpoint and for the region on a configured endpoint', async () => {
    await credentialsErrorOf(
      fromAssumeRole({ source, roleArn: CROSS, env: {}, transport, region: 'aws-global' })(),
    )
    await credentialsErrorOf(
      fromAssumeRole({
        source,
        roleArn: CROSS,
        env: { AWS_REGION: 'eu-central-1' },
        transport,
        endpoint: 'https://vpce.example',
      })(),
    )
    expect(seen[0]?.host).toBe('sts.amazonaws.com')
    expect(seen[0]?.authorization).toMatch(/\/us-east-1\/sts\/aws4_request/)
    expect(seen[1]?.host).toBe('vpce.example')
    expect(seen[1]?.authorization).toMatch(/\/eu-central-1\/sts\/aws4_request/)
  })
})

describe('fromAssumeRole bad options (TypeError at construction, naming the option)', () => {
  const source = async (): Promise<AwsCredentialIdentity> => ({ accessKeyId: 'A', secretAccessKey: 'B' })
  const cases: [string, Partial<FromAssumeRoleOptions> | Record<string, unknown>, RegExp][] = [
    ['no source', { source: undefined }, /^source must be a credentials provider/],
    ['a malformed roleArn', { roleArn: 'arn:aws:iam::12:role/x' }, /^roleArn must be an IAM role ARN/],
    ['a user ARN as roleArn', { roleArn: 'arn:aws:iam::123456789012:user/bob' }, /^roleArn/],
    ['a short roleSessionName', { roleSessionName: 'x' }, /^roleSessionName must be 2 to 64/],
    ['a roleSessionName with a space', { roleSessionName: 'a b' }, /^roleSessionName/],
    ['an externalId with a space', { externalId: 'a b c' }, /^externalId must be 2 to 1224/],
    ['a one-character externalId', { externalId: 'a' }, /^externalId/],
    [
      'durationSeconds under 900',
      { durationSeconds: 899 },
      /^durationSeconds must be an integer in \[900, 43200\]/,
    ],
    ['fractional durationSeconds', { durationSeconds: 1000.5 }, /^durationSeconds/],
    [
      '51 tags',
      { tags: Array.from({ length: 51 }, (_, i) => ({ key: `k${i}`, value: 'v' })) },
      /^tags must be an array of at most 50/,
    ],
    ['a tag key with a comma', { tags: [{ key: 'a,b', value: 'v' }] }, /^tags\[0\]\.key/],
    [
      'a tag value over 256 characters',
      { tags: [{ key: 'k', value: 'v'.repeat(257) }] },
      /^tags\[0\]\.value/,
    ],
    [
      'duplicate tag keys (any case)',
      {
        tags: [
          { key: 'Team', value: 'a' },
          { key: 'team', value: 'b' },
        ],
      },
      /^tags\[1\]\.key "team" is a duplicate/,
    ],
    [
      'a transitive key that is not a tag',
      { tags: [{ key: 'a', value: 'b' }], transitiveTagKeys: ['c'] },
      /^transitiveTagKeys\[0\]/,
    ],
    ['a sourceIdentity with a slash', { sourceIdentity: 'a/b' }, /^sourceIdentity/],
    ['a policy over 2048 characters', { policy: 'x'.repeat(2049) }, /^policy must be at most 2048/],
    ['a malformed policyArn', { policyArns: [{ arn: 'nope' }] }, /^policyArns\[0\]\.arn/],
    ['a malformed region', { region: 'mars' }, /^region must be a region code/],
    ['a relative endpoint', { endpoint: '/sts' }, /^endpoint must be an absolute/],
    ['maxAttempts 0', { maxAttempts: 0 }, /^maxAttempts/],
  ]
  it.each(cases)('%s', (_name, overrides, message) => {
    const error = thrownBy(() =>
      fromAssumeRole({ source, roleArn: CROSS, ...overrides } as FromAssumeRoleOptions),
    )
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toMatch(message)
  })

  it('does not echo a rejected externalId', () => {
    const error = thrownBy(() => fromAssumeRole({ source, roleArn: CROSS, externalId: 'secretish value!' }))
    expect(error.message).not.toContain('secretish')
  })
})

describe('fromAssumeRole bad STS answers (ERR_RESPONSE_INVALID naming the field, never a secret)', () => {
  const SECRET = 'canary-source-secret-0123456789'
  const TOKEN = 'canary-source-session-token'
  const source = async (): Promise<AwsCredentialIdentity> => ({
    accessKeyId: 'ASIAEXAMPLESOURCE000',
    secretAccessKey: SECRET,
    sessionToken: TOKEN,
  })
  const answer =
    (body: string, status = 200): HttpTransport =>
    async () => ({ status, headers: {}, body })
  const credentialsXml = (expiration: string): string =>
    '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>' +
    '<AssumedRoleUser><Arn>arn:aws:sts::444455556666:assumed-role/r/s</Arn><AssumedRoleId>AROAX:s</AssumedRoleId></AssumedRoleUser>' +
    `<Credentials><AccessKeyId>ASIANEW</AccessKeyId><SecretAccessKey>canary-new-secret</SecretAccessKey><SessionToken>canary-new-token</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
    '</AssumeRoleResult></AssumeRoleResponse>'
  const cases: [string, string, RegExp][] = [
    [
      'an answer without Credentials',
      '<AssumeRoleResponse><AssumeRoleResult><AssumedRoleUser><Arn>x</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>',
      /lacks Credentials\.AccessKeyId/,
    ],
    [
      'an answer with an expired Expiration',
      credentialsXml('2001-01-01T00:00:00Z'),
      /Credentials\.Expiration in the past/,
    ],
    [
      'an answer with a malformed Expiration',
      credentialsXml('tomorrow'),
      /malformed Credentials\.Expiration/,
    ],
    [
      'an XML body with a DOCTYPE',
      `<!DOCTYPE x [<!ENTITY e "${SECRET}">]>${credentialsXml('2099-01-01T00:00:00Z')}`,
      /DOCTYPE or ENTITY declaration/,
    ],
    ['a body that is not XML', '{"Credentials": {}}', /not well-formed XML/],
  ]
  it.each(cases)('%s', async (_name, body, message) => {
    const error = await credentialsErrorOf(
      fromAssumeRole({ source, roleArn: CROSS, region: 'eu-west-1', env: {}, transport: answer(body) })(),
    )
    expect(error.code).toBe('ERR_RESPONSE_INVALID')
    expect(error.message).toMatch(message)
    assertNoSecret(error, [SECRET, TOKEN, 'canary-new-secret', 'canary-new-token'])
  })

  it('an STS error that quotes the source secret is scrubbed', async () => {
    const body = `<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>bad ${SECRET} ${TOKEN}</Message></Error></ErrorResponse>`
    const error = await credentialsErrorOf(
      fromAssumeRole({
        source,
        roleArn: CROSS,
        region: 'eu-west-1',
        env: {},
        transport: answer(body, 403),
      })(),
    )
    expect(error.stsCode).toBe('SignatureDoesNotMatch')
    assertNoSecret(error, [SECRET, TOKEN])
  })
})
