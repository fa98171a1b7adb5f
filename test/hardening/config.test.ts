// Issue 11, "Environment and options": each bad value with its outcome, and the container
// allowlist against every escape we know of. A recorder on loopback proves what is never called.
import { checkEndpoint, fromContainer } from '@podcreds/container'
import { fromWebIdentity } from '@podcreds/web-identity'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rejectionOf, thrownBy } from '../support/errors.js'
import { tempDir } from '../support/tempDir.js'
import type { Recorder } from './helpers.js'
import {
  agentBody,
  CANARY_PASSWORD,
  CANARY_TOKEN,
  expectCode,
  expectNoLeak,
  hasIpv6Loopback,
  startRecorder,
} from './helpers.js'

let agent: Recorder
let agent6: Recorder | undefined
let files: Awaited<ReturnType<typeof tempDir>>
let tokenFile: string

beforeAll(async () => {
  const answer = (_req: unknown, res: import('node:http').ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(agentBody())
  }
  agent = await startRecorder(answer)
  if (await hasIpv6Loopback()) agent6 = await startRecorder(answer, '::1')
  files = await tempDir('podcreds-hardening-')
  tokenFile = await files.write('token', CANARY_TOKEN)
})
afterAll(async () => {
  await agent.close()
  await agent6?.close()
  await files.cleanup()
})

const fromEnv = (env: Record<string, string>) =>
  fromContainer({
    env: { AWS_CONTAINER_AUTHORIZATION_TOKEN: CANARY_TOKEN, ...env },
    maxAttempts: 1,
    timeoutMs: 500,
  })

describe('container endpoint from the environment', () => {
  it('a relative URI without a leading "/" → ERR_ENDPOINT_NOT_ALLOWED, nothing sent', async () => {
    for (const relative of [
      'v1/credentials',
      '@127.0.0.1/v1',
      `.nip.io:${agent.port}/`,
      `:${agent.port}/x`,
    ]) {
      const before = agent.hits.length
      expectCode(
        await rejectionOf(fromEnv({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: relative })()),
        'ERR_ENDPOINT_NOT_ALLOWED',
      )
      expect(agent.hits.length).toBe(before)
    }
  })

  it('the same relative URI as an option → TypeError naming it, with the code as cause', () => {
    let error: unknown
    try {
      fromContainer({ relativeUri: 'v1/credentials' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toMatch(/relativeUri/)
    expect(((error as Error).cause as { code?: string }).code).toBe('ERR_ENDPOINT_NOT_ALLOWED')
  })

  it('a FULL URI with user:password → ERR_INVALID_CONFIG, the password never echoed, nothing sent', async () => {
    const before = agent.hits.length
    const error = await rejectionOf(
      fromEnv({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://user:${CANARY_PASSWORD}@127.0.0.1:${agent.port}/v1`,
      })(),
    )
    expectCode(error, 'ERR_INVALID_CONFIG')
    expect(agent.hits.length).toBe(before)
  })

  it('a FULL URI with user:password as an option → TypeError, the password never echoed', () => {
    let error: unknown
    try {
      fromContainer({ fullUri: `http://user:${CANARY_PASSWORD}@127.0.0.1:${agent.port}/v1` })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TypeError)
    expect(((error as Error).cause as { code?: string }).code).toBe('ERR_INVALID_CONFIG')
    expectNoLeak(error, (error as Error).message, (error as Error).stack)
  })

  it('describe() of a URI with a password reports the error without the password', async () => {
    const provider = fromEnv({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `https://u:${CANARY_PASSWORD}@agent.example/`,
    })
    const result = await provider.describe().catch((e: unknown) => e)
    expectNoLeak(result)
  })

  it('an unparsable FULL URI is not echoed either', async () => {
    const error = await rejectionOf(
      fromEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://u:${CANARY_PASSWORD}@[bad` })(),
    )
    expectCode(error, 'ERR_INVALID_CONFIG')
  })
})

// Hosts that try to escape the http allowlist. Each would reach IMDS, another host, or a DNS name
// that someone else controls; every one must be refused before a socket is opened.
const ESCAPES: readonly [string, string][] = [
  ['IMDS', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
  ['169.254.170.24', 'http://169.254.170.24/'],
  ['a DNS name that resolves to loopback', 'http://127.0.0.1.nip.io/'],
  ['a DNS name with the agent address in it', 'http://169.254.170.23.nip.io/'],
  ['hex IMDS', 'http://0xa9fea9fe/'],
  ['decimal IMDS', 'http://2852039166/'],
  ['octal IMDS', 'http://0251.0376.0251.0376/'],
  ['percent-encoded IMDS', 'http://%31%36%39.254.169.254/'],
  ['IPv4-mapped IMDS', 'http://[::ffff:169.254.169.254]/'],
  ['IPv4-mapped IMDS, hex form', 'http://[::ffff:a9fe:a9fe]/'],
  ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/'],
  ['user info in front of IMDS', 'http://evil@169.254.169.254/'],
  ['an allowed address as user info', 'http://169.254.170.23@169.254.169.254/'],
  ['loopback as user info', 'http://127.0.0.1:80@evil.example/'],
  ['localhost with a trailing dot', 'http://localhost./'],
  ['a localhost subdomain', 'http://localhost.evil.example/'],
  ['Cyrillic о in localhost', 'http://lоcalhost/'],
  ['Greek ο in localhost', 'http://lοcalhost/'],
  ['punycode look-alike', 'http://xn--lcalhost-nbh/'],
  ['a private address', 'http://10.0.0.1/'],
  ['the unspecified address', 'http://0.0.0.0/'],
  ['IPv6 unspecified', 'http://[::]/'],
  ['IPv6 link-local', 'http://[fe80::1]/'],
  ['a near miss of the Pod Identity IPv6 agent', 'http://[fd00:ec2::24]/'],
  ['IMDS over IPv6', 'http://[fd00:ec2::254]/'],
  ['a file URL', 'file:///etc/passwd'],
  ['a data URL', 'data:application/json,{}'],
  ['a gopher URL', 'gopher://127.0.0.1/'],
  ['ws', 'ws://127.0.0.1/'],
]

describe('allowlist escapes → ERR_ENDPOINT_NOT_ALLOWED', () => {
  it.each(ESCAPES)('%s: %s', async (_name, url) => {
    expectCode(
      thrownBy(() => checkEndpoint(url)),
      'ERR_ENDPOINT_NOT_ALLOWED',
    )
    const before = agent.hits.length
    expectCode(
      await rejectionOf(fromEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: url })()),
      'ERR_ENDPOINT_NOT_ALLOWED',
    )
    expect(() => fromContainer({ fullUri: url })).toThrow(TypeError)
    expect(agent.hits.length).toBe(before)
  })

  it('user info with a password in front of a disallowed host: refused, password not echoed', () => {
    const error = thrownBy(() => checkEndpoint(`http://user:${CANARY_PASSWORD}@169.254.169.254/`))
    expectCode(error, 'ERR_ENDPOINT_NOT_ALLOWED')
  })
})

// Forms that WHATWG normalizes to a loopback address (or that are loopback) stay allowed, and the
// request really goes to loopback: the recorder sees it.
const LOOPBACK_FORMS: readonly [string, (port: number) => string][] = [
  ['hex', (port) => `http://0x7f000001:${port}/hex`],
  ['short', (port) => `http://127.1:${port}/short`],
  ['decimal', (port) => `http://2130706433:${port}/decimal`],
  ['octal', (port) => `http://0177.0.0.1:${port}/octal`],
  ['trailing dot', (port) => `http://127.0.0.1.:${port}/dot`],
  ['upper-case scheme', (port) => `HTTP://127.0.0.1:${port}/upper`],
  ['full-width digits', (port) => `http://１２７.０.０.１:${port}/fullwidth`],
  ['percent-encoded loopback', (port) => `http://%31%32%37.0.0.1:${port}/percent`],
  ['localhost', (port) => `http://localhost:${port}/localhost`],
  ['LOCALHOST', (port) => `http://LOCALHOST:${port}/upper-localhost`],
]

describe('forms that normalize to loopback stay allowed and reach loopback', () => {
  it.each(LOOPBACK_FORMS)('%s', async (_name, make) => {
    const url = make(agent.port)
    const parsed = checkEndpoint(url)
    expect(parsed.protocol).toBe('http:')
    const before = agent.hits.length
    const credentials = await fromContainer({
      fullUri: url,
      authorizationToken: CANARY_TOKEN,
      maxAttempts: 1,
    })()
    expect(credentials.accessKeyId).toBeDefined()
    expect(agent.hits.length).toBe(before + 1)
    expect(agent.hits.at(-1)?.url).toBe(parsed.pathname)
  })

  it('[::1] reaches the IPv6 loopback', async () => {
    if (agent6 === undefined) return
    const url = `http://[::1]:${agent6.port}/v6`
    const credentials = await fromContainer({
      fullUri: url,
      authorizationToken: CANARY_TOKEN,
      maxAttempts: 1,
    })()
    expect(credentials.accessKeyId).toBeDefined()
    expect(agent6.hits.at(-1)?.url).toBe('/v6')
    expect(agent6.hits.at(-1)?.localAddress).toBe('::1')
  })

  it('the agent addresses are allowed (checked only, never called)', () => {
    for (const url of [
      'http://169.254.170.2/v2/credentials/x',
      'http://169.254.170.23/v1/credentials',
      'http://[fd00:ec2::23]/v1/credentials',
      'http://[FD00:EC2:0:0:0:0:0:23]/v1/credentials',
      'https://agent.example.com/creds',
    ]) {
      expect(checkEndpoint(url).href).toBeTypeOf('string')
    }
  })
})

describe('web identity role ARN and region', () => {
  const badArns = [
    'arn:aws:iam::12345678901:role/short-account',
    'arn:aws:iam::123456789012:user/not-a-role',
    'arn:aws:sts::123456789012:assumed-role/x/y',
    'role/hardening',
    `arn:aws:iam::123456789012:role/${'x'.repeat(65)}`,
    'arn:aws:iam::123456789012:role/with space',
    'arn:aws:iam::123456789012:role/new\nline',
    '',
  ]
  const badRegions = [
    'us_east_1',
    'US-EAST-1',
    'eu-west',
    'http://evil',
    'us-east-1\r\nx',
    '../../etc',
    'us-east-1.evil.example',
  ]

  it.each(badArns)('role ARN %j from options → TypeError', (roleArn) => {
    expect(() => fromWebIdentity({ roleArn, tokenFile: '/nonexistent' })).toThrow(TypeError)
  })

  it.each(badArns.filter((arn) => arn.trim() !== ''))(
    'role ARN %j from the environment → ERR_INVALID_CONFIG',
    async (roleArn) => {
      const sts = await startRecorder()
      try {
        const provider = fromWebIdentity({
          env: { AWS_ROLE_ARN: roleArn, AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_REGION: 'eu-west-1' },
          endpoint: sts.origin,
          maxAttempts: 1,
        })
        expectCode(await rejectionOf(provider()), 'ERR_INVALID_CONFIG')
        expect(sts.hits).toHaveLength(0)
      } finally {
        await sts.close()
      }
    },
  )

  it.each(badRegions)('region %j from options → TypeError', (region) => {
    expect(() => fromWebIdentity({ region })).toThrow(TypeError)
  })

  it.each(badRegions)('region %j from the environment → ERR_INVALID_CONFIG', async (region) => {
    const sts = await startRecorder()
    try {
      const provider = fromWebIdentity({
        env: {
          AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/hardening',
          AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
          AWS_REGION: region,
        },
        maxAttempts: 1,
      })
      expectCode(await rejectionOf(provider()), 'ERR_INVALID_CONFIG')
      expect(sts.hits).toHaveLength(0)
    } finally {
      await sts.close()
    }
  })

  it('a malformed AWS_DEFAULT_REGION is caught too', async () => {
    const provider = fromWebIdentity({
      env: {
        AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/hardening',
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_DEFAULT_REGION: 'nowhere',
      },
    })
    expectCode(await rejectionOf(provider()), 'ERR_INVALID_CONFIG')
  })
})
