import { defaultChain } from '@podcreds/chain'
import type { AwsCredentialIdentity } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import type { RefreshingProvider } from '@podcreds/refresh'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TempDir } from '../../../test/support/tempDir.js'
import { tempDir } from '../../../test/support/tempDir.js'
import type { TestServer } from './helpers.js'
import {
  CANARY_SECRET,
  credentials,
  expectNoSecret,
  irsaEnv,
  podIdentityEnv,
  SdkLikeProviderError,
  startAgent,
  startServer,
  startSts,
  writeToken,
} from './helpers.js'

const NOT_INSTALLED = Object.assign(
  new Error("Cannot find package '@aws-sdk/credential-provider-node' imported from /app/index.js"),
  { code: 'ERR_MODULE_NOT_FOUND' },
)

describe('defaultChain()', () => {
  let agent: TestServer
  let sts: TestServer
  let tmp: TempDir
  let token: string
  const providers: RefreshingProvider<AwsCredentialIdentity>[] = []
  const track = (
    provider: RefreshingProvider<AwsCredentialIdentity>,
  ): RefreshingProvider<AwsCredentialIdentity> => {
    providers.push(provider)
    return provider
  }

  beforeEach(async () => {
    agent = await startAgent('ASIAPODIDENTITY00001')
    sts = await startSts('ASIAIRSAWEBIDENTITY1')
    tmp = await tempDir('podcreds-chain-')
    token = writeToken(tmp.dir)
  })

  afterEach(async () => {
    for (const provider of providers.splice(0)) provider.close()
    await agent.close()
    await sts.close()
    await tmp.cleanup()
  })

  it('gets Pod Identity credentials from the container endpoint when only it is configured', async () => {
    const provider = track(defaultChain({ env: podIdentityEnv(agent.url, token), sdkFallback: false }))

    const creds = await provider()

    expect(creds.accessKeyId).toBe('ASIAPODIDENTITY00001')
    expect(creds.accountId).toBe('111122223333')
    expect(agent.requests[0]?.headers['authorization']).toMatch(/^eyJ/)
    expectNoSecret(creds)
  })

  it('caches: a second call is answered without another agent request', async () => {
    const provider = track(defaultChain({ env: podIdentityEnv(agent.url, token), sdkFallback: false }))
    await provider()
    await provider()
    expect(agent.hits).toBe(1)
    expect(provider.stats().sourceCalls).toBe(1)
  })

  it('prefers environment keys over every pod source', async () => {
    const env = {
      ...irsaEnv(sts.url, token),
      ...podIdentityEnv(agent.url, token),
      AWS_ACCESS_KEY_ID: 'AKIAENVSTATICKEY0001',
      AWS_SECRET_ACCESS_KEY: CANARY_SECRET,
    }
    const creds = await track(defaultChain({ env, sdkFallback: false }))()
    expect(creds.accessKeyId).toBe('AKIAENVSTATICKEY0001')
    expect(agent.hits + sts.hits).toBe(0)
  })

  it('chooses web identity (IRSA) when IRSA and Pod Identity are both configured, as the AWS SDK does', async () => {
    const env = { ...irsaEnv(sts.url, token), ...podIdentityEnv(agent.url, token) }

    const creds = await track(defaultChain({ env, sdkFallback: false }))()

    expect(creds.accessKeyId).toBe('ASIAIRSAWEBIDENTITY1')
    expect(sts.hits).toBe(1)
    expect(agent.hits).toBe(0)
  })

  it('stops at a configured but broken link with its own error, not a later link’s', async () => {
    // IRSA points at a token file that does not exist; Pod Identity would work.
    const env = { ...irsaEnv(sts.url, `${tmp.dir}/missing-token`), ...podIdentityEnv(agent.url, token) }
    let loaderCalls = 0

    const error = await track(
      defaultChain({
        env,
        sdkFallback: async () => {
          loaderCalls++
          return async () => credentials('ASIASDKFALLBACK00001')
        },
      }),
    )().catch((e: unknown) => e)

    expect(error).toBeInstanceOf(CredentialsError)
    expect((error as CredentialsError).code).toBe('ERR_TOKEN_FILE')
    expect((error as CredentialsError).message).toContain(`${tmp.dir}/missing-token`)
    expectNoSecret(error)
    expect(agent.hits).toBe(0)
    expect(loaderCalls).toBe(0)
  })

  it('stops at half-set environment keys (ERR_INVALID_CONFIG) instead of silently using the pod identity', async () => {
    const env = { ...podIdentityEnv(agent.url, token), AWS_ACCESS_KEY_ID: 'AKIAHALFCONFIGURED01' }
    const error = await track(defaultChain({ env, sdkFallback: false }))().catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'ERR_INVALID_CONFIG',
      message: 'env: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not',
    })
    expect(agent.hits).toBe(0)
  })

  it('passes the logger to the links (debug lines, no secret)', async () => {
    const lines: string[] = []
    const logger = {
      debug: (message: string, fields?: Record<string, unknown>) =>
        lines.push(`${message} ${JSON.stringify(fields)}`),
    }
    await track(defaultChain({ env: podIdentityEnv(agent.url, token), sdkFallback: false, logger }))()
    expect(lines.some((line) => line.startsWith('container credentials: requesting'))).toBe(true)
    for (const line of lines) expect(line).not.toContain('SECRETCANARY')
  })

  it('stops with the agent’s error when Pod Identity is configured but the agent refuses', async () => {
    const refusing = await startAgentAnswering(403)
    try {
      const error = await track(
        defaultChain({
          env: podIdentityEnv(refusing.url, token),
          sdkFallback: false,
          container: { maxAttempts: 1 },
        }),
      )().catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_HTTP_STATUS', status: 403 })
      expectNoSecret(error)
    } finally {
      await refusing.close()
    }
  })

  it('rejects with ERR_CHAIN_EXHAUSTED naming every link when nothing is configured', async () => {
    const error = await track(
      defaultChain({ env: { AWS_EC2_METADATA_DISABLED: 'true' }, sdkFallback: false }),
    )().catch((e: unknown) => e)

    expect(error).toBeInstanceOf(CredentialsError)
    const err = error as CredentialsError
    expect(err.code).toBe('ERR_CHAIN_EXHAUSTED')
    expect(err.tryNextLink).toBe(true)
    const lines = err.message.split('\n')
    expect(lines[0]).toBe('no credentials: all 5 links of the chain were skipped')
    expect(lines.slice(1).map((line) => line.split(':')[0])).toEqual([
      '  - env',
      '  - web-identity',
      '  - container',
      '  - sdk',
      '  - imds',
    ])
    expect(err.message).toContain('sdk: disabled (sdkFallback: false)')
    expect(err.message).toContain('imds: instance metadata: disabled by AWS_EC2_METADATA_DISABLED')
    expectNoSecret(err)
  })

  it('skips the SDK fallback with "not installed" when its import fails, and the chain still works', async () => {
    const loader = async (): Promise<never> => {
      throw NOT_INSTALLED
    }
    const exhausted = (await track(
      defaultChain({ env: { AWS_EC2_METADATA_DISABLED: 'true' }, sdkFallback: loader }),
    )().catch((e: unknown) => e)) as CredentialsError
    expect(exhausted.code).toBe('ERR_CHAIN_EXHAUSTED')
    expect(exhausted.message).toContain(
      'sdk: fallback unavailable: @aws-sdk/credential-provider-node is not installed',
    )

    const creds = await track(defaultChain({ env: podIdentityEnv(agent.url, token), sdkFallback: loader }))()
    expect(creds.accessKeyId).toBe('ASIAPODIDENTITY00001')
  })

  it('uses the SDK fallback last, only when no pod source is configured', async () => {
    let loaderCalls = 0
    const sdkFallback = async () => {
      loaderCalls++
      return async () => credentials('AKIASDKPROFILEKEY001')
    }

    const fromSdk = await track(defaultChain({ env: { AWS_EC2_METADATA_DISABLED: 'true' }, sdkFallback }))()
    expect(fromSdk.accessKeyId).toBe('AKIASDKPROFILEKEY001')
    expect(loaderCalls).toBe(1)

    await track(defaultChain({ env: podIdentityEnv(agent.url, token), sdkFallback }))()
    expect(loaderCalls).toBe(1)
  })

  it('treats the SDK chain’s "Could not load credentials from any providers" as not configured', async () => {
    const sdkFallback = async () => async (): Promise<never> => {
      throw new SdkLikeProviderError('Could not load credentials from any providers', false)
    }
    const error = (await track(
      defaultChain({ env: { AWS_EC2_METADATA_DISABLED: 'true' }, sdkFallback }),
    )().catch((e: unknown) => e)) as CredentialsError
    expect(error.code).toBe('ERR_CHAIN_EXHAUSTED')
    expect(error.message).toContain("sdk: the AWS SDK's profile providers found no credentials")
  })

  it('stops with the SDK’s own error when the SDK fails for another reason', async () => {
    const ssoExpired = new SdkLikeProviderError(
      'The SSO session associated with this profile has expired',
      false,
    )
    const sdkFallback = async () => async (): Promise<never> => {
      throw ssoExpired
    }
    await expect(
      track(defaultChain({ env: { AWS_EC2_METADATA_DISABLED: 'true' }, sdkFallback }))(),
    ).rejects.toBe(ssoExpired)
  })

  it('puts the SDK fallback (the profile) first when AWS_PROFILE is set', async () => {
    const calls: string[] = []
    const sdkFallback = async () => async () => {
      calls.push('sdk')
      return credentials('AKIAPROFILEFIRST0001')
    }
    const env = { ...podIdentityEnv(agent.url, token), AWS_PROFILE: 'dev' }

    const creds = await track(defaultChain({ env, sdkFallback }))()

    expect(creds.accessKeyId).toBe('AKIAPROFILEFIRST0001')
    expect(calls).toEqual(['sdk'])
    expect(agent.hits).toBe(0)
  })

  it('falls through to the pod sources when the profile-first SDK link finds nothing', async () => {
    const sdkFallback = async () => async (): Promise<never> => {
      throw new SdkLikeProviderError('Could not load credentials from any providers', false)
    }
    const env = { ...podIdentityEnv(agent.url, token), AWS_PROFILE: 'dev' }
    const creds = await track(defaultChain({ env, sdkFallback }))()
    expect(creds.accessKeyId).toBe('ASIAPODIDENTITY00001')
  })

  it('passes per-link options and the refresh options through', async () => {
    const events: string[] = []
    const provider = track(
      defaultChain({
        env: { AWS_EC2_METADATA_DISABLED: 'true' },
        container: { fullUri: `${agent.url}/v1/credentials`, authorizationTokenFile: token },
        refresh: { onEvent: (event) => events.push(event.type) },
        sdkFallback: false,
      }),
    )
    await expect(provider()).resolves.toMatchObject({ accessKeyId: 'ASIAPODIDENTITY00001' })
    expect(events).toEqual(['start', 'success'])
  })

  it('invalidate(key) makes the next call fetch fresh credentials', async () => {
    const provider = track(defaultChain({ env: podIdentityEnv(agent.url, token), sdkFallback: false }))
    const first = await provider()
    provider.invalidate(first.accessKeyId)
    await provider()
    expect(agent.hits).toBe(2)
  })

  it('throws TypeError naming the option, nested per link', async () => {
    expect(() => defaultChain(null as never)).toThrow('options must be an object')
    expect(() => defaultChain({ env: 'x' as never })).toThrow(
      'env must be an object of environment variables',
    )
    expect(() => defaultChain({ sdkFallback: 'yes' as never })).toThrow(
      'sdkFallback must be a boolean or a function returning a credentials provider',
    )
    expect(() => defaultChain({ container: { timeoutMs: -1 } })).toThrow(/^container\.timeoutMs must be/)
    // The web-identity link loads @podcreds/web-identity on first use (issue 20, import time), so
    // its options are checked by that first call, which rejects with the same TypeError.
    const badWebIdentity = defaultChain({
      webIdentity: { roleArn: 'not-an-arn' },
      env: {},
      sdkFallback: false,
    })
    await expect(badWebIdentity()).rejects.toThrow(/^webIdentity\.roleArn/)
    await expect(badWebIdentity()).rejects.toBeInstanceOf(TypeError)
    badWebIdentity.close()
    expect(() => defaultChain({ container: 5 as never })).toThrow('container must be an object')
    expect(() => defaultChain({ refresh: { maxBackoffMs: 0 } })).toThrow(/^refresh\.maxBackoffMs must be/)
    expect(() => defaultChain({ refresh: 'fast' as never })).toThrow('refresh must be an object')
    expect(() => defaultChain({ clock: {} as never })).toThrow(/^clock must be a Clock/)
    expect(() => defaultChain({ random: 0.5 as never })).toThrow(/^random must be a function/)
    expect(() => defaultChain({ logger: 'console' as never })).toThrow(/^logger must be an object/)
  })
})

/** An agent that refuses, echoing the token it was sent (which the client must scrub). */
function startAgentAnswering(status: number): Promise<TestServer> {
  return startServer((req, _body, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' })
    res.end(`AccessDenied: token ${req.headers['authorization'] ?? ''} is not associated`)
  })
}
