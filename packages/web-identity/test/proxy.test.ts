import type { Env } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import type { FromWebIdentityOptions } from '@podcreds/web-identity'
import { fromWebIdentity } from '@podcreds/web-identity'
import { ProxyAgent } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { KubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import { kubeletTokenDir } from '../../../test/support/kubeletTokenDir.js'
import type { LoopbackProxy } from './helpers/proxy.js'
import { startProxy } from './helpers/proxy.js'
import type { StsFake } from './helpers/stsFake.js'
import { DEFAULT_CREDENTIALS, startStsFake } from './helpers/stsFake.js'
import { fixedClock, makeJwt } from './helpers/tokens.js'

let sts: StsFake
let proxy: LoopbackProxy
let tokens: KubeletTokenDir

beforeEach(async () => {
  sts = await startStsFake()
  proxy = await startProxy()
  tokens = await kubeletTokenDir({ token: makeJwt() })
})
afterEach(async () => {
  await sts.close()
  await proxy.close()
  await tokens.remove()
})

function options(env: Env, extra: FromWebIdentityOptions = {}): FromWebIdentityOptions {
  return {
    roleArn: 'arn:aws:iam::123456789012:role/app-role',
    tokenFile: tokens.path,
    endpoint: sts.url,
    clock: fixedClock(),
    random: () => 0,
    env,
    ...extra,
  }
}

describe('egress proxies', () => {
  it.each(['HTTP_PROXY', 'http_proxy'])('sends STS requests through %s', async (name) => {
    const creds = await fromWebIdentity(options({ [name]: proxy.url }))()

    expect(creds.accessKeyId).toBe(DEFAULT_CREDENTIALS.accessKeyId)
    expect(proxy.hits).toEqual([`CONNECT 127.0.0.1:${sts.port}`])
    expect(sts.requests).toHaveLength(1)
    expect(sts.requests[0]?.form.get('Action')).toBe('AssumeRoleWithWebIdentity')
  })

  it.each([
    ['NO_PROXY', { HTTP_PROXY: 'PROXY', NO_PROXY: '127.0.0.1' }],
    ['no_proxy', { http_proxy: 'PROXY', no_proxy: 'localhost,127.0.0.1' }],
    ['NO_PROXY with the port', { HTTP_PROXY: 'PROXY', NO_PROXY: 'PORT' }],
    ['NO_PROXY=*', { HTTP_PROXY: 'PROXY', NO_PROXY: '*' }],
  ])('bypasses the proxy for hosts in %s', async (_name, template) => {
    const env = Object.fromEntries(
      Object.entries(template).map(([key, value]) => [
        key,
        value.replace('PROXY', proxy.url).replace('PORT', `127.0.0.1:${sts.port}`),
      ]),
    )
    const creds = await fromWebIdentity(options(env))()

    expect(creds.accessKeyId).toBe(DEFAULT_CREDENTIALS.accessKeyId)
    expect(proxy.hits).toEqual([])
    expect(sts.requests).toHaveLength(1)
  })

  it('uses HTTPS_PROXY for an https: STS endpoint (the loopback proxy refuses the real host)', async () => {
    const error = await fromWebIdentity(
      options({ HTTPS_PROXY: proxy.url, AWS_REGION: 'eu-west-1' }, { endpoint: undefined, maxAttempts: 1 }),
    )().then(
      () => undefined,
      (err: unknown) => err,
    )

    expect(proxy.hits).toEqual(['CONNECT sts.eu-west-1.amazonaws.com:443'])
    expect(error).toBeInstanceOf(CredentialsError)
    expect((error as CredentialsError).code).toBe('ERR_NETWORK')
    expect(sts.requests).toHaveLength(0)
  })

  it('reports the proxy in describe() without its credentials', async () => {
    const withUser = proxy.url.replace('http://', 'http://user:SECRETCANARYproxypw@')
    const description = await fromWebIdentity(
      options(
        { HTTPS_PROXY: withUser, NO_PROXY: '.internal', AWS_REGION: 'eu-west-1' },
        { endpoint: undefined },
      ),
    ).describe()
    expect(description.details.proxy).toBe(proxy.url)
    expect(description.details.noProxy).toBe('.internal')
    expect(JSON.stringify(description)).not.toContain('SECRETCANARY')
  })

  it('sends through a caller-supplied undici dispatcher', async () => {
    const dispatcher = new ProxyAgent(proxy.url)
    try {
      const creds = await fromWebIdentity(options({}, { dispatcher }))()
      expect(creds.accessKeyId).toBe(DEFAULT_CREDENTIALS.accessKeyId)
      expect(proxy.hits).toEqual([`CONNECT 127.0.0.1:${sts.port}`])
    } finally {
      await dispatcher.close()
    }
  })

  it('retries and then fails with a retryable ERR_NETWORK when the proxy is down', async () => {
    const down = proxy.url
    await proxy.close()
    const error = await fromWebIdentity(options({ HTTP_PROXY: down }))().then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(error).toBeInstanceOf(CredentialsError)
    expect((error as CredentialsError).code).toBe('ERR_NETWORK')
    expect((error as CredentialsError).retryable).toBe(true)
    expect(sts.requests).toHaveLength(0)
  })

  it('applies the timeout to proxied requests', async () => {
    sts.answer({ hang: true })
    const error = await fromWebIdentity(
      options({ HTTP_PROXY: proxy.url }, { timeoutMs: 50, maxAttempts: 1 }),
    )().then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(error).toBeInstanceOf(CredentialsError)
    expect((error as CredentialsError).code).toBe('ERR_HTTP_TIMEOUT')
    expect((error as CredentialsError).retryable).toBe(true)
    expect(proxy.hits).toHaveLength(1)
  })
})
