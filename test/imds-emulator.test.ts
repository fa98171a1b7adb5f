import { inspect } from 'node:util'
import { defaultChain, explain } from '@podcreds/chain'
import { checkInstanceMetadata, fromInstanceMetadata } from '@podcreds/container'
import { type Emulator, startEmulator } from '@podcreds/emulator'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rejectionOf } from './support/errors.js'
import { assertNoSecret } from './support/secrets.js'

// Issue 17: our IMDSv2 client and the default chain's imds link against the emulator's IMDSv2
// stand-in (emulator.imdsUrl), which emulator.env points AWS_EC2_METADATA_SERVICE_ENDPOINT at.
describe('fromInstanceMetadata against the emulator IMDSv2 stand-in', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await startEmulator({ rotateEveryMs: 0 })
  })
  afterAll(() => emulator.close())

  it('does the IMDSv2 dance (token PUT, role, credentials) and names the role in describe()', async () => {
    const env = { AWS_EC2_METADATA_SERVICE_ENDPOINT: emulator.imdsUrl }
    const provider = fromInstanceMetadata({ env })
    const before = emulator.stats().imdsRequests
    const credentials = await provider()
    const description = await provider.describe()
    expect(credentials.accessKeyId).toMatch(/^ASIA/)
    expect(credentials.expiration.getTime()).toBeGreaterThan(Date.now() + 5 * 3_600_000)
    expect(emulator.stats().imdsRequests - before).toBe(3)
    expect(description.details).toEqual({
      endpoint: `${emulator.imdsUrl}/`,
      endpointSource: 'AWS_EC2_METADATA_SERVICE_ENDPOINT',
      role: 'podcreds-demo-node',
    })
    // The credentials print redacted.
    expect(inspect(credentials)).not.toContain(credentials.secretAccessKey)
  })

  it('checkInstanceMetadata probes with the token PUT and the role name, never the credentials', async () => {
    const before = emulator.stats().imdsRequests
    const probe = await checkInstanceMetadata({
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: emulator.imdsUrl },
    })
    expect(probe).toMatchObject({ reachable: true, roleName: 'podcreds-demo-node', disabled: false })
    expect(emulator.stats().imdsRequests - before).toBe(2)
  })
})

describe('defaultChain(): the imds link in a pod and off-cluster', () => {
  let emulator: Emulator
  beforeAll(async () => {
    emulator = await startEmulator({ rotateEveryMs: 0 })
  })
  afterAll(() => emulator.close())

  /** A pod with no IRSA and no Pod Identity: only the node's IMDS (here, the stand-in). */
  const podWithImdsOnly = (extra: Record<string, string> = {}): Record<string, string> => ({
    KUBERNETES_SERVICE_HOST: emulator.env.KUBERNETES_SERVICE_HOST!,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: emulator.imdsUrl,
    ...extra,
  })

  it('inside Kubernetes, skips IMDS without any request and says why and how to opt in', async () => {
    // Prepare
    const before = emulator.stats().imdsRequests
    const provider = defaultChain({ env: podWithImdsOnly() })
    // Act
    const error = await rejectionOf(provider())
    const explanation = await explain({ env: podWithImdsOnly() })
    provider.close()
    // Assess: the node role was not handed to the pod, and nobody asked IMDS
    expect(emulator.stats().imdsRequests).toBe(before)
    expect(error.code).toBe('ERR_CHAIN_EXHAUSTED')
    expect(error.message).toContain(
      "  - imds: skipped inside Kubernetes (KUBERNETES_SERVICE_HOST is set), without a request: a pod would get the node's instance role. Opt in with instanceMetadata: true or PODCREDS_INSTANCE_METADATA=true (kube2iam, kiam)",
    )
    expect(explanation.chosen).toBeUndefined()
    expect(explanation.links.at(-1)).toMatchObject({ name: 'imds', status: 'skipped' })
    expect(explanation.links.at(-1)!.reason).toMatch(
      /^skipped inside Kubernetes .* Opt in with instanceMetadata: true/,
    )
  })

  it.each([
    ['instanceMetadata: true', { instanceMetadata: true }, {}],
    ['PODCREDS_INSTANCE_METADATA=true', {}, { PODCREDS_INSTANCE_METADATA: 'true' }],
    ['off-cluster (no KUBERNETES_SERVICE_HOST)', {}, { KUBERNETES_SERVICE_HOST: '' }],
  ])(
    'opted in with %s: chosen is imds, its details name the role and the endpoint',
    async (_how, options, env) => {
      const explanation = await explain({ env: podWithImdsOnly(env), ...options })
      const provider = defaultChain({ env: podWithImdsOnly(env), ...options })
      const credentials = await provider()
      provider.close()
      expect(explanation.chosen).toBe('imds')
      const imds = explanation.links.find((link) => link.name === 'imds')!
      expect(imds.details).toMatchObject({
        role: 'podcreds-demo-node',
        endpoint: `${emulator.imdsUrl}/`,
        endpointSource: 'AWS_EC2_METADATA_SERVICE_ENDPOINT',
      })
      expect(imds.reason).toMatch(/^resolved ASIA…/)
      expect(credentials.accessKeyId).toMatch(/^ASIA/)
      // Never the node secret in explain's output.
      assertNoSecret(explanation, [credentials.secretAccessKey, credentials.sessionToken!])
      expect(inspect(credentials)).not.toContain(credentials.secretAccessKey)
    },
  )

  it('instanceMetadata: false turns it off even off-cluster; a bad PODCREDS_INSTANCE_METADATA is ERR_INVALID_CONFIG', async () => {
    const before = emulator.stats().imdsRequests
    const off = await explain({
      env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: emulator.imdsUrl },
      instanceMetadata: false,
    })
    const bad = await explain({ env: podWithImdsOnly({ PODCREDS_INSTANCE_METADATA: 'yes' }) })
    expect(off.links.at(-1)).toMatchObject({
      name: 'imds',
      status: 'skipped',
      reason: 'disabled (instanceMetadata: false)',
    })
    expect(bad.links.at(-1)).toMatchObject({
      name: 'imds',
      status: 'failed',
      reason: 'PODCREDS_INSTANCE_METADATA must be true or false',
      details: { code: 'ERR_INVALID_CONFIG' },
    })
    expect(emulator.stats().imdsRequests).toBe(before)
  })

  it('emulator.env (a pod with Pod Identity) uses the container link; IMDS is never asked', async () => {
    const before = emulator.stats().imdsRequests
    const explanation = await explain({ env: emulator.env })
    expect(explanation.chosen).toBe('container')
    expect(explanation.links.at(-1)!.reason).toMatch(
      /^not reached: container comes first \(not configured either: skipped inside Kubernetes/,
    )
    expect(emulator.stats().imdsRequests).toBe(before)
  })
})
