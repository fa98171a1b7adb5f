// @podcreds/azure end to end: a projected token minted by the emulator's issuer, exchanged at the
// emulated Entra endpoint (federated credential checks), used by @azure/core-rest-pipeline's
// bearer-token policy against a loopback HTTPS resource whose certificate is made here.
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer as createHttpsServer, type Server } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createEmptyPipeline,
  createPipelineRequest,
  tlsPolicy,
} from '@azure/core-rest-pipeline'
import { CredentialUnavailableError, workloadIdentityCredential } from '@podcreds/azure'
import type { CredentialsError } from '@podcreds/core'
import {
  type Emulator,
  type EntraEndpoint,
  type EntraFederatedCredential,
  startEmulator,
  startEntraEndpoint,
} from '@podcreds/emulator'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { KubeletTokenDir } from './support/kubeletTokenDir.js'
import { kubeletTokenDir } from './support/kubeletTokenDir.js'
import { closeServer, listenLoopback } from './support/loopback.js'
import { assertNoSecret } from './support/secrets.js'
import { makeSelfSignedCert } from './support/tls.js'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const CLIENT = '5f1a2b3c-0000-4000-8000-00000000c1d1'
const RESOURCE_SCOPE = 'https://resource.podcreds.test/.default'
const SUBJECT = 'system:serviceaccount:payments:api'

let certDir: string
let cert: string
let key: string

beforeAll(async () => {
  // A self-signed certificate for 127.0.0.1, made at test time; the pipeline trusts it as its CA.
  certDir = await mkdtemp(join(tmpdir(), 'podcreds-azure-tls-'))
  const made = makeSelfSignedCert(certDir)
  cert = made.cert
  key = made.key
})

afterAll(async () => {
  await rm(certDir, { recursive: true, force: true })
})

/** An HTTPS resource server that accepts only bearer tokens the emulated Entra issued for it. */
async function startResource(entra: EntraEndpoint) {
  const seen: { authorization: string | undefined; clientId?: string; scope?: string }[] = []
  const server: Server = createHttpsServer({ cert, key }, (req, res) => {
    const authorization = req.headers.authorization
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1]
    const facts = token === undefined ? undefined : entra.introspect(token)
    seen.push({
      authorization,
      ...(facts === undefined ? {} : { clientId: facts.clientId, scope: facts.scope }),
    })
    if (facts === undefined || facts.scope !== RESOURCE_SCOPE) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="podcreds"' })
      res.end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ subject: facts.subject, clientId: facts.clientId }))
  })
  const { port } = await listenLoopback(server)
  return { url: `https://127.0.0.1:${port}/secrets/db-password`, seen, close: () => closeServer(server) }
}

function pipelineFor(credential: ReturnType<typeof workloadIdentityCredential>) {
  const pipeline = createEmptyPipeline()
  pipeline.addPolicy(tlsPolicy({ ca: cert }))
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential, scopes: RESOURCE_SCOPE }))
  const client = createDefaultHttpClient()
  return (url: string) => pipeline.sendRequest(client, createPipelineRequest({ url, method: 'GET' }))
}

describe('@podcreds/azure with @azure/core-rest-pipeline over HTTPS', () => {
  let emulator: Emulator
  let entra: EntraEndpoint | undefined
  let volume: KubeletTokenDir
  let resource: Awaited<ReturnType<typeof startResource>> | undefined
  let closers: (() => void)[] = []

  afterEach(async () => {
    for (const close of closers) close()
    closers = []
    await resource?.close()
    await entra?.close()
    await emulator?.close()
    await volume?.remove()
    resource = undefined
    entra = undefined
  })

  /** Emulator issuer + Entra endpoint trusting `credential` + a projected token minted with `mint`. */
  async function stack(
    federated: Partial<EntraFederatedCredential> = {},
    mint: Parameters<Emulator['mintToken']>[0] = {},
  ) {
    emulator = await startEmulator()
    const jwksUrl = `${emulator.issuerUrl}/keys`
    const fc: EntraFederatedCredential = {
      clientId: CLIENT,
      tenantId: TENANT,
      issuer: emulator.issuerUrl,
      subject: SUBJECT,
      ...federated,
    }
    entra = await startEntraEndpoint({
      jwks: async () => (await fetch(jwksUrl)).json() as Promise<{ keys: Record<string, unknown>[] }>,
      federatedCredentials: [fc],
      tokenLifetimeMs: 24 * 3_600_000,
    })
    volume = await kubeletTokenDir({ fileName: 'azure-identity-token', prefix: 'podcreds-azure-e2e-' })
    const assertion = await emulator.mintToken({
      audience: 'api://AzureADTokenExchange',
      namespace: 'payments',
      serviceAccount: 'api',
      ...mint,
    })
    await volume.write(assertion)
    resource = await startResource(entra)
    // What the AKS webhook injects into a pod labelled azure.workload.identity/use: "true".
    // The pod's client and tenant stay put; `federated` changes what Entra trusts.
    const env = {
      ...entra.envFor({ ...fc, clientId: CLIENT, tenantId: TENANT }),
      AZURE_FEDERATED_TOKEN_FILE: volume.path,
    }
    const credential = workloadIdentityCredential({ env })
    closers.push(() => credential.close())
    return { credential, env, assertion, entra, resource }
  }

  it('the bearer-token policy gets a token through the federated credential; the resource accepts it', async () => {
    const { credential, entra, resource, assertion } = await stack()
    const send = pipelineFor(credential)

    const first = await send(resource.url)
    const second = await send(resource.url)

    expect(first.status).toBe(200)
    expect(JSON.parse(first.bodyAsText ?? '{}')).toEqual({ subject: SUBJECT, clientId: CLIENT })
    expect(second.status).toBe(200)
    expect(resource.seen.map((s) => s.clientId)).toEqual([CLIENT, CLIENT])
    // One token exchange for both requests; the emulated Entra saw the form issue #12 specifies.
    const requests = entra.requests()
    expect(requests).toHaveLength(1)
    expect(requests[0]).toMatchObject({
      tenantId: TENANT,
      clientId: CLIENT,
      scope: RESOURCE_SCOPE,
      grantType: 'client_credentials',
      clientAssertionType: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      assertionClaims: { iss: emulator.issuerUrl, sub: SUBJECT },
      errorCode: undefined,
    })
    expect(inspect(requests)).not.toContain(assertion)
  })

  it('the token carries refresh_in for a 24 h lifetime, as Entra does', async () => {
    const { credential } = await stack()

    const token = await credential.getToken(RESOURCE_SCOPE)

    expect(token.expiresOnTimestamp - Date.now()).toBeGreaterThan(23 * 3_600_000)
    expect(token.expiresOnTimestamp - token.refreshAfterTimestamp!).toBeCloseTo(12 * 3_600_000, -4)
    expect(inspect(token)).not.toContain(token.token)
  })

  it('the bearer policy refuses plain http, which is why the resource is HTTPS', async () => {
    const { credential, resource } = await stack()

    await expect(pipelineFor(credential)(resource.url.replace('https:', 'http:'))).rejects.toThrow(/non-TLS/)
  })

  it.each([
    [
      'subject mismatch (another service account)',
      { subject: 'system:serviceaccount:payments:worker' },
      {},
      'AADSTS700213',
    ],
    ['audience mismatch (an IRSA-audience token)', {}, { audience: 'sts.amazonaws.com' }, 'AADSTS700212'],
    ['issuer mismatch', { issuer: 'https://oidc.prod-aks.azure.com/other/' }, {}, 'AADSTS700211'],
    [
      'expired assertion',
      {},
      { issuedAt: Date.now() - 2 * 3_600_000, lifetimeMs: 3_600_000 },
      'AADSTS700024',
    ],
    ['a token signed with a key the issuer does not publish', {}, { foreignKey: true }, 'AADSTS700027'],
    ['unknown client', { clientId: '5f1a2b3c-0000-4000-8000-0000000000ff' }, {}, 'AADSTS700016'],
  ])('%s → the pipeline request fails with the AADSTS code named', async (_, federated, mint, code) => {
    const { credential, resource, assertion, entra } = await stack(federated, mint)

    const error = (await pipelineFor(credential)(resource.url).then(
      () => undefined,
      (e: unknown) => e,
    )) as CredentialsError

    expect(error.name).toBe('CredentialsError')
    expect(error.code).toBe('ERR_STS')
    expect(error.stsCode).toBe(code)
    expect(error.message).toContain(code)
    expect(resource.seen).toHaveLength(0)
    expect(entra.requests().map((r) => r.errorCode)).toEqual([code])
    assertNoSecret(error, [assertion])
  })

  it('a pod without Workload ID: CredentialUnavailableError, the name Azure chains move on at', async () => {
    const credential = workloadIdentityCredential({ env: {} })
    closers.push(() => credential.close())

    const error = await credential.getToken(RESOURCE_SCOPE).then(
      () => undefined,
      (e: unknown) => e,
    )

    expect(error).toBeInstanceOf(CredentialUnavailableError)
    expect((error as Error).name).toBe('CredentialUnavailableError')
  })
})

describe('startEntraEndpoint, directly', () => {
  let emulator: Emulator | undefined
  let entra: EntraEndpoint | undefined

  afterEach(async () => {
    await entra?.close()
    await emulator?.close()
    entra = undefined
    emulator = undefined
  })

  async function endpoint() {
    emulator = await startEmulator()
    const issuer = emulator.issuerUrl
    const jwks = (await (await fetch(`${issuer}/keys`)).json()) as { keys: Record<string, unknown>[] }
    entra = await startEntraEndpoint({
      jwks,
      federatedCredentials: [{ clientId: CLIENT, tenantId: TENANT, issuer, subject: SUBJECT }],
    })
    const assertion = await emulator.mintToken({
      audience: 'api://AzureADTokenExchange',
      namespace: 'payments',
      serviceAccount: 'api',
    })
    const post = async (tenant: string, form: Record<string, string>) => {
      const res = await fetch(`${entra!.url}${tenant}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      })
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }
    const form = {
      grant_type: 'client_credentials',
      client_id: CLIENT,
      scope: RESOURCE_SCOPE,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }
    return { entra: entra!, post, form }
  }

  it('answers a valid request like Entra, 1 h tokens without refresh_in by default', async () => {
    const { entra, post, form } = await endpoint()

    const { status, body } = await post(TENANT, form)

    expect(status).toBe(200)
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, ext_expires_in: 3600 })
    expect(body.refresh_in).toBeUndefined()
    expect(entra.introspect(body.access_token as string)).toMatchObject({
      clientId: CLIENT,
      subject: SUBJECT,
    })
    expect(entra.introspect('not-issued-here')).toBeUndefined()
  })

  it.each([
    ['a missing parameter', TENANT, { client_assertion_type: '' }, 900144],
    ['a scope without /.default', TENANT, { scope: 'https://resource.podcreds.test/read' }, 1002012],
    ['an unknown tenant', 'contoso.onmicrosoft.com', {}, 90002],
    ['a malformed assertion', TENANT, { client_assertion: 'not-a-jwt' }, 50027],
    ['another grant type', TENANT, { grant_type: 'password' }, 70003],
  ])('refuses %s with an Entra-shaped error', async (_, tenant, change, code) => {
    const { post, form } = await endpoint()

    const { status, body } = await post(tenant, { ...form, ...change })

    expect(status).toBe(400)
    expect(body.error_codes).toEqual([code])
    expect(body.error_description).toMatch(new RegExp(`^AADSTS${code}: `))
    expect(typeof body.error).toBe('string')
  })

  it('has its own fault switch: an injected status and a held request, then healthy again', async () => {
    const { entra, post, form } = await endpoint()
    entra.faults.set({ status: 500 })
    const failed = await post(TENANT, form)
    expect([failed.status, failed.body.error, failed.body.error_codes]).toEqual([
      500,
      'server_error',
      [50000],
    ])
    expect(entra.requests().at(-1)?.errorCode).toBe('AADSTS50000')
    // A long latencyMs is a hang for any client that waits less (issue 21, doctor's row).
    entra.faults.set({ latencyMs: 600_000 })
    const held = await fetch(`${entra.url}${TENANT}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(200),
    }).then(
      () => 'answered',
      (error: Error) => error.name,
    )
    expect(held).toBe('TimeoutError')
    expect(entra.requests().at(-1)?.errorCode).toBeUndefined()
    expect(entra.faults.current()).toEqual({ latencyMs: 600_000 })
    expect(() => entra.faults.set({ skewMs: 1 })).toThrow(/faults\.entra\.skewMs/)
    entra.faults.clear()
    expect((await post(TENANT, form)).status).toBe(200)
  })

  it('checks its options', async () => {
    await expect(startEntraEndpoint({ jwks: 'x' as never, federatedCredentials: [] })).rejects.toThrow(/jwks/)
    await expect(
      startEntraEndpoint({ jwks: { keys: [] }, federatedCredentials: [{ clientId: CLIENT } as never] }),
    ).rejects.toThrow(/federatedCredentials\[0\]\.tenantId/)
  })
})

describe('startEmulator() as an AKS pod (azureEnv)', () => {
  it('gets an Entra access token for the emulated workload identity, and the endpoint vouches for it', async () => {
    const emulator = await startEmulator()
    try {
      const credential = workloadIdentityCredential({ env: emulator.azureEnv })
      const token = await credential.getToken('https://resource.podcreds.test/.default')
      expect(token.tokenType).toBe('Bearer')
      expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now())
      expect(emulator.azureEnv.AZURE_AUTHORITY_HOST).toBe(emulator.entraUrl)
      // A second call is served from the refresh engine's cache.
      expect((await credential.getToken('https://resource.podcreds.test/.default')).token).toBe(token.token)
      credential.close()
    } finally {
      await emulator.close()
    }
  })
})
