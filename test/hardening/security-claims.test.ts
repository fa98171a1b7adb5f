// SECURITY.md, row by row: the defences not already proven by the other files of this suite
// (allowlist: config/properties; exfiltration: secrets; header injection: tokens; hostile
// responses: container-/sts-responses; stale credentials: faults). Each test names its row.
import { existsSync } from 'node:fs'
import { chmod, readdir } from 'node:fs/promises'
import type { ServerResponse } from 'node:http'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { workloadIdentityCredential } from '@podcreds/azure'
import { fromContainer } from '@podcreds/container'
import type { TemporaryCredentials } from '@podcreds/core'
import { protectCredentials } from '@podcreds/core'
import type { EmulatorRole, TrustPolicy } from '@podcreds/emulator'
import { generateTrustPolicy, lintTrustPolicy, startEmulator } from '@podcreds/emulator'
import { refreshing } from '@podcreds/refresh'
import { fromWebIdentity } from '@podcreds/web-identity'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rejectionOf } from '../support/errors.js'
import { mulberry32 } from '../support/random.js'
import { CLI_BIN, runNode } from '../support/subprocess.js'
import { tempDir } from '../support/tempDir.js'
import type { Recorder } from './helpers.js'
import {
  agentBody,
  CANARY_KEY_ID,
  CANARY_SECRET,
  CANARY_SESSION,
  CANARY_TOKEN,
  expectCode,
  startRecorder,
  stsBody,
  stsError,
  VirtualClock,
} from './helpers.js'

let files: Awaited<ReturnType<typeof tempDir>>
let tokenFile: string
beforeAll(async () => {
  files = await tempDir('podcreds-hardening-')
  tokenFile = await files.write('token', CANARY_TOKEN)
})
afterAll(() => files.cleanup())

describe('SSRF row: redirects are never followed', () => {
  it('STS: a 307 to another host is an error, the target never hit', async () => {
    const target = await startRecorder((_req, res: ServerResponse) => void res.end(stsBody()))
    const sts = await startRecorder((_req, res: ServerResponse) => {
      res.writeHead(307, { location: `${target.origin}/` }).end()
    })
    try {
      const error = await rejectionOf(
        fromWebIdentity({
          tokenFile,
          roleArn: 'arn:aws:iam::123456789012:role/hardening',
          region: 'eu-west-1',
          endpoint: sts.origin,
          maxAttempts: 1,
          env: {},
        })(),
      )
      expectCode(error, 'ERR_HTTP_STATUS')
      expect(target.hits).toHaveLength(0)
    } finally {
      await sts.close()
      await target.close()
    }
  })
})

describe('Token exfiltration row: credentials objects print redacted', () => {
  it('inspect, console formatting, JSON and String show ASIA…0001-style ids and no secret', () => {
    const credentials = protectCredentials({
      accessKeyId: CANARY_KEY_ID,
      secretAccessKey: CANARY_SECRET,
      sessionToken: CANARY_SESSION,
      expiration: new Date('2099-01-01T00:00:00Z'),
    })
    for (const text of [
      inspect(credentials),
      inspect(credentials, { showHidden: true }),
      JSON.stringify(credentials),
    ]) {
      expect(text).toContain('ASIA…0001')
      expect(text).not.toContain(CANARY_SECRET)
      expect(text).not.toContain(CANARY_SESSION)
      expect(text).not.toContain(CANARY_KEY_ID)
    }
    // The values stay usable by the SDK.
    expect(credentials.secretAccessKey).toBe(CANARY_SECRET)
  })
})

describe('IRSA wildcard trust policies row', () => {
  const namespace = 'payments'
  const serviceAccount = 'api'

  it('generate writes StringEquals on :sub and :aud, which lint accepts without findings', () => {
    const policy = generateTrustPolicy({
      issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE',
      namespace,
      serviceAccount,
      accountId: '111122223333',
    })
    const text = JSON.stringify(policy)
    expect(text).toContain('"StringEquals"')
    expect(text).toContain(':sub":"system:serviceaccount:payments:api"')
    expect(text).toContain(':aud":"sts.amazonaws.com"')
    expect(text).not.toContain('StringLike')
    expect(lintTrustPolicy(policy, { mode: 'irsa' })).toEqual([])
  })

  it('lint flags wildcard subjects, a missing audience, StringLike without a wildcard, the wrong audience and principal', () => {
    const provider = 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE'
    const key = 'oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLE'
    const statement = (condition: Record<string, unknown>, principal: unknown = { Federated: provider }) => ({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: principal,
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: condition,
        },
      ],
    })
    const codes = (policy: unknown) => lintTrustPolicy(policy, { mode: 'irsa' }).map((f) => f.code)
    expect(
      codes(
        statement({
          StringLike: { [`${key}:sub`]: 'system:serviceaccount:*', [`${key}:aud`]: 'sts.amazonaws.com' },
        }),
      ),
    ).toContain('WILDCARD_SUB')
    expect(
      codes(statement({ StringEquals: { [`${key}:sub`]: 'system:serviceaccount:payments:api' } })),
    ).toContain('MISSING_AUD')
    expect(codes(statement({ StringEquals: { [`${key}:aud`]: 'sts.amazonaws.com' } }))).toContain(
      'MISSING_SUB',
    )
    expect(
      codes(
        statement({
          StringLike: {
            [`${key}:sub`]: 'system:serviceaccount:payments:api',
            [`${key}:aud`]: 'sts.amazonaws.com',
          },
        }),
      ),
    ).toContain('STRING_LIKE_WITHOUT_WILDCARD')
    expect(
      codes(
        statement({
          StringEquals: {
            [`${key}:sub`]: 'system:serviceaccount:payments:api',
            [`${key}:aud`]: 'pods.eks.amazonaws.com',
          },
        }),
      ),
    ).toContain('WRONG_AUDIENCE')
    expect(
      codes(
        statement(
          {
            StringEquals: {
              [`${key}:sub`]: 'system:serviceaccount:payments:api',
              [`${key}:aud`]: 'sts.amazonaws.com',
            },
          },
          '*',
        ),
      ),
    ).toContain('WILDCARD_PRINCIPAL')
  })

  it('the emulator reproduces the weakness: a wildcard trust lets another service account in, the generated one does not', async () => {
    const weakArn = 'arn:aws:iam::111122223333:role/weak'
    const strictArn = 'arn:aws:iam::111122223333:role/strict'
    const roles: EmulatorRole[] = [
      {
        arn: weakArn,
        trustPolicy: (context): TrustPolicy => {
          const policy = generateTrustPolicy({
            issuer: context.issuerUrl,
            namespace,
            serviceAccount,
            accountId: context.accountId,
          })
          const text = JSON.stringify(policy)
            .replace('"StringEquals"', '"StringLike"')
            .replace('system:serviceaccount:payments:api', 'system:serviceaccount:*')
          return JSON.parse(text) as TrustPolicy
        },
      },
      {
        arn: strictArn,
        trustPolicy: (context) =>
          generateTrustPolicy({
            issuer: context.issuerUrl,
            namespace,
            serviceAccount,
            accountId: context.accountId,
          }),
      },
    ]
    const emulator = await startEmulator({ roles, namespace, serviceAccount, accountId: '111122223333' })
    try {
      const intruder = await files.write(
        'intruder',
        await emulator.mintToken({
          audience: 'sts.amazonaws.com',
          namespace: 'other',
          serviceAccount: 'intruder',
        }),
      )
      const assume = (roleArn: string) =>
        fromWebIdentity({
          env: { ...emulator.irsaEnv, AWS_ROLE_ARN: roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: intruder },
          maxAttempts: 1,
        })()
      const weak = await assume(weakArn)
      expect(weak.accessKeyId).toBeTypeOf('string')
      const refused = await rejectionOf(assume(strictArn))
      expectCode(refused, 'ERR_STS')
      expect((refused as { stsCode?: string }).stsCode).toBe('AccessDenied')
    } finally {
      await emulator.close()
    }
  })
})

describe('Downgrade to plain HTTP row', () => {
  it('container: http: only to the agents and loopback; https: anywhere', async () => {
    expect(() => fromContainer({ fullUri: 'http://credentials.internal.example/v1' })).toThrow(TypeError)
    expectCode(
      await rejectionOf(
        fromContainer({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://10.1.2.3/v1' } })(),
      ),
      'ERR_ENDPOINT_NOT_ALLOWED',
    )
    expect(() => fromContainer({ fullUri: 'https://credentials.internal.example/v1' })).not.toThrow()
  })

  it('azure: the Entra authority must be https: (loopback excepted)', async () => {
    const base = {
      tenantId: '00000000-0000-0000-0000-000000000001',
      clientId: '00000000-0000-0000-0000-000000000002',
      tokenFilePath: tokenFile,
      env: {},
    }
    expect(() => workloadIdentityCredential({ ...base, authorityHost: 'http://login.example.com/' })).toThrow(
      TypeError,
    )
    expect(() => workloadIdentityCredential({ ...base, authorityHost: 'http://127.0.0.1:1/' })).not.toThrow()
    expect(() =>
      workloadIdentityCredential({ ...base, authorityHost: 'https://login.example.com/' }),
    ).not.toThrow()
    const fromEnv = workloadIdentityCredential({
      env: {
        AZURE_TENANT_ID: base.tenantId,
        AZURE_CLIENT_ID: base.clientId,
        AZURE_FEDERATED_TOKEN_FILE: tokenFile,
        AZURE_AUTHORITY_HOST: 'http://login.example.com/',
      },
    })
    const error = await fromEnv.getToken('https://management.azure.com/.default').then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(Error)
    expect(String((error as Error).message)).toMatch(/https/)
  })
})

describe('Outage amplification row', () => {
  let agent: Recorder
  let status = 200
  beforeAll(async () => {
    agent = await startRecorder((_req, res: ServerResponse) => {
      if (status === 200) return void res.writeHead(200).end(agentBody())
      res.writeHead(status).end('nope')
    })
  })
  afterAll(() => agent.close())

  it.each([400, 401, 403, 404])('no retry on %i: one request per call', async (code) => {
    status = code
    const before = agent.hits.length
    const error = await rejectionOf(
      fromContainer({
        fullUri: `${agent.origin}/v1`,
        authorizationToken: CANARY_TOKEN,
        maxAttempts: 3,
        env: {},
      })(),
    )
    expectCode(error, 'ERR_HTTP_STATUS')
    expect(agent.hits.length - before).toBe(1)
  })

  it.each([429, 500, 503])('%i is retried, up to maxAttempts', async (code) => {
    status = code
    const before = agent.hits.length
    await rejectionOf(
      fromContainer({
        fullUri: `${agent.origin}/v1`,
        authorizationToken: CANARY_TOKEN,
        maxAttempts: 3,
        random: () => 0,
        env: {},
      })(),
    )
    expect(agent.hits.length - before).toBe(3)
  })

  it.each([
    ['AccessDenied', 403, 1],
    ['IDPRejectedClaim', 400, 1],
    ['MalformedPolicyDocument', 400, 1],
    ['InvalidIdentityToken', 400, 2], // one re-read of the token file (a rotation race), no more
    ['Throttling', 400, 3],
    ['IDPCommunicationError', 400, 3],
    ['InternalFailure', 500, 3],
  ] as const)('STS %s (HTTP %i): %i request(s) with maxAttempts 3', async (code, httpStatus, expected) => {
    const sts = await startRecorder((_req, res: ServerResponse) => {
      res.writeHead(httpStatus).end(stsError(code, 'no'))
    })
    try {
      const error = await rejectionOf(
        fromWebIdentity({
          tokenFile,
          roleArn: 'arn:aws:iam::123456789012:role/hardening',
          region: 'eu-west-1',
          endpoint: sts.origin,
          maxAttempts: 3,
          random: () => 0,
          env: {},
        })(),
      )
      expectCode(error, 'ERR_STS')
      expect(sts.hits).toHaveLength(expected)
    } finally {
      await sts.close()
    }
  })

  it('single flight: 200 concurrent callers, one source call', async () => {
    status = 200
    const before = agent.hits.length
    const engine = refreshing(
      fromContainer({ fullUri: `${agent.origin}/v1`, authorizationToken: CANARY_TOKEN, env: {} }),
    )
    try {
      const results = await Promise.all(Array.from({ length: 200 }, () => engine()))
      expect(new Set(results.map((c) => c.accessKeyId)).size).toBe(1)
      expect(agent.hits.length - before).toBe(1)
    } finally {
      engine.close()
    }
  })

  it('jittered refresh points: a fleet started in the same millisecond spreads its refreshes', async () => {
    const clock = new VirtualClock()
    const random = mulberry32(42)
    const source = async (): Promise<TemporaryCredentials> =>
      protectCredentials({
        accessKeyId: CANARY_KEY_ID,
        secretAccessKey: CANARY_SECRET,
        sessionToken: CANARY_SESSION,
        expiration: new Date(clock.now() + 3_600_000),
      })
    const fleet = Array.from({ length: 300 }, () => refreshing(source, { clock, random }))
    try {
      await Promise.all(fleet.map((engine) => engine()))
      const points = fleet.map((engine) => engine.stats().nextRefreshAt!.getTime() - clock.now())
      const perMinute = new Map<number, number>()
      for (const p of points)
        perMinute.set(Math.floor(p / 60_000), (perMinute.get(Math.floor(p / 60_000)) ?? 0) + 1)
      // Spread over most of [lifetime/4, expiry − W/2] = [15, 52.5] min: no minute holds a herd.
      expect(Math.min(...points)).toBeGreaterThanOrEqual(15 * 60_000)
      expect(Math.max(...points)).toBeLessThanOrEqual(52.5 * 60_000)
      expect(Math.max(...points) - Math.min(...points)).toBeGreaterThan(30 * 60_000)
      expect(Math.max(...perMinute.values())).toBeLessThan(300 / 10)
    } finally {
      for (const engine of fleet) engine.close()
    }
  })
})

describe.runIf(existsSync(CLI_BIN))('Credential cache on disk row', () => {
  it('a cache file readable by others is ignored: the next run asks the agent again', async () => {
    const agent = await startRecorder((_req, res: ServerResponse) => void res.writeHead(200).end(agentBody()))
    const home = join(files.dir, 'cache-home')
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      XDG_CACHE_HOME: join(home, '.cache'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agent.origin}/v1/credentials`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
    }
    const run = () => runNode([CLI_BIN, 'credential-process', '--cache'], { env })
    try {
      expect((await run()).code).toBe(0)
      expect(agent.hits).toHaveLength(1)
      expect((await run()).code).toBe(0)
      expect(agent.hits).toHaveLength(1) // served from the cache
      const dir = join(env.XDG_CACHE_HOME, 'podcreds')
      for (const name of await readdir(dir)) await chmod(join(dir, name), 0o644)
      expect((await run()).code).toBe(0)
      expect(agent.hits).toHaveLength(2) // the world-readable file was not trusted
    } finally {
      await agent.close()
    }
  })
})
