import { CredentialsError } from '@podcreds/core'
import type { ResolveStsEndpointInput } from '@podcreds/sts'
import { DEFAULT_STS_REGION, resolveStsEndpoint } from '@podcreds/sts'
import { describe, expect, it } from 'vitest'

type Row = [name: string, input: ResolveStsEndpointInput, url: string, source: RegExp]

const FIPS = { AWS_USE_FIPS_ENDPOINT: 'true' }
const DUAL = { AWS_USE_DUALSTACK_ENDPOINT: 'true' }

const table: Row[] = [
  [
    'a commercial region',
    { region: 'eu-west-1', env: {} },
    'https://sts.eu-west-1.amazonaws.com/',
    /regional/,
  ],
  ['AWS_REGION', { env: { AWS_REGION: 'us-west-2' } }, 'https://sts.us-west-2.amazonaws.com/', /us-west-2/],
  [
    'AWS_DEFAULT_REGION',
    { env: { AWS_DEFAULT_REGION: 'ap-south-1' } },
    'https://sts.ap-south-1.amazonaws.com/',
    /ap-south-1/,
  ],
  [
    'AWS_REGION over AWS_DEFAULT_REGION',
    { env: { AWS_REGION: 'eu-north-1', AWS_DEFAULT_REGION: 'ap-south-1' } },
    'https://sts.eu-north-1.amazonaws.com/',
    /eu-north-1/,
  ],
  [
    'the region argument over AWS_REGION',
    { region: 'ca-central-1', env: { AWS_REGION: 'us-west-2' } },
    'https://sts.ca-central-1.amazonaws.com/',
    /ca-central-1/,
  ],
  ['China', { region: 'cn-north-1', env: {} }, 'https://sts.cn-north-1.amazonaws.com.cn/', /regional/],
  [
    'China (Ningxia)',
    { region: 'cn-northwest-1', env: {} },
    'https://sts.cn-northwest-1.amazonaws.com.cn/',
    /./,
  ],
  ['GovCloud', { region: 'us-gov-west-1', env: {} }, 'https://sts.us-gov-west-1.amazonaws.com/', /regional/],
  // GovCloud's regional STS hosts are FIPS-validated: the SDK rules answer FIPS with them.
  [
    'GovCloud + FIPS',
    { region: 'us-gov-east-1', env: FIPS },
    'https://sts.us-gov-east-1.amazonaws.com/',
    /FIPS/,
  ],
  ['FIPS', { region: 'us-east-2', env: FIPS }, 'https://sts-fips.us-east-2.amazonaws.com/', /\(FIPS\)/],
  [
    'FIPS in China',
    { region: 'cn-north-1', env: FIPS },
    'https://sts-fips.cn-north-1.amazonaws.com.cn/',
    /FIPS/,
  ],
  ['dual-stack', { region: 'eu-west-1', env: DUAL }, 'https://sts.eu-west-1.api.aws/', /\(dual-stack\)/],
  [
    'dual-stack in China',
    { region: 'cn-north-1', env: DUAL },
    'https://sts.cn-north-1.api.amazonwebservices.com.cn/',
    /dual-stack/,
  ],
  [
    'FIPS + dual-stack',
    { region: 'us-west-2', env: { ...FIPS, ...DUAL } },
    'https://sts-fips.us-west-2.api.aws/',
    /FIPS, dual-stack/,
  ],
  [
    'GovCloud FIPS + dual-stack',
    { region: 'us-gov-west-1', env: { ...FIPS, ...DUAL } },
    'https://sts-fips.us-gov-west-1.api.aws/',
    /FIPS, dual-stack/,
  ],
  [
    'flags set to false',
    { region: 'eu-west-1', env: { AWS_USE_FIPS_ENDPOINT: 'False', AWS_USE_DUALSTACK_ENDPOINT: 'false' } },
    'https://sts.eu-west-1.amazonaws.com/',
    /regional/,
  ],
  ['ISO', { region: 'us-iso-east-1', env: {} }, 'https://sts.us-iso-east-1.c2s.ic.gov/', /regional/],
  ['ISO-B', { region: 'us-isob-east-1', env: {} }, 'https://sts.us-isob-east-1.sc2s.sgov.gov/', /regional/],
  [
    'EU sovereign cloud',
    { region: 'eusc-de-east-1', env: {} },
    'https://sts.eusc-de-east-1.amazonaws.eu/',
    /./,
  ],
  [
    'AWS_ENDPOINT_URL_STS',
    { region: 'eu-west-1', env: { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:4566', ...FIPS } },
    'http://127.0.0.1:4566/',
    /^AWS_ENDPOINT_URL_STS$/,
  ],
  [
    'AWS_ENDPOINT_URL',
    { region: 'eu-west-1', env: { AWS_ENDPOINT_URL: 'https://localstack.internal:4566/' } },
    'https://localstack.internal:4566/',
    /^AWS_ENDPOINT_URL$/,
  ],
  [
    'AWS_ENDPOINT_URL_STS over AWS_ENDPOINT_URL',
    { env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:1/', AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:2/' } },
    'http://127.0.0.1:2/',
    /^AWS_ENDPOINT_URL_STS$/,
  ],
  [
    'the endpoint argument over AWS_ENDPOINT_URL_STS',
    { endpoint: 'http://[::1]:8080/sts', env: { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:2/' } },
    'http://[::1]:8080/sts',
    /endpoint option/,
  ],
  [
    'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
    {
      region: 'eu-west-1',
      env: { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:2/', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
    },
    'https://sts.eu-west-1.amazonaws.com/',
    /regional/,
  ],
  [
    'legacy mode with no region: the global endpoint',
    { env: { AWS_STS_REGIONAL_ENDPOINTS: 'legacy' } },
    'https://sts.amazonaws.com/',
    /global.*legacy/,
  ],
  [
    'legacy mode with a region: still regional (the design keeps global for no-region only)',
    { region: 'eu-west-1', env: { AWS_STS_REGIONAL_ENDPOINTS: 'legacy' } },
    'https://sts.eu-west-1.amazonaws.com/',
    /regional/,
  ],
  [
    'legacy mode with FIPS and no region: regional us-east-1 FIPS',
    { env: { AWS_STS_REGIONAL_ENDPOINTS: 'legacy', ...FIPS } },
    'https://sts-fips.us-east-1.amazonaws.com/',
    /no region/,
  ],
  [
    'regional mode with no region: us-east-1',
    { env: { AWS_STS_REGIONAL_ENDPOINTS: 'regional' } },
    'https://sts.us-east-1.amazonaws.com/',
    /no region/,
  ],
  ['no region at all: us-east-1', { env: {} }, 'https://sts.us-east-1.amazonaws.com/', /no region/],
  ['the aws-global pseudo-region', { region: 'aws-global', env: {} }, 'https://sts.amazonaws.com/', /global/],
]

describe('resolveStsEndpoint', () => {
  it.each(table)('%s', (_name, input, url, source) => {
    const endpoint = resolveStsEndpoint(input)
    expect(endpoint.url.href).toBe(url)
    expect(endpoint.source).toMatch(source)
  })

  it('warns only when no region is configured', () => {
    expect(resolveStsEndpoint({ env: {} }).warning).toMatch(/no region/)
    expect(resolveStsEndpoint({ env: {} }).region).toBe(DEFAULT_STS_REGION)
    expect(resolveStsEndpoint({ region: 'eu-west-1', env: {} }).warning).toBeUndefined()
    expect(
      resolveStsEndpoint({ env: { AWS_ENDPOINT_URL_STS: 'http://127.0.0.1:1' } }).warning,
    ).toBeUndefined()
  })

  it.each<[string, ResolveStsEndpointInput]>([
    ['region', { region: 'Europe', env: {} }],
    ['endpoint', { endpoint: 'localhost:4566', env: {} }],
    ['endpoint', { endpoint: 'file:///etc/passwd', env: {} }],
  ])('throws a TypeError for a bad %s argument', (name, input) => {
    expect(() => resolveStsEndpoint(input)).toThrow(TypeError)
    expect(() => resolveStsEndpoint(input)).toThrow(name)
  })

  it.each([
    ['AWS_REGION', { AWS_REGION: 'moon-base' }],
    ['AWS_ENDPOINT_URL_STS', { AWS_ENDPOINT_URL_STS: 'sts.local' }],
    ['AWS_ENDPOINT_URL', { AWS_ENDPOINT_URL: 'ftp://x' }],
    ['AWS_USE_DUALSTACK_ENDPOINT', { AWS_USE_DUALSTACK_ENDPOINT: '1' }],
  ])('a malformed %s is ERR_INVALID_CONFIG', (name, env) => {
    let error: unknown
    try {
      resolveStsEndpoint({ env })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(CredentialsError)
    expect((error as CredentialsError).code).toBe('ERR_INVALID_CONFIG')
    expect((error as CredentialsError).message).toContain(name)
  })

  it('ignores an AWS_STS_REGIONAL_ENDPOINTS other than regional/legacy with a warning, as the AWS SDK for JS does', () => {
    // The JS SDK v3 does not read the variable at all; botocore accepts only the two values.
    const endpoint = resolveStsEndpoint({
      region: 'eu-west-1',
      env: { AWS_STS_REGIONAL_ENDPOINTS: 'Global' },
    })
    expect(endpoint.url.href).toBe('https://sts.eu-west-1.amazonaws.com/')
    expect(endpoint.warning).toMatch(
      /AWS_STS_REGIONAL_ENDPOINTS must be "regional" or "legacy", got "global"; using regional/,
    )
    const noRegion = resolveStsEndpoint({ env: { AWS_STS_REGIONAL_ENDPOINTS: 'nope' } })
    expect(noRegion.url.href).toBe('https://sts.us-east-1.amazonaws.com/')
    expect(noRegion.warning).toMatch(/^no region is configured.*; AWS_STS_REGIONAL_ENDPOINTS must be/)
  })
})
