// Egress proxies apply to Entra as to STS (issue 20): through Node's own agents where they can
// proxy (22.21+/24.5+), refused with a clear error elsewhere — never a direct connection instead.
// Real HTTP on loopback: the emulator's Entra endpoint behind a loopback forward proxy.
import { inspect } from 'node:util'
import { workloadIdentityCredential } from '@podcreds/azure'
import { CredentialsError, nodeAgentsSupportProxyEnv } from '@podcreds/core'
import type { EntraFederatedCredential } from '@podcreds/emulator'
import { startEmulator, startEntraEndpoint } from '@podcreds/emulator'
import { afterEach, describe, expect, it } from 'vitest'
import { startProxy } from '../../web-identity/test/helpers/proxy.js'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const CLIENT = '5f1a2b3c-0000-4000-8000-00000000c1d1'
const SCOPE = 'https://resource.podcreds.test/.default'

let closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.reverse()) await close()
  closers = []
})

async function stack() {
  const emulator = await startEmulator()
  closers.push(() => emulator.close())
  const fc: EntraFederatedCredential = {
    clientId: CLIENT,
    tenantId: TENANT,
    issuer: emulator.issuerUrl,
    subject: 'system:serviceaccount:payments:api',
  }
  const keys = `${emulator.issuerUrl}/keys`
  const entra = await startEntraEndpoint({
    jwks: async () => (await fetch(keys)).json() as Promise<{ keys: Record<string, unknown>[] }>,
    federatedCredentials: [fc],
  })
  closers.push(() => entra.close())
  const assertion = await emulator.mintToken({
    audience: 'api://AzureADTokenExchange',
    namespace: 'payments',
    serviceAccount: 'api',
  })
  const proxy = await startProxy()
  closers.push(() => proxy.close())
  return { entra, fc, assertion, proxy }
}

describe('Entra token requests and egress proxies', () => {
  it('go through HTTP_PROXY on Node 22.21+/24.5+, and are refused clearly (never direct) elsewhere', async () => {
    const { entra, fc, assertion, proxy } = await stack()
    const credential = workloadIdentityCredential({
      env: {
        ...entra.envFor(fc),
        AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
        HTTP_PROXY: proxy.url.replace('http://', 'http://svc:SECRETCANARYproxy@'),
      },
      readFile: async () => Buffer.from(assertion),
      maxAttempts: 1,
    })
    closers.push(() => credential.close())
    const outcome = await credential.getToken(SCOPE).then(
      (token) => token,
      (error: unknown) => error,
    )
    if (nodeAgentsSupportProxyEnv()) {
      expect(outcome).toMatchObject({ token: expect.any(String) })
      expect(proxy.hits).toHaveLength(1)
      expect(proxy.hits[0]).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\//)
      expect(proxy.auth).toEqual(['svc:SECRETCANARYproxy'])
      expect(entra.requests()).toHaveLength(1)
    } else {
      expect(proxy.hits).toEqual([])
      expect(entra.requests()).toHaveLength(0)
      const text = `${String((outcome as Error).message)} ${inspect(outcome, { depth: 5 })}`
      expect(text).toMatch(/proxy/i)
      expect(text).not.toContain('SECRETCANARY')
      // Wrapped or not, the cause chain holds core's refusal.
      let error: unknown = outcome
      while (
        error instanceof Error &&
        !(error instanceof CredentialsError && error.code === 'ERR_INVALID_CONFIG')
      )
        error = error.cause
      expect(error).toBeInstanceOf(CredentialsError)
    }
  })
})
