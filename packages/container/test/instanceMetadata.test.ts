import { checkInstanceMetadata, fromInstanceMetadata } from '@podcreds/container'
import type { HttpRequest, HttpTransport } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { rejectionOf } from '../../../test/support/errors.js'
import { assertNoSecret } from '../../../test/support/secrets.js'
import type { Answer, FakeAgent } from './fakeAgent.js'
import { startAgent } from './fakeAgent.js'

const SECRET_CANARY = 'SECRETCANARYnodesecret0123456789'
const SESSION_CANARY = 'SECRETCANARYnodesession0123456789'
const IMDS_TOKEN = 'AQAEAFakeImdsTokenSECRETCANARY=='
const SECRETS = [SECRET_CANARY, SESSION_CANARY, IMDS_TOKEN]

/** A transport that records what would be sent and answers like a closed port (nothing leaves). */
function recordingTransport(): HttpTransport & { requests: HttpRequest[] } {
  const requests: HttpRequest[] = []
  const transport = async (request: HttpRequest) => {
    requests.push(request)
    throw new CredentialsError('request failed: ECONNREFUSED', { code: 'ERR_NETWORK', retryable: true })
  }
  return Object.assign(transport, { requests })
}

describe('fromInstanceMetadata: endpoint, mode and AWS_EC2_METADATA_DISABLED as the AWS SDK reads them', () => {
  it.each([
    [{}, 'http://169.254.169.254/latest/api/token'],
    [{ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv6' }, 'http://[fd00:ec2::254]/latest/api/token'],
    [{ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv4' }, 'http://169.254.169.254/latest/api/token'],
    [
      {
        AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9/base',
        AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'IPv6',
      },
      'http://127.0.0.1:9/latest/api/token',
    ],
  ])('env %j → PUT %s with the 21600 s TTL header; no answer is ERR_NOT_CONFIGURED', async (env, url) => {
    // The transport seam only records: nothing is sent to a link-local address.
    const transport = recordingTransport()
    const error = await rejectionOf(fromInstanceMetadata({ env, transport })())
    expect(transport.requests.map((r) => [r.method, r.url.href, r.headers])).toEqual([
      ['PUT', url, { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' }],
    ])
    expect([error.code, error.tryNextLink]).toEqual(['ERR_NOT_CONFIGURED', true])
    expect(error.message).toMatch(/^instance metadata: no IMDS answered at /)
  })

  it('the endpointMode option picks the IPv6 address; an endpoint wins over it', async () => {
    const transport = recordingTransport()
    await rejectionOf(fromInstanceMetadata({ env: {}, endpointMode: 'IPv6', transport })())
    await rejectionOf(
      fromInstanceMetadata({ env: {}, endpointMode: 'IPv6', endpoint: 'http://127.0.0.1:9', transport })(),
    )
    expect(transport.requests.map((r) => r.url.origin)).toEqual([
      'http://[fd00:ec2::254]',
      'http://127.0.0.1:9',
    ])
  })

  it.each([
    ['true', true],
    ['1', true],
    ['FALSE', true], // the SDK compares with "false" exactly
    ['false', false],
    ['', false],
  ])('AWS_EC2_METADATA_DISABLED=%j disables: %s', async (value, disabled) => {
    const transport = recordingTransport()
    const error = await rejectionOf(
      fromInstanceMetadata({ env: { AWS_EC2_METADATA_DISABLED: value }, transport })(),
    )
    expect(error.code).toBe('ERR_NOT_CONFIGURED')
    expect(transport.requests.length).toBe(disabled ? 0 : 1)
    if (disabled) expect(error.message).toBe('instance metadata: disabled by AWS_EC2_METADATA_DISABLED')
  })

  it('an unknown endpoint mode or a bad endpoint in the environment is ERR_INVALID_CONFIG before any request', async () => {
    const transport = recordingTransport()
    const mode = await rejectionOf(
      fromInstanceMetadata({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: 'ipv6' }, transport })(),
    )
    const url = await rejectionOf(
      fromInstanceMetadata({
        env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://u:SECRETCANARYpw@[::1' },
        transport,
      })(),
    )
    expect([mode.code, url.code]).toEqual(['ERR_INVALID_CONFIG', 'ERR_INVALID_CONFIG'])
    expect(mode.message).toContain('IPv4 or IPv6')
    expect(url.message).not.toContain('SECRETCANARY')
    expect(transport.requests).toEqual([])
  })

  it.each([
    [{ endpointMode: 'ipv6' }, /endpointMode must be 'IPv4' or 'IPv6'/],
    [{ endpoint: 'not a url' }, /endpoint is not an absolute URL/],
    [{ endpoint: 'ftp://127.0.0.1' }, /endpoint must be an http: or https: URL/],
    [{ tokenTtlSeconds: 0 }, /tokenTtlSeconds must be an integer in \[1, 21600\]/],
    [{ tokenTtlSeconds: 21_601 }, /tokenTtlSeconds/],
    [{ maxAttempts: 0 }, /maxAttempts/],
    [{ timeoutMs: -1 }, /timeoutMs/],
  ])('rejects the option %j with a TypeError naming it', (options, message) => {
    expect(() => fromInstanceMetadata(options as never)).toThrow(TypeError)
    expect(() => fromInstanceMetadata(options as never)).toThrow(message)
  })
})

describe('fromInstanceMetadata: an IMDS that misbehaves', () => {
  let imds: FakeAgent
  let credentialsAnswer: Answer
  let roleAnswer: Answer
  beforeEach(async () => {
    roleAnswer = { status: 200, body: 'node-role' }
    credentialsAnswer = { status: 200, body: '{}' }
    imds = await startAgent((hit) => {
      if (hit.path === '/latest/api/token') return { status: 200, body: IMDS_TOKEN }
      if (hit.path === '/latest/meta-data/iam/security-credentials/') return roleAnswer
      return credentialsAnswer
    })
  })
  afterEach(() => imds.close())
  const call = () =>
    rejectionOf(fromInstanceMetadata({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.origin } })())
  const nodeCredentials = (extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      Code: 'Success',
      AccessKeyId: 'ASIANODEKEY000000001',
      SecretAccessKey: SECRET_CANARY,
      Token: SESSION_CANARY,
      Expiration: '2099-01-01T00:00:00Z',
      ...extra,
    })

  it.each<[string, () => void, string, RegExp]>([
    [
      'garbage',
      () => (credentialsAnswer = { status: 200, body: `{"SecretAccessKey":"${SECRET_CANARY}"` }),
      'ERR_RESPONSE_INVALID',
      /is not JSON/,
    ],
    [
      'credentials without a Token',
      () => (credentialsAnswer = { status: 200, body: nodeCredentials({ Token: undefined }) }),
      'ERR_RESPONSE_INVALID',
      /has no Token: the field is missing/,
    ],
    [
      'a Code other than Success',
      () =>
        (credentialsAnswer = {
          status: 200,
          body: nodeCredentials({ Code: 'AssumeRoleUnauthorizedAccess' }),
        }),
      'ERR_RESPONSE_INVALID',
      /answered Code AssumeRoleUnauthorizedAccess, not Success/,
    ],
    [
      '404 on the credentials',
      () => (credentialsAnswer = { status: 404, body: 'Not Found' }),
      'ERR_HTTP_STATUS',
      /security-credentials\/node-role answered 404/,
    ],
    [
      'a huge body',
      () => (credentialsAnswer = { status: 200, body: `${nodeCredentials()}${' '.repeat(70_000)}` }),
      'ERR_RESPONSE_INVALID',
      /exceeds 65536 bytes/,
    ],
    [
      'a redirect',
      () => (credentialsAnswer = { status: 302, body: '', headers: { location: 'http://127.0.0.1:9/' } }),
      'ERR_HTTP_STATUS',
      /redirected with 302 \(redirects are not followed\)/,
    ],
    [
      'a role list that names no role',
      () => (roleAnswer = { status: 200, body: '<html>hello</html>' }),
      'ERR_RESPONSE_INVALID',
      /does not name an IAM role/,
    ],
  ])(
    '%s → a clear CredentialsError that stops the chain, never the node secret',
    async (_what, setUp, code, message) => {
      setUp()
      const error = await call()
      expect(error).toBeInstanceOf(CredentialsError)
      expect([error.code, error.tryNextLink]).toEqual([code, false])
      expect(error.message).toMatch(message)
      expect(error.message).toMatch(/^instance metadata: |^response from /)
      assertNoSecret(error, SECRETS)
    },
  )

  it('404 on the role list (no instance profile) is ERR_NOT_CONFIGURED: the chain moves on', async () => {
    roleAnswer = { status: 404, body: 'Not Found' }
    const error = await call()
    expect([error.code, error.tryNextLink, error.status]).toEqual(['ERR_NOT_CONFIGURED', true, 404])
    expect(error.message).toContain('no instance role')
  })

  it('sends the token on both GETs and never echoes it when IMDS answers with it', async () => {
    credentialsAnswer = { status: 500, body: `oops ${IMDS_TOKEN}` }
    const error = await call()
    expect(imds.hits.slice(1).map((hit) => hit.headers['x-aws-ec2-metadata-token'])).toEqual([
      IMDS_TOKEN,
      IMDS_TOKEN,
    ])
    expect(error.code).toBe('ERR_HTTP_STATUS')
    assertNoSecret(error, SECRETS)
  })

  it('an IMDSv1-only server (404 to the token PUT) is an error naming IMDSv1, not a silent v1 fallback', async () => {
    imds.respond(() => ({ status: 404, body: 'Not Found' }))
    const error = await call()
    expect(error.code).toBe('ERR_HTTP_STATUS')
    expect(error.message).toContain('IMDSv1 only')
    expect(imds.hits).toHaveLength(1)
  })

  it('checkInstanceMetadata reports an unreachable IMDS with one attempt and a disabled one without a request', async () => {
    const origin = imds.origin
    await imds.close()
    const gone = await checkInstanceMetadata({ env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: origin } })
    const transport = recordingTransport()
    const disabled = await checkInstanceMetadata({ env: { AWS_EC2_METADATA_DISABLED: 'true' }, transport })
    expect(gone).toMatchObject({
      reachable: false,
      disabled: false,
      endpointSource: 'AWS_EC2_METADATA_SERVICE_ENDPOINT',
    })
    expect(gone.reason).toMatch(/no IMDS answered/)
    expect(disabled).toMatchObject({ reachable: false, disabled: true, endpoint: 'http://169.254.169.254/' })
    expect(transport.requests).toEqual([])
    await expect(checkInstanceMetadata({ timeout: 5 } as never)).rejects.toThrow(/timeout is not an option/)
  })
})
