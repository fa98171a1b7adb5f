import { join } from 'node:path'
import type { HttpTransport } from '@podcreds/core'
import { httpRequest } from '@podcreds/core'
import type { FromWebIdentityOptions } from '@podcreds/web-identity'
import { fromWebIdentity } from '@podcreds/web-identity'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { credentialsErrorOf } from '../../../test/support/errors.js'
import type { KubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import { kubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import type { StsFake } from './helpers/stsFake.js'
import { DEFAULT_CREDENTIALS, startStsFake, successXml } from './helpers/stsFake.js'
import { fixedClock, makeJwt, NOW } from './helpers/tokens.js'

const ROLE = 'arn:aws:iam::123456789012:role/app-role'
const TOKEN = makeJwt()

let sts: StsFake
let tokens: KubeletTokenDir

beforeEach(async () => {
  sts = await startStsFake()
  tokens = await kubeletTokenDir({ token: TOKEN })
})
afterEach(async () => {
  await sts.close()
  await tokens.remove()
})

function options(extra: FromWebIdentityOptions = {}): FromWebIdentityOptions {
  return {
    roleArn: ROLE,
    tokenFile: tokens.path,
    endpoint: sts.url,
    clock: fixedClock(),
    random: () => 0,
    env: {},
    ...extra,
  }
}

/** A transport that records the URL it was asked for and sends the request to the fake. */
function redirectingTransport(seen: URL[]): HttpTransport {
  return (request, requestOptions) => {
    seen.push(request.url)
    return httpRequest({ ...request, url: new URL(sts.url) }, requestOptions)
  }
}

describe('fromWebIdentity: a successful exchange', () => {
  it('returns the credentials with the real expiration and the account id from AssumedRoleUser.Arn', async () => {
    const creds = await fromWebIdentity(options())()

    expect(creds.accessKeyId).toBe(DEFAULT_CREDENTIALS.accessKeyId)
    expect(creds.secretAccessKey).toBe(DEFAULT_CREDENTIALS.secretAccessKey)
    expect(creds.sessionToken).toBe(DEFAULT_CREDENTIALS.sessionToken)
    expect(creds.expiration).toEqual(new Date('2030-01-01T01:00:00Z'))
    expect(creds.accountId).toBe('123456789012')
  })

  it('sends an unsigned form POST with Action, Version, RoleArn, RoleSessionName and WebIdentityToken', async () => {
    await fromWebIdentity(options({ roleSessionName: 'my-session' }))()

    expect(sts.requests).toHaveLength(1)
    const [request] = sts.requests
    expect(request?.method).toBe('POST')
    expect(request?.path).toBe('/')
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded; charset=utf-8')
    expect(request?.headers.authorization).toBeUndefined()
    expect(Object.fromEntries(request?.form ?? [])).toEqual({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: ROLE,
      RoleSessionName: 'my-session',
      WebIdentityToken: TOKEN,
    })
  })

  it('adds DurationSeconds, Policy, PolicyArns.member.N.arn and ProviderId when given', async () => {
    const policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
    await fromWebIdentity(
      options({
        durationSeconds: 900,
        policy,
        policyArns: [
          { arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' },
          { arn: 'arn:aws:iam::123456789012:policy/team/Extra' },
        ],
        providerId: 'www.amazon.com',
      }),
    )()

    const form = sts.requests[0]?.form
    expect(form?.get('DurationSeconds')).toBe('900')
    expect(form?.get('Policy')).toBe(policy)
    expect(form?.get('PolicyArns.member.1.arn')).toBe('arn:aws:iam::aws:policy/ReadOnlyAccess')
    expect(form?.get('PolicyArns.member.2.arn')).toBe('arn:aws:iam::123456789012:policy/team/Extra')
    expect(form?.has('PolicyArns.member.3.arn')).toBe(false)
    expect(form?.get('ProviderId')).toBe('www.amazon.com')
  })

  it('form-encodes values so &, =, +, spaces and Unicode in a token or policy round-trip', async () => {
    const odd = 'a&b=c+d e%20f/ü€😀?#;'
    const policy = `{"Sid":"${odd}"}`
    await tokens.write(`opaque-${odd}`)
    await fromWebIdentity(options({ policy, providerId: 'graph.facebook.com' }))()

    const { form, raw } = sts.requests[0] ?? { form: new URLSearchParams(), raw: '' }
    expect(form.get('WebIdentityToken')).toBe(`opaque-${odd}`)
    expect(form.get('Policy')).toBe(policy)
    expect([...form.keys()].sort()).toEqual(
      ['Action', 'Policy', 'ProviderId', 'RoleArn', 'RoleSessionName', 'Version', 'WebIdentityToken'].sort(),
    )
    expect(raw).not.toContain('a&b')
    expect(raw).not.toContain('c+d')
  })

  it('keeps an access key id that looks like a number a string', async () => {
    sts.answer({ body: successXml({ accessKeyId: '000123456789012345' }) })
    const creds = await fromWebIdentity(options())()
    expect(creds.accessKeyId).toBe('000123456789012345')
  })

  it('prints redacted credentials through util.inspect and JSON.stringify', async () => {
    const creds = await fromWebIdentity(options())()
    expect(JSON.stringify(creds)).not.toContain('SECRETCANARY')
    const { inspect } = await import('node:util')
    expect(inspect(creds)).not.toContain('SECRETCANARY')
  })
})

describe('fromWebIdentity: configuration sources', () => {
  it('reads everything from env when no options are given', async () => {
    const provider = fromWebIdentity({
      clock: fixedClock(),
      env: {
        AWS_ROLE_ARN: ROLE,
        AWS_WEB_IDENTITY_TOKEN_FILE: tokens.path,
        AWS_ROLE_SESSION_NAME: 'from-env',
        AWS_ENDPOINT_URL_STS: sts.url,
      },
    })
    const creds = await provider()

    expect(creds.accessKeyId).toBe(DEFAULT_CREDENTIALS.accessKeyId)
    expect(sts.requests[0]?.form.get('RoleArn')).toBe(ROLE)
    expect(sts.requests[0]?.form.get('RoleSessionName')).toBe('from-env')
  })

  it('lets options beat env for the role ARN, token file, session name and endpoint', async () => {
    const other = await kubeletTokenDir({ token: makeJwt({ sub: 'system:serviceaccount:other:sa' }) })
    try {
      await fromWebIdentity(
        options({
          roleSessionName: 'from-option',
          env: {
            AWS_ROLE_ARN: 'arn:aws:iam::999999999999:role/env-role',
            AWS_WEB_IDENTITY_TOKEN_FILE: other.path,
            AWS_ROLE_SESSION_NAME: 'from-env',
            AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:9/',
          },
        }),
      )()
    } finally {
      await other.remove()
    }

    expect(sts.requests[0]?.form.get('RoleArn')).toBe(ROLE)
    expect(sts.requests[0]?.form.get('WebIdentityToken')).toBe(TOKEN)
    expect(sts.requests[0]?.form.get('RoleSessionName')).toBe('from-option')
  })

  it('reads env per call, not at construction', async () => {
    const env: Record<string, string | undefined> = {}
    const provider = fromWebIdentity({ clock: fixedClock(), env })
    const before = await credentialsErrorOf(provider())
    expect(before.code).toBe('ERR_NOT_CONFIGURED')

    env.AWS_ROLE_ARN = ROLE
    env.AWS_WEB_IDENTITY_TOKEN_FILE = tokens.path
    env.AWS_ENDPOINT_URL = sts.url
    await expect(provider()).resolves.toMatchObject({ accessKeyId: DEFAULT_CREDENTIALS.accessKeyId })
  })

  it.each([
    ['no role ARN', { AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token' }, /no role ARN/],
    ['no token file', { AWS_ROLE_ARN: ROLE }, /no token file/],
    ['nothing', {}, /no role ARN .* and no token file/],
  ])('with %s it is ERR_NOT_CONFIGURED with tryNextLink, and calls nothing', async (_name, env, message) => {
    const error = await credentialsErrorOf(fromWebIdentity({ env, endpoint: sts.url })())
    expect(error.code).toBe('ERR_NOT_CONFIGURED')
    expect(error.tryNextLink).toBe(true)
    expect(error.message).toMatch(message)
    expect(sts.requests).toHaveLength(0)
  })

  it('stops the chain with ERR_TOKEN_FILE when the token file is set but unreadable', async () => {
    const path = join(tokens.dir, 'missing-token')
    const error = await credentialsErrorOf(fromWebIdentity(options({ tokenFile: path }))())
    expect(error.code).toBe('ERR_TOKEN_FILE')
    expect(error.tryNextLink).toBe(false)
    expect(error.message).toContain(path)
    expect(sts.requests).toHaveLength(0)
  })

  it('reads the token through the injected readFile', async () => {
    const reads: string[] = []
    const readFile = async (path: string): Promise<Uint8Array> => {
      reads.push(path)
      return new TextEncoder().encode(`${TOKEN}\n`)
    }
    await fromWebIdentity(options({ tokenFile: '/var/run/secrets/token', readFile }))()
    expect(reads).toEqual(['/var/run/secrets/token'])
    expect(sts.requests[0]?.form.get('WebIdentityToken')).toBe(TOKEN)
  })

  it.each([
    ['AWS_ROLE_ARN', { AWS_ROLE_ARN: 'arn:aws:iam::123:role/short-account' }],
    ['AWS_ROLE_ARN', { AWS_ROLE_ARN: 'arn:aws:iam::123456789012:user/not-a-role' }],
    ['AWS_REGION', { AWS_ROLE_ARN: ROLE, AWS_REGION: 'mars' }],
    ['AWS_DEFAULT_REGION', { AWS_ROLE_ARN: ROLE, AWS_DEFAULT_REGION: 'US_EAST_1' }],
    ['AWS_ROLE_SESSION_NAME', { AWS_ROLE_ARN: ROLE, AWS_ROLE_SESSION_NAME: 'has space' }],
    ['AWS_ENDPOINT_URL_STS', { AWS_ROLE_ARN: ROLE, AWS_ENDPOINT_URL_STS: 'not a url' }],
    ['AWS_USE_FIPS_ENDPOINT', { AWS_ROLE_ARN: ROLE, AWS_USE_FIPS_ENDPOINT: 'yes' }],
  ])('a malformed %s in env is ERR_INVALID_CONFIG at call time, before any request', async (name, env) => {
    const provider = fromWebIdentity({ tokenFile: tokens.path, env, transport: redirectingTransport([]) })
    const error = await credentialsErrorOf(provider())
    expect(error.code).toBe('ERR_INVALID_CONFIG')
    expect(error.tryNextLink).toBe(false)
    expect(error.message).toContain(name)
    expect(sts.requests).toHaveLength(0)
  })
})

describe('fromWebIdentity: option validation', () => {
  it.each<[string, FromWebIdentityOptions]>([
    ['roleArn', { roleArn: 'arn:aws:iam::123456789012:user/bob' }],
    ['roleArn', { roleArn: 'arn:aws:iam::12345678901:role/app' }],
    ['roleArn', { roleArn: 'app-role' }],
    ['roleArn', { roleArn: '' }],
    ['region', { region: 'eu-west' }],
    ['region', { region: 'EU-WEST-1' }],
    ['roleSessionName', { roleSessionName: 'a' }],
    ['roleSessionName', { roleSessionName: 'has space' }],
    ['roleSessionName', { roleSessionName: 'x'.repeat(65) }],
    ['roleSessionName', { roleSessionName: 'slash/not-allowed' }],
    ['endpoint', { endpoint: 'ftp://sts.example' }],
    ['endpoint', { endpoint: 'sts.us-east-1.amazonaws.com' }],
    ['durationSeconds', { durationSeconds: 899 }],
    ['durationSeconds', { durationSeconds: 43_201 }],
    ['durationSeconds', { durationSeconds: 1.5 }],
    ['policy', { policy: 'x'.repeat(2049) }],
    ['policyArns', { policyArns: [{ arn: 'ReadOnlyAccess' }] }],
    ['policyArns', { policyArns: Array.from({ length: 11 }, () => ({ arn: 'arn:aws:iam::aws:policy/X' })) }],
    ['providerId', { providerId: 'x' }],
    ['timeoutMs', { timeoutMs: 0 }],
    ['connectTimeoutMs', { connectTimeoutMs: -1 }],
    ['maxAttempts', { maxAttempts: 0 }],
    ['clock', { clock: { now: () => 0 } as never }],
    ['random', { random: 0.5 as never }],
    ['logger', { logger: { warn: 'loud' } as never }],
    ['signal', { signal: {} as never }],
    ['dispatcher', { dispatcher: {} as never }],
    ['transport', { transport: 'fetch' as never }],
    ['readFile', { readFile: 'fs' as never }],
    ['env', { env: 'production' as never }],
  ])('a bad %s throws a TypeError naming it at construction', (name, bad) => {
    expect(() => fromWebIdentity(bad)).toThrow(TypeError)
    expect(() => fromWebIdentity(bad)).toThrow(name)
  })

  it('accepts role ARNs with a path and in other partitions', () => {
    for (const roleArn of [
      'arn:aws:iam::123456789012:role/team/service/app-role',
      'arn:aws-cn:iam::123456789012:role/app',
      'arn:aws-us-gov:iam::123456789012:role/app+=,.@-_',
    ]) {
      expect(() => fromWebIdentity({ roleArn })).not.toThrow()
    }
  })
})

describe('fromWebIdentity: session names', () => {
  it('generates names matching [\\w+=,.@-]{2,64}, different per random draw', async () => {
    let draw = 0
    const random = (): number => [0, 0.5, 0.999999][draw++ % 3] ?? 0
    const provider = fromWebIdentity(options({ random }))
    await provider()
    await provider()
    await provider()

    const names = sts.requests.map((request) => request.form.get('RoleSessionName'))
    for (const name of names) expect(name).toMatch(/^[\w+=,.@-]{2,64}$/)
    expect(new Set(names).size).toBe(3)
    expect(names[0]).toBe(`podcreds-${NOW}-00000000`)
  })

  it('uses AWS_ROLE_SESSION_NAME from env when no option is given', async () => {
    await fromWebIdentity(options({ env: { AWS_ROLE_SESSION_NAME: 'env.name@team' } }))()
    expect(sts.requests[0]?.form.get('RoleSessionName')).toBe('env.name@team')
  })
})

describe('fromWebIdentity: the token', () => {
  it('re-reads the token file per call: a kubelet ..data swap between calls sends the new token', async () => {
    const provider = fromWebIdentity(options())
    await provider()
    const rotated = makeJwt({ jti: 'second' })
    await tokens.write(rotated)
    await provider()

    expect(sts.requests.map((request) => request.form.get('WebIdentityToken'))).toEqual([TOKEN, rotated])
  })

  it('refuses a token whose exp has passed with ERR_TOKEN_EXPIRED naming the time, without calling STS', async () => {
    const exp = Math.floor(NOW / 1000) - 30
    await tokens.write(makeJwt({ exp }))
    const error = await credentialsErrorOf(fromWebIdentity(options())())

    expect(error.code).toBe('ERR_TOKEN_EXPIRED')
    expect(error.message).toContain(new Date(exp * 1000).toISOString())
    expect(error.message).toContain(tokens.path)
    expect(sts.requests).toHaveLength(0)
  })

  it('treats exp equal to now as expired, and judges by the injected clock', async () => {
    const exp = Math.floor(NOW / 1000)
    await tokens.write(makeJwt({ exp }))
    const error = await credentialsErrorOf(fromWebIdentity(options())())
    expect(error.code).toBe('ERR_TOKEN_EXPIRED')

    await fromWebIdentity(options({ clock: fixedClock(NOW - 1000) }))()
    expect(sts.requests).toHaveLength(1)
  })

  it('sends a token that is not a JWT as it is (OAuth 2.0 access tokens with ProviderId)', async () => {
    await tokens.write('opaque-oauth-access-token')
    await fromWebIdentity(options({ providerId: 'www.amazon.com' }))()
    expect(sts.requests[0]?.form.get('WebIdentityToken')).toBe('opaque-oauth-access-token')
  })
})

describe('fromWebIdentity: regions and endpoints', () => {
  it('uses the calling client region (a function, as the AWS SDK passes it) when nothing else is set', async () => {
    const seen: URL[] = []
    const provider = fromWebIdentity(options({ endpoint: undefined, transport: redirectingTransport(seen) }))
    await provider({ callerClientConfig: { region: async () => 'eu-central-1' } })
    await provider({ callerClientConfig: { region: 'ap-southeast-2' } })

    expect(seen.map((url) => url.href)).toEqual([
      'https://sts.eu-central-1.amazonaws.com/',
      'https://sts.ap-southeast-2.amazonaws.com/',
    ])
  })

  it('orders the region option, then the calling client region, then AWS_REGION, as the AWS SDK for JS does', async () => {
    const seen: URL[] = []
    const caller = { callerClientConfig: { region: 'ap-southeast-2' } }
    await fromWebIdentity(
      options({ endpoint: undefined, region: 'us-west-2', transport: redirectingTransport(seen) }),
    )(caller)
    await fromWebIdentity(
      options({
        endpoint: undefined,
        env: { AWS_REGION: 'eu-west-1' },
        transport: redirectingTransport(seen),
      }),
    )(caller)

    await fromWebIdentity(
      options({
        endpoint: undefined,
        env: { AWS_REGION: 'eu-west-1' },
        transport: redirectingTransport(seen),
      }),
    )()

    expect(seen.map((url) => url.host)).toEqual([
      'sts.us-west-2.amazonaws.com',
      'sts.ap-southeast-2.amazonaws.com',
      'sts.eu-west-1.amazonaws.com',
    ])
  })

  it("falls back to us-east-1's regional endpoint with a logger.warn when there is no region", async () => {
    const seen: URL[] = []
    const warnings: string[] = []
    await fromWebIdentity(
      options({
        endpoint: undefined,
        transport: redirectingTransport(seen),
        logger: { warn: (message) => warnings.push(message) },
      }),
    )()

    expect(seen[0]?.href).toBe('https://sts.us-east-1.amazonaws.com/')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/no region/)
  })
})

describe('fromWebIdentity: describe()', () => {
  it('reports configuration and token claims, never the token, without calling STS', async () => {
    const provider = fromWebIdentity(options({ endpoint: undefined, env: { AWS_REGION: 'eu-west-1' } }))
    const description = await provider.describe()

    expect(description.configured).toBe(true)
    expect(description.details).toMatchObject({
      roleArn: ROLE,
      tokenFile: tokens.path,
      region: 'eu-west-1',
      regionSource: 'AWS_REGION',
      endpoint: 'https://sts.eu-west-1.amazonaws.com/',
      tokenFormat: 'jwt',
      tokenIssuer: 'https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE',
      tokenSubject: 'system:serviceaccount:default:app',
      tokenAudience: 'sts.amazonaws.com',
      tokenExpiresAt: new Date(NOW + 3_600_000).toISOString(),
      tokenExpired: 'no',
    })
    expect(description.details.warning).toBeUndefined()
    expect(JSON.stringify(description)).not.toContain(TOKEN)
    expect(JSON.stringify(description)).not.toContain('SECRETCANARY')
    expect(sts.requests).toHaveLength(0)
  })

  it('blanks control characters in token claims (a hostile token cannot forge doctor lines)', async () => {
    await tokens.write(
      makeJwt({
        iss: 'https://oidc.example.com/id/TEST\u001b[2J',
        sub: 'system:serviceaccount:default:app\nforged line',
        aud: ['sts.amazonaws.com\u001b]0;title\u0007'],
      }),
    )
    const description = await fromWebIdentity(options()).describe()

    expect(description.details.tokenSubject).toBe('system:serviceaccount:default:app forged line')
    for (const value of Object.values(description.details)) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
      expect(value).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/)
    }
  })

  it('shows a token that is not a JWT as opaque, never its text', async () => {
    await tokens.write('SECRETCANARYopaque-oauth-access-token')
    const description = await fromWebIdentity(options({ providerId: 'www.amazon.com' })).describe()
    expect(description.details.tokenFormat).toBe('opaque')
    expect(JSON.stringify(description)).not.toContain('SECRETCANARY')
  })

  it('carries a warning when there is no region', async () => {
    const description = await fromWebIdentity(options({ endpoint: undefined })).describe()
    expect(description.details.warning).toMatch(/no region/)
    expect(description.details.endpoint).toBe('https://sts.us-east-1.amazonaws.com/')
  })

  it('says what is missing when not configured, and rejects like a call for a broken token file', async () => {
    const description = await fromWebIdentity({ env: { AWS_ROLE_ARN: ROLE } }).describe()
    expect(description.configured).toBe(false)
    expect(description.reason).toMatch(/no token file/)
    expect(description.details).toEqual({ roleArn: ROLE })

    const error = await credentialsErrorOf(
      fromWebIdentity(options({ tokenFile: join(tokens.dir, 'nope') })).describe(),
    )
    expect(error.code).toBe('ERR_TOKEN_FILE')
  })
})

describe('fromWebIdentity: abort', () => {
  it('rejects with ERR_ABORTED when the signal is already aborted', async () => {
    const controller = new AbortController()
    controller.abort()
    const error = await credentialsErrorOf(fromWebIdentity(options({ signal: controller.signal }))())
    expect(error.code).toBe('ERR_ABORTED')
  })
})
