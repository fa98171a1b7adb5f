import { inspect } from 'node:util'
import type { Env } from '@podcreds/core'
import { CredentialsError, nodeAgentsSupportProxyEnv } from '@podcreds/core'
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

// Node 22.21+/24.5+ sends proxied requests through its own agents (proxyEnv), which forward an
// http: request in absolute form (curl does the same); older Nodes go through undici's
// EnvHttpProxyAgent, which tunnels every request with CONNECT. https: is a CONNECT tunnel on both.
const nodeAgents = nodeAgentsSupportProxyEnv()
const proxiedHit = (port: number): string =>
  nodeAgents ? `POST http://127.0.0.1:${port}/` : `CONNECT 127.0.0.1:${port}`

async function failure(promise: Promise<unknown>): Promise<CredentialsError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(error).toBeInstanceOf(CredentialsError)
  return error as CredentialsError
}

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
    expect(proxy.hits).toEqual([proxiedHit(sts.port)])
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
    // The loopback proxy answers 403 to a CONNECT beyond loopback: the proxy's decision, named.
    expect((error as CredentialsError).code).toBe('ERR_HTTP_STATUS')
    expect((error as CredentialsError).status).toBe(403)
    expect((error as CredentialsError).message).toContain(`the proxy ${proxy.url} refused`)
    expect(sts.requests).toHaveLength(0)
  })

  it("with only HTTP_PROXY set, an https: STS endpoint goes through it on every route (as undici's EnvHttpProxyAgent)", async () => {
    const error = await failure(
      fromWebIdentity(
        options({ HTTP_PROXY: proxy.url, AWS_REGION: 'eu-west-1' }, { endpoint: undefined, maxAttempts: 1 }),
      )(),
    )
    expect(proxy.hits).toEqual(['CONNECT sts.eu-west-1.amazonaws.com:443'])
    expect(error.message).toContain(`the proxy ${proxy.url} refused`)
    expect(sts.requests).toHaveLength(0)
  })

  it('reuses one keep-alive connection to the proxy across calls', async () => {
    const provider = fromWebIdentity(options({ HTTP_PROXY: proxy.url }))
    await provider()
    await provider()
    expect(proxy.hits).toEqual([proxiedHit(sts.port), ...(nodeAgents ? [proxiedHit(sts.port)] : [])])
    expect(proxy.connections()).toBe(1)
    expect(sts.requests).toHaveLength(2)
  })

  it("sends the proxy URL's user info as Basic proxy credentials", async () => {
    const authProxy = await startProxy({ requireAuth: 'svc@corp:p:w' })
    try {
      const url = authProxy.url.replace('http://', 'http://svc%40corp:p%3Aw@')
      const creds = await fromWebIdentity(options({ HTTP_PROXY: url }))()
      expect(creds.accessKeyId).toBe(DEFAULT_CREDENTIALS.accessKeyId)
      expect(authProxy.auth).toEqual(['svc@corp:p:w'])
    } finally {
      await authProxy.close()
    }
  })

  it.each([
    ['an http: endpoint (absolute form on Node agents)', false],
    ['an https: endpoint (CONNECT)', true],
  ])(
    'a 407 from the proxy on %s is a clear error naming the proxy, its credentials redacted',
    async (_name, https) => {
      const authProxy = await startProxy({ requireAuth: 'svc:right' })
      try {
        const url = authProxy.url.replace('http://', 'http://svc:SECRETCANARYwrongpw@')
        const error = await failure(
          fromWebIdentity(
            options(
              { HTTP_PROXY: url, HTTPS_PROXY: url, AWS_REGION: 'eu-west-1' },
              https ? { endpoint: undefined, maxAttempts: 1 } : { maxAttempts: 1 },
            ),
          )(),
        )
        expect(authProxy.hits).toHaveLength(1)
        expect(sts.requests).toHaveLength(0)
        if (https || nodeAgents) {
          expect(error.code).toBe('ERR_HTTP_STATUS')
          expect(error.status).toBe(407)
          expect(error.retryable).toBe(false)
          expect(error.message).toContain(`the proxy ${authProxy.url} asks for proxy credentials`)
        }
        for (const text of [error.message, inspect(error, { depth: 10 }), JSON.stringify(error)]) {
          expect(text).not.toContain('SECRETCANARY')
        }
      } finally {
        await authProxy.close()
      }
    },
  )

  it.each([
    ['a malformed URL', 'http://[::1', 'is not a valid URL'],
    ['a SOCKS proxy', 'socks5://127.0.0.1:1080', 'socks5:'],
    ['no scheme at all', 'proxy.internal:3128', ''],
  ])('refuses %s in HTTPS_PROXY before any connection, never going direct', async (_name, value, says) => {
    const error = await failure(fromWebIdentity(options({ HTTPS_PROXY: value, HTTP_PROXY: value }))())
    expect(error.code).toBe('ERR_INVALID_CONFIG')
    expect(error.message).toMatch(/HTTPS?_PROXY/)
    expect(error.message).toContain(says)
    expect(sts.requests).toHaveLength(0)
    expect(proxy.hits).toHaveLength(0)
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
      // A caller's undici dispatcher is used as given, on every Node.
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
