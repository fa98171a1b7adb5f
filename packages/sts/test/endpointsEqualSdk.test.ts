// Issue 19, "STS endpoints equal the AWS SDK's": resolveStsEndpoint's partition table against the
// AWS SDK for JavaScript's own STS endpoint resolver (`new STSClient(config).config.endpointProvider`,
// the ruleset every v3 STS client runs), for every region the SDK knows — read from the SDK's own
// partitions table, so a region AWS adds shows up here on the next SDK update — plus regions no
// partition lists yet, × FIPS × dual-stack.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { STSClient } from '@aws-sdk/client-sts'
import { resolveStsEndpoint } from '@podcreds/sts'
import { describe, expect, it } from 'vitest'

const require = createRequire(import.meta.url)

interface Partitions {
  partitions: { id: string; regionRegex: string; regions: Record<string, unknown> }[]
}

/** The partitions table the SDK's endpoint functions use, from the @aws-sdk/core the client loads. */
function sdkPartitions(): Partitions {
  const clientEntry = require.resolve('@aws-sdk/client-sts')
  const coreClient = require.resolve('@aws-sdk/core/client', { paths: [clientEntry] })
  const source = readFileSync(coreClient, 'utf8')
  const match = /const partitionsInfo = (\{[\s\S]*?\n\});\n/.exec(source)
  if (match?.[1] === undefined) throw new Error(`no partitionsInfo table in ${coreClient}`)
  return JSON.parse(match[1]) as Partitions
}

const partitions = sdkPartitions()
const sdkRegions = partitions.partitions.flatMap((p) => Object.keys(p.regions))
// `aws-cn-global`, `aws-us-gov-global`, … name a partition's global endpoint inside the SDK's
// tables; only `aws-global` is a region a client is configured with (and the one we accept).
const pseudoRegions = sdkRegions.filter((r) => /^aws-.+-global$/.test(r))
const regions = sdkRegions.filter((r) => !pseudoRegions.includes(r))
// Regions no partition lists (yet): each partition's pattern decides, the commercial one otherwise.
const unknownRegions = [
  'xx-fake-1',
  'ap-future-12',
  'us-gov-fake-9',
  'cn-nowhere-7',
  'eusc-de-north-9',
  'us-iso-north-3',
  'us-isob-south-2',
  'eu-isoe-north-4',
  'us-isof-west-8',
]
const variants = [
  { fips: false, dualStack: false },
  { fips: true, dualStack: false },
  { fips: false, dualStack: true },
  { fips: true, dualStack: true },
]
const endpointProvider = new STSClient({ region: 'us-east-1' }).config.endpointProvider

function sdkUrl(region: string, fips: boolean, dualStack: boolean): string {
  // UseGlobalEndpoint false: the JS SDK's default; it does not read AWS_STS_REGIONAL_ENDPOINTS.
  return endpointProvider({
    Region: region,
    UseFIPS: fips,
    UseDualStack: dualStack,
    UseGlobalEndpoint: false,
  }).url.href
}

function ourUrl(region: string, fips: boolean, dualStack: boolean): string {
  const env = { AWS_USE_FIPS_ENDPOINT: String(fips), AWS_USE_DUALSTACK_ENDPOINT: String(dualStack) }
  return resolveStsEndpoint({ region, env }).url.href
}

describe('resolveStsEndpoint equals the AWS SDK for JavaScript’s STS endpoint resolver', () => {
  it('reads every partition of the SDK (aws, aws-cn, aws-us-gov, aws-iso*, aws-eusc) and its regions', () => {
    expect(partitions.partitions.map((p) => p.id)).toEqual(
      expect.arrayContaining([
        'aws',
        'aws-cn',
        'aws-us-gov',
        'aws-iso',
        'aws-iso-b',
        'aws-iso-e',
        'aws-iso-f',
        'aws-eusc',
      ]),
    )
    expect(regions.length).toBeGreaterThanOrEqual(45)
    expect(regions).toEqual(
      expect.arrayContaining(['us-east-1', 'cn-north-1', 'us-gov-west-1', 'eusc-de-east-1']),
    )
  })

  const cases = [...regions, ...unknownRegions].flatMap((region) =>
    variants.map((v) => ({
      region,
      ...v,
      label: `${region}${v.fips ? ' FIPS' : ''}${v.dualStack ? ' dual-stack' : ''}`,
    })),
  )
  it(`agrees on all ${cases.length} region × FIPS × dual-stack cases`, () => {
    const disagreements = cases
      .map(({ region, fips, dualStack, label }) => ({
        label,
        sdk: sdkUrl(region, fips, dualStack),
        ours: ourUrl(region, fips, dualStack),
      }))
      .filter(({ sdk, ours }) => sdk !== ours)
    expect(disagreements).toEqual([])
    expect(cases.length).toBe((regions.length + unknownRegions.length) * 4)
  })

  it('unknown regions follow their partition’s pattern, as the SDK’s partition() does', () => {
    expect(ourUrl('cn-nowhere-7', false, false)).toBe('https://sts.cn-nowhere-7.amazonaws.com.cn/')
    expect(ourUrl('xx-fake-1', false, true)).toBe('https://sts.xx-fake-1.api.aws/')
    expect(ourUrl('us-gov-fake-9', true, false)).toBe(sdkUrl('us-gov-fake-9', true, false))
  })

  it('refuses the SDK-internal pseudo-regions other than aws-global (a TypeError naming the region)', () => {
    expect(pseudoRegions.length).toBeGreaterThan(0)
    for (const region of pseudoRegions) {
      expect(() => resolveStsEndpoint({ region, env: {} })).toThrow(TypeError)
    }
  })
})
