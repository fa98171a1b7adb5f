import * as sts from '@podcreds/sts'
import {
  DEFAULT_STS_CONNECT_TIMEOUT_MS,
  DEFAULT_STS_MAX_ATTEMPTS,
  DEFAULT_STS_REGION,
  DEFAULT_STS_TIMEOUT_MS,
  fromWebIdentity,
  resolveStsEndpoint,
} from '@podcreds/web-identity'
import { describe, expect, it } from 'vitest'

// Issue 19: STS moved to @podcreds/sts; web-identity keeps re-exporting what doctor, tests and
// READMEs name, and uses the very same endpoint resolution.
const DUAL = { AWS_USE_DUALSTACK_ENDPOINT: 'true' }

describe('@podcreds/web-identity on @podcreds/sts', () => {
  it('re-exports resolveStsEndpoint and the DEFAULT_STS_* constants of @podcreds/sts', () => {
    expect(resolveStsEndpoint).toBe(sts.resolveStsEndpoint)
    expect([
      DEFAULT_STS_REGION,
      DEFAULT_STS_TIMEOUT_MS,
      DEFAULT_STS_CONNECT_TIMEOUT_MS,
      DEFAULT_STS_MAX_ATTEMPTS,
    ]).toEqual([
      sts.DEFAULT_STS_REGION,
      sts.DEFAULT_STS_TIMEOUT_MS,
      sts.DEFAULT_STS_CONNECT_TIMEOUT_MS,
      sts.DEFAULT_STS_MAX_ATTEMPTS,
    ])
    expect(DEFAULT_STS_REGION).toBe('us-east-1')
  })

  it('is what fromWebIdentity uses (describe() reports the same URL and source)', async () => {
    const env = { AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/r', AWS_REGION: 'cn-north-1', ...DUAL }
    const expected = resolveStsEndpoint({ env })
    const description = await fromWebIdentity({
      env: { ...env, AWS_WEB_IDENTITY_TOKEN_FILE: '/token' },
      readFile: async () => new TextEncoder().encode('opaque-token'),
    }).describe()
    expect(description.details.endpoint).toBe(expected.url.href)
    expect(description.details.endpointSource).toBe(expected.source)
  })

  it('an AWS_STS_REGIONAL_ENDPOINTS other than regional/legacy no longer fails IRSA: a warning, regional endpoint', async () => {
    const provider = fromWebIdentity({
      env: {
        AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/r',
        AWS_WEB_IDENTITY_TOKEN_FILE: '/token',
        AWS_REGION: 'eu-west-1',
        AWS_STS_REGIONAL_ENDPOINTS: 'global',
      },
      readFile: async () => new TextEncoder().encode('opaque-token'),
    })
    const description = await provider.describe()
    expect(description.details.endpoint).toBe('https://sts.eu-west-1.amazonaws.com/')
    expect(description.details.warning).toMatch(/AWS_STS_REGIONAL_ENDPOINTS must be "regional" or "legacy"/)
  })
})
