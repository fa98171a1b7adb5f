import { explain } from '@podcreds/chain'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TempDir } from '../../../test/support/tempDir.js'
import { tempDir } from '../../../test/support/tempDir.js'
import type { TestServer } from './helpers.js'
import {
  CANARY_SECRET,
  CANARY_TOKEN,
  credentials,
  expectNoSecret,
  irsaEnv,
  podIdentityEnv,
  startAgent,
  startSts,
  writeToken,
} from './helpers.js'

const NOT_INSTALLED = Object.assign(new Error("Cannot find package '@aws-sdk/credential-provider-node'"), {
  code: 'ERR_MODULE_NOT_FOUND',
})

describe('explain()', () => {
  let agent: TestServer
  let sts: TestServer
  let tmp: TempDir
  let token: string
  let loaderCalls: number
  const countingLoader = async () => {
    loaderCalls++
    return async () => credentials('AKIASDKFALLBACKKEY01')
  }

  beforeEach(async () => {
    agent = await startAgent('ASIAPODIDENTITY00001')
    sts = await startSts('ASIAIRSAWEBIDENTITY1')
    tmp = await tempDir('podcreds-chain-')
    token = writeToken(tmp.dir)
    loaderCalls = 0
  })

  afterEach(async () => {
    await agent.close()
    await sts.close()
    await tmp.cleanup()
  })

  it('dry run: says IRSA and Pod Identity were both found and IRSA wins, sending nothing', async () => {
    const env = { ...irsaEnv(sts.url, token), ...podIdentityEnv(agent.url, token) }

    const explanation = await explain({ env, dryRun: true, sdkFallback: countingLoader })

    expect(explanation.dryRun).toBe(true)
    expect(explanation.chosen).toBe('web-identity')
    expect(explanation.links.map((link) => [link.name, link.status])).toEqual([
      ['env', 'skipped'],
      ['web-identity', 'chosen'],
      ['container', 'not-reached'],
      ['sdk', 'not-reached'],
      ['imds', 'not-reached'],
    ])
    const container = explanation.links[2]!
    expect(container.reason).toMatch(
      /^also configured \(GET http:\/\/127\.0\.0\.1:\d+\/v1\/credentials .*\), not used: web-identity comes first$/,
    )
    expect(container.details['tokenFile']).toBe(token)
    expect(explanation.links[1]!.details['roleArn']).toBe('arn:aws:iam::111122223333:role/app')
    expect(explanation.links[3]!.reason).toBe('not reached: web-identity comes first')
    expect(agent.hits + sts.hits).toBe(0)
    expect(loaderCalls).toBe(0)
    expectNoSecret(explanation)
  })

  it('full mode: resolves for real, without caching, and reports the key id redacted and the expiry', async () => {
    const env = { ...irsaEnv(sts.url, token), ...podIdentityEnv(agent.url, token) }

    const explanation = await explain({ env, sdkFallback: countingLoader })
    const again = await explain({ env, sdkFallback: countingLoader })

    expect(explanation.dryRun).toBe(false)
    expect(explanation.chosen).toBe('web-identity')
    const chosen = explanation.links[1]!
    expect(chosen.status).toBe('chosen')
    expect(chosen.details['accessKeyId']).toBe('ASIA…ITY1')
    expect(chosen.details['accountId']).toBe('111122223333')
    expect(Date.parse(chosen.details['expiration']!)).toBeGreaterThan(Date.now())
    expect(chosen.reason).toContain(`resolved ASIA…ITY1, expires ${chosen.details['expiration']}`)
    expect(explanation.links[2]!.status).toBe('not-reached')
    expect(again.chosen).toBe('web-identity')
    // Two explanations, two STS exchanges: nothing cached; the agent was never asked.
    expect(sts.hits).toBe(2)
    expect(agent.hits).toBe(0)
    expect(loaderCalls).toBe(0)
    expectNoSecret(explanation)
    expect(JSON.stringify(explanation)).not.toContain('ASIAIRSAWEBIDENTITY1')
    expect(String(explanation)).not.toContain('ASIAIRSAWEBIDENTITY1')
  })

  it('reports a configured but broken link as failed with its code, and later links as not reached', async () => {
    const env = { ...irsaEnv(sts.url, `${tmp.dir}/no-such-token`), ...podIdentityEnv(agent.url, token) }

    for (const dryRun of [true, false]) {
      const explanation = await explain({ env, dryRun, sdkFallback: countingLoader })
      expect(explanation.chosen).toBeUndefined()
      const webIdentity = explanation.links[1]!
      expect(webIdentity.status).toBe('failed')
      expect(webIdentity.details['code']).toBe('ERR_TOKEN_FILE')
      expect(webIdentity.reason).toContain(`${tmp.dir}/no-such-token`)
      expect(explanation.links[2]!.reason).toMatch(
        /^also configured .*, not used: web-identity failed first$/,
      )
      expect(String(explanation).split('\n')[0]).toBe(
        `podcreds credential chain (${dryRun ? 'dry run: configuration only, nothing sent' : 'resolved, not cached'}): web-identity failed, no credentials`,
      )
    }
    expect(agent.hits + sts.hits).toBe(0)
    expect(loaderCalls).toBe(0)
  })

  it('says the SDK fallback is unavailable when it is not installed', async () => {
    for (const dryRun of [true, false]) {
      const explanation = await explain({
        env: { AWS_EC2_METADATA_DISABLED: 'true' },
        dryRun,
        sdkFallback: async () => {
          throw NOT_INSTALLED
        },
      })
      expect(explanation.chosen).toBeUndefined()
      expect(explanation.links.map((link) => link.status)).toEqual([
        'skipped',
        'skipped',
        'skipped',
        'skipped',
        'skipped',
      ])
      expect(explanation.links[3]).toMatchObject({
        name: 'sdk',
        reason: 'fallback unavailable: @aws-sdk/credential-provider-node is not installed',
      })
      expect(String(explanation)).toContain('every link skipped, no credentials')
    }
  })

  it('says the SDK fallback is disabled with sdkFallback: false', async () => {
    const explanation = await explain({ env: {}, dryRun: true, sdkFallback: false })
    expect(explanation.links[3]).toEqual({
      name: 'sdk',
      status: 'skipped',
      reason: 'disabled (sdkFallback: false)',
      details: {},
    })
  })

  it('chooses the SDK fallback when nothing else is configured', async () => {
    const dry = await explain({ env: {}, dryRun: true, sdkFallback: countingLoader })
    expect(dry.chosen).toBe('sdk')
    expect(dry.links[3]!.reason).toBe(
      'the sdkFallback loader will be asked (a dry run cannot tell what it finds)',
    )

    const full = await explain({ env: {}, sdkFallback: countingLoader })
    expect(full.chosen).toBe('sdk')
    expect(full.links[3]!.details['accessKeyId']).toBe('AKIA…EY01')
  })

  it('orders the SDK fallback first when AWS_PROFILE is set', async () => {
    const explanation = await explain({
      env: { ...podIdentityEnv(agent.url, token), AWS_PROFILE: 'dev' },
      dryRun: true,
      sdkFallback: countingLoader,
    })
    // The profile link (issue 19) goes first and leaves a profile that chains no roles to sdk.
    expect(explanation.links.map((link) => link.name)).toEqual([
      'profile',
      'sdk',
      'env',
      'web-identity',
      'container',
      'imds',
    ])
    expect(explanation.chosen).toBe('sdk')
    expect(explanation.links[4]!.reason).toMatch(/^also configured .*, not used: sdk comes first$/)
    // The AWS SDK skips env keys when AWS_PROFILE is set; explain says so.
    expect(explanation.links[2]!.reason).toMatch(
      /not configured either: skipped: profile dev is selected \(AWS_PROFILE\)/,
    )
  })

  it('reports environment keys redacted in both modes', async () => {
    const env = {
      AWS_ACCESS_KEY_ID: 'AKIAENVSTATICKEY0001',
      AWS_SECRET_ACCESS_KEY: CANARY_SECRET,
      AWS_SESSION_TOKEN: CANARY_TOKEN,
    }
    for (const dryRun of [true, false]) {
      const explanation = await explain({ env, dryRun, sdkFallback: false })
      expect(explanation.chosen).toBe('env')
      expect(explanation.links[0]!.details['accessKeyId']).toBe('AKIA…0001')
      expectNoSecret(explanation)
      expect(String(explanation)).not.toContain('AKIAENVSTATICKEY0001')
    }
  })

  it('toString() prints no control characters from token claims (no terminal escapes, no forged lines)', async () => {
    const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
    const now = Math.floor(Date.now() / 1000)
    const hostile = `${tmp.dir}/hostile-token`
    const { writeFileSync } = await import('node:fs')
    writeFileSync(
      hostile,
      [
        encode({ alg: 'RS256' }),
        encode({
          iss: 'https://oidc.example.com/id/TEST\u001b[2J',
          sub: 'system:serviceaccount:default:app\nforged line',
          aud: ['sts.amazonaws.com\u001b]0;title\u0007'],
          iat: now,
          exp: now + 3600,
        }),
        'c2ln',
      ].join('.'),
    )
    const env = { ...irsaEnv(sts.url, hostile), ...podIdentityEnv(agent.url, hostile) }

    const explanation = await explain({ env, dryRun: true, sdkFallback: false })
    const text = String(explanation)

    expect(explanation.links[1]!.details['tokenSubject']).toContain('forged line')
    expect(text).toContain('forged line')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/)
    expect(text.split('\n').some((line) => line.startsWith('forged line'))).toBe(false)
  })

  it('renders a readable summary with toString(), which JSON leaves out', async () => {
    const env = { ...irsaEnv(sts.url, token), ...podIdentityEnv(agent.url, token) }
    const explanation = await explain({ env, dryRun: true, sdkFallback: false })

    const lines = String(explanation).split('\n')

    expect(lines[0]).toBe(
      'podcreds credential chain (dry run: configuration only, nothing sent): web-identity chosen',
    )
    expect(lines[1]).toBe(
      '  1. env           skipped      neither AWS_ACCESS_KEY_ID nor AWS_SECRET_ACCESS_KEY is set',
    )
    expect(lines[2]).toMatch(/^ {2}2\. web-identity {2}chosen {7}/)
    expect(lines).toContain('                   roleArn: arn:aws:iam::111122223333:role/app')
    expect(lines.some((line) => /^ {2}3\. container {5}not-reached {2}also configured/.test(line))).toBe(true)
    expect(lines).toContain('  4. sdk           not-reached  not reached: web-identity comes first')
    expect(lines).toContain(
      '  5. imds          not-reached  not reached: web-identity comes first (not configured either: instance metadata: disabled by AWS_EC2_METADATA_DISABLED)',
    )
    expect(Object.keys(JSON.parse(JSON.stringify(explanation)))).toEqual(['dryRun', 'links', 'chosen'])
  })

  it('throws TypeError for malformed options', async () => {
    await expect(explain({ dryRun: 'yes' as never })).rejects.toThrow('dryRun must be a boolean')
    await expect(explain({ container: { timeoutMs: 0 } })).rejects.toThrow(/^container\.timeoutMs/)
    await expect(explain(null as never)).rejects.toThrow('options must be an object')
  })
})

describe('the SDK fallback with a custom env', () => {
  it('is off by default, since the AWS SDK would read process.env instead of the env given', async () => {
    const explanation = await explain({ env: {}, dryRun: true })
    const sdk = explanation.links.find((link) => link.name === 'sdk')
    expect(sdk?.status).toBe('skipped')
    expect(sdk?.reason).toMatch(/off by default with a custom env/)
  })

  it('is on when asked for explicitly', async () => {
    const explanation = await explain({
      env: {},
      dryRun: true,
      sdkFallback: async () => async () => ({ accessKeyId: 'AKIAEXAMPLEEXAMPLE00', secretAccessKey: 'x' }),
    })
    expect(explanation.links.find((link) => link.name === 'sdk')?.status).not.toBe('skipped')
  })
})
