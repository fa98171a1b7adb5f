import { defaultChain, explain } from '@podcreds/chain'
import { CredentialsError } from '@podcreds/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rejectionOf } from '../../../test/support/errors.js'
import type { TempDir } from '../../../test/support/tempDir.js'
import { tempDir } from '../../../test/support/tempDir.js'
import type { TestServer } from './helpers.js'
import { CANARY_SECRET, expectNoSecret, podIdentityEnv, startAgent, writeToken } from './helpers.js'

// Issue 17, part 4: AWS_PROFILE is never silently ignored. The sdk link runs the AWS SDK's own
// fromSSO/fromIni/fromProcess (real ones here, reading the files the env names).
describe('defaultChain(): a selected profile', () => {
  let tmp: TempDir
  let agent: TestServer
  let files: Record<string, string>
  let token: string
  beforeAll(async () => {
    tmp = await tempDir('podcreds-profiles-')
    agent = await startAgent('ASIAPODIDENTITY00001')
    token = writeToken(tmp.dir, 'pod-token', 'pods.eks.amazonaws.com')
    const script = await tmp.write(
      'process.mjs',
      `console.log(JSON.stringify({ Version: 1, AccessKeyId: 'AKIAPROCESSPROFILE01', SecretAccessKey: '${CANARY_SECRET}' }))`,
    )
    files = {
      AWS_CONFIG_FILE: await tmp.write(
        'config',
        [
          '[profile proc]',
          `credential_process = ${JSON.stringify(process.execPath)} ${JSON.stringify(script)}`,
          '[profile regiononly]',
          'region = eu-west-1',
          '',
        ].join('\n'),
      ),
      AWS_SHARED_CREDENTIALS_FILE: await tmp.write('credentials', ''),
      HOME: tmp.dir,
      AWS_EC2_METADATA_DISABLED: 'true',
    }
  })
  afterAll(async () => {
    await agent.close()
    await tmp.cleanup()
  })

  /** A pod with Pod Identity and env keys too: neither may be used silently instead of a profile. */
  const busyPod = (extra: Record<string, string>): Record<string, string> => ({
    ...podIdentityEnv(agent.url, token),
    AWS_ACCESS_KEY_ID: 'AKIAENVKEYS000000001',
    AWS_SECRET_ACCESS_KEY: CANARY_SECRET,
    ...files,
    ...extra,
  })

  it('AWS_PROFILE with credential_process resolves through the chain (the SDK fromProcess), ahead of the pod sources', async () => {
    const env = busyPod({ AWS_PROFILE: 'proc' })
    const provider = defaultChain({ env, sdkFallback: true })
    const credentials = await provider()
    provider.close()
    const explanation = await explain({ env, sdkFallback: true })
    expect(credentials.accessKeyId).toBe('AKIAPROCESSPROFILE01')
    expect(explanation.chosen).toBe('sdk')
    // The profile link (issue 19) leaves a profile without role_arn to the sdk link.
    expect(explanation.links[0]).toMatchObject({ name: 'profile', status: 'skipped' })
    expect(explanation.links[1]!.details).toMatchObject({
      profile: 'proc',
      profileSource: 'AWS_PROFILE',
      profileFile: files.AWS_CONFIG_FILE,
    })
    expect(agent.hits).toBe(0)
    expectNoSecret(explanation)
  })

  it('defaultChain({ profile }) selects a profile as fromNodeProviderChain({ profile }) does, over AWS_PROFILE', async () => {
    const provider = defaultChain({
      env: busyPod({ AWS_PROFILE: 'nosuch' }),
      sdkFallback: true,
      profile: 'proc',
    })
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'AKIAPROCESSPROFILE01' })
    provider.close()
  })

  it.each([
    ['the fallback is off', { sdkFallback: false }, /disabled \(sdkFallback: false\)/],
    [
      'the AWS SDK is not installed',
      {
        sdkFallback: async () => {
          throw Object.assign(new Error("Cannot find package '@aws-sdk/credential-provider-node'"), {
            code: 'ERR_MODULE_NOT_FOUND',
          })
        },
      },
      /@aws-sdk\/credential-provider-node is not installed/,
    ],
  ])(
    'a profile that exists but cannot be used (%s) is ERR_INVALID_CONFIG, never env keys or Pod Identity',
    async (_why, options, why) => {
      const env = busyPod({ AWS_PROFILE: 'proc' })
      const error = await rejectionOf(defaultChain({ env, ...options })())
      const explanation = await explain({ env, ...options })
      expect(error).toBeInstanceOf(CredentialsError)
      expect([error.code, error.tryNextLink]).toEqual(['ERR_INVALID_CONFIG', false])
      expect(error.message).toMatch(
        new RegExp(
          `^sdk: profile proc \\(AWS_PROFILE\\) is defined in ${files.AWS_CONFIG_FILE} but cannot be used: `,
        ),
      )
      expect(error.message).toMatch(why)
      expect(explanation.links[1]).toMatchObject({
        name: 'sdk',
        status: 'failed',
        details: { code: 'ERR_INVALID_CONFIG' },
      })
      expect(agent.hits).toBe(0)
      expectNoSecret(error)
    },
  )

  // The SDK's loader answers {} both for a file its parser rejects and for one whose sections hold
  // no profile keys (an empty [default], a CLI [plugins] section, a [name] without "profile " in
  // the config file, which the AWS CLI and SDKs ignore): only the first is malformed.
  it.each([
    ['an empty [default] section', '[default]\n'],
    ['only an AWS CLI [plugins] section', '[plugins]\ncli_legacy_plugin_path = /opt/plugins\n'],
    ['a section without the "profile " prefix', '[other]\nregion = eu-west-1\n'],
  ])(
    'a config file with %s is not "malformed": the static-key profile resolves as in the AWS SDK',
    async (_name, text) => {
      const env = busyPod({
        AWS_PROFILE: 'keys',
        AWS_CONFIG_FILE: await tmp.write('config-no-profiles', text),
        AWS_SHARED_CREDENTIALS_FILE: await tmp.write(
          'credentials-keys',
          `[keys]\naws_access_key_id = AKIASTATICPROFILE001\naws_secret_access_key = ${CANARY_SECRET}\n`,
        ),
      })
      const provider = defaultChain({ env, sdkFallback: true })
      await expect(provider()).resolves.toMatchObject({ accessKeyId: 'AKIASTATICPROFILE001' })
      provider.close()
      expect(agent.hits).toBe(0)
    },
  )

  it('a profile without credentials is ERR_INVALID_CONFIG naming it and why', async () => {
    const error = await rejectionOf(
      defaultChain({ env: busyPod({ AWS_PROFILE: 'regiononly' }), sdkFallback: true })(),
    )
    expect(error.code).toBe('ERR_INVALID_CONFIG')
    expect(error.message).toMatch(
      /^sdk: profile regiononly \(AWS_PROFILE\) is defined in .* but cannot be used: the AWS SDK found no credentials in it/,
    )
  })

  it('a profile in no file follows the AWS SDK for JS: env keys skipped, the pod sources tried, and explain says so', async () => {
    const env = busyPod({ AWS_PROFILE: 'nosuch' })
    for (const sdkFallback of [true, false]) {
      const provider = defaultChain({ env, sdkFallback })
      await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAPODIDENTITY00001' })
      provider.close()
      const explanation = await explain({ env, sdkFallback })
      expect(explanation.chosen).toBe('container')
      expect(explanation.links.slice(0, 3)).toMatchObject([
        {
          name: 'profile',
          status: 'skipped',
          reason: expect.stringMatching(
            /^profile nosuch \(AWS_PROFILE\) is in no shared config file \(.*\)$/,
          ),
        },
        {
          name: 'sdk',
          status: 'skipped',
          reason: expect.stringMatching(
            /^profile nosuch \(AWS_PROFILE\) is in no shared config file \(.*\): skipped, and as the AWS SDK for JS does, env keys are skipped and the pod sources tried$/,
          ),
        },
        {
          name: 'env',
          status: 'skipped',
          reason:
            'skipped: profile nosuch is selected (AWS_PROFILE), and the AWS SDK skips environment keys then',
        },
      ])
    }
  })
})

describe('defaultChain() / explain(): options', () => {
  it.each([
    [
      { instanceMetadta: true },
      /^instanceMetadta is not an option \(options: env, webIdentity, container, imds, instanceMetadata, profile, refresh, sdkFallback, logger, clock, random/,
    ],
    [{ instanceMetadata: 'yes' }, /^instanceMetadata must be a boolean$/],
    [{ profile: '' }, /^profile must be a non-empty profile name$/],
    [{ imds: { endpointMode: 'ipv6' } }, /^imds\.endpointMode must be 'IPv4' or 'IPv6'$/],
    [{ imds: 5 }, /^imds must be an object of fromInstanceMetadata options$/],
  ])('%j is a TypeError naming the option, in defaultChain() and explain()', async (options, message) => {
    expect(() => defaultChain(options as never)).toThrow(TypeError)
    expect(() => defaultChain(options as never)).toThrow(message)
    await expect(explain(options as never)).rejects.toThrow(message)
  })

  it('explain() accepts and ignores refresh, so one options object serves both; defaultChain() refuses dryRun', async () => {
    const options = {
      env: { AWS_EC2_METADATA_DISABLED: 'true' },
      sdkFallback: false,
      refresh: { maxBackoffMs: 5000 },
    }
    const provider = defaultChain(options)
    provider.close()
    await expect(explain(options)).resolves.toMatchObject({ dryRun: false })
    expect(() => defaultChain({ dryRun: true } as never)).toThrow(
      'dryRun is an option of explain(), not of defaultChain()',
    )
  })
})
