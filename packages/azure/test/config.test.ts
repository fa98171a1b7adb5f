import { CredentialUnavailableError, workloadIdentityCredential } from '@podcreds/azure'
import { CredentialsError } from '@podcreds/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { rejectionOf } from '../../../test/support/errors.js'
import { assertNoSecret } from '../../../test/support/secrets.js'
import { CLIENT, fakeAssertion, SCOPE, startFakeEntra, TENANT, tokenReply, tokenVolume } from './helpers.js'

type Volume = Awaited<ReturnType<typeof tokenVolume>>
type Entra = Awaited<ReturnType<typeof startFakeEntra>>

let volume: Volume
let entra: Entra
let closers: (() => void)[] = []

beforeEach(async () => {
  volume = await tokenVolume()
  await volume.write(fakeAssertion('SECRETCANARYASSERTION1'))
  entra = await startFakeEntra((_req, n) => tokenReply(`SECRETCANARYACCESS.${n}`))
})

afterEach(async () => {
  for (const close of closers) close()
  closers = []
  await entra.close()
  await volume.remove()
})

function track<T extends { close(): void }>(credential: T): T {
  closers.push(() => credential.close())
  return credential
}

describe('configuration', () => {
  it('reads AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE and AZURE_AUTHORITY_HOST', async () => {
    const env = {
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_FEDERATED_TOKEN_FILE: volume.path,
      AZURE_AUTHORITY_HOST: entra.url,
    }
    const credential = track(workloadIdentityCredential({ env }))

    const token = await credential.getToken(SCOPE)

    expect(token.token).toBe('SECRETCANARYACCESS.1')
    expect(entra.requests).toHaveLength(1)
    expect(entra.requests[0]!.path).toBe(`/${TENANT}/oauth2/v2.0/token`)
    expect(entra.requests[0]!.form.get('client_id')).toBe(CLIENT)
    expect(entra.requests[0]!.form.get('client_assertion')).toBe(fakeAssertion('SECRETCANARYASSERTION1'))
  })

  it('lets options beat the environment, each one', async () => {
    const other = await tokenVolume()
    try {
      await other.write(fakeAssertion('SECRETCANARYFROMOPTION'))
      const env = {
        AZURE_TENANT_ID: 'env-tenant.onmicrosoft.com',
        AZURE_CLIENT_ID: 'env-client',
        AZURE_FEDERATED_TOKEN_FILE: volume.path,
        AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/',
      }
      const credential = track(
        workloadIdentityCredential({
          env,
          tenantId: 'contoso.onmicrosoft.com',
          clientId: CLIENT,
          tokenFilePath: other.path,
          authorityHost: entra.url,
        }),
      )

      await credential.getToken(SCOPE)

      const [request] = entra.requests
      expect(request!.path).toBe('/contoso.onmicrosoft.com/oauth2/v2.0/token')
      expect(request!.form.get('client_id')).toBe(CLIENT)
      expect(request!.form.get('client_assertion')).toBe(fakeAssertion('SECRETCANARYFROMOPTION'))
    } finally {
      await other.remove()
    }
  })

  it('reads the environment per call, never at construction', async () => {
    const env: Record<string, string | undefined> = {}
    const credential = track(workloadIdentityCredential({ env }))
    const before = await rejectionOf(credential.getToken(SCOPE))
    expect(before).toBeInstanceOf(CredentialUnavailableError)

    Object.assign(env, {
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT,
      AZURE_FEDERATED_TOKEN_FILE: volume.path,
      AZURE_AUTHORITY_HOST: entra.url,
    })
    const token = await credential.getToken(SCOPE)

    expect(token.token).toBe('SECRETCANARYACCESS.1')
  })

  it('keeps a sovereign-cloud authority path and adds the trailing slash', async () => {
    const credential = track(
      workloadIdentityCredential({
        env: {},
        tenantId: TENANT,
        clientId: CLIENT,
        tokenFilePath: volume.path,
        authorityHost: `${entra.url}prefix`,
      }),
    )

    await credential.getToken(SCOPE)

    expect(entra.requests[0]!.path).toBe(`/prefix/${TENANT}/oauth2/v2.0/token`)
  })
})

describe('missing configuration', () => {
  it.each([
    ['nothing at all', {}, ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_FEDERATED_TOKEN_FILE']],
    ['no tenant', { AZURE_CLIENT_ID: CLIENT, AZURE_FEDERATED_TOKEN_FILE: '/x' }, ['AZURE_TENANT_ID']],
    ['no client', { AZURE_TENANT_ID: TENANT, AZURE_FEDERATED_TOKEN_FILE: '/x' }, ['AZURE_CLIENT_ID']],
    ['no token file', { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT }, ['AZURE_FEDERATED_TOKEN_FILE']],
    [
      'blank values',
      { AZURE_TENANT_ID: '  ', AZURE_CLIENT_ID: '', AZURE_FEDERATED_TOKEN_FILE: '/x' },
      ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID'],
    ],
  ])(
    '%s → CredentialUnavailableError (ERR_NOT_CONFIGURED, tryNextLink), no request',
    async (_, env, names) => {
      const credential = track(
        workloadIdentityCredential({ env: { AZURE_AUTHORITY_HOST: entra.url, ...env } }),
      )

      const error = await rejectionOf(credential.getToken(SCOPE))

      expect(error).toBeInstanceOf(CredentialUnavailableError)
      expect(error).toBeInstanceOf(CredentialsError)
      const e = error as CredentialUnavailableError
      // The name ChainedTokenCredential checks to move on to its next credential.
      expect(e.name).toBe('CredentialUnavailableError')
      expect(e.code).toBe('ERR_NOT_CONFIGURED')
      expect(e.tryNextLink).toBe(true)
      for (const name of names) expect(e.message).toContain(name)
      expect(entra.requests).toHaveLength(0)
    },
  )

  it('is not what other CredentialsErrors are', () => {
    const other = new CredentialsError('x', { code: 'ERR_NETWORK' })
    expect(other instanceof CredentialUnavailableError).toBe(false)
    expect(new CredentialUnavailableError('y') instanceof CredentialsError).toBe(true)
  })
})

describe('authority host', () => {
  it.each([
    ['http: off loopback', 'http://login.microsoftonline.com/'],
    ['http: to a private address', 'http://10.0.0.1/'],
    ['ftp:', 'ftp://127.0.0.1/'],
    ['user info', 'https://user:SECRETCANARYPASSWORD@login.example/'],
    ['a query', 'https://login.example/?x=1'],
    ['not a URL', 'login.microsoftonline.com'],
  ])('refuses %s: TypeError from the option, ERR_INVALID_CONFIG from the environment', async (_, value) => {
    expect(() => workloadIdentityCredential({ authorityHost: value })).toThrow(TypeError)
    expect(() => workloadIdentityCredential({ authorityHost: value })).toThrow(/authorityHost/)
    const credential = track(
      workloadIdentityCredential({
        env: {
          AZURE_TENANT_ID: TENANT,
          AZURE_CLIENT_ID: CLIENT,
          AZURE_FEDERATED_TOKEN_FILE: volume.path,
          AZURE_AUTHORITY_HOST: value,
        },
      }),
    )

    const error = await rejectionOf(credential.getToken(SCOPE))

    expect(error).toBeInstanceOf(CredentialsError)
    expect((error as CredentialsError).code).toBe('ERR_INVALID_CONFIG')
    expect((error as CredentialsError).tryNextLink).toBe(false)
    expect((error as Error).message).toContain('AZURE_AUTHORITY_HOST')
    assertNoSecret(error, ['SECRETCANARYPASSWORD'])
    expect(entra.requests).toHaveLength(0)
  })

  it.each([
    'http://127.0.0.1:1/',
    'http://[::1]:1/',
    'http://localhost:1/',
    'https://login.microsoftonline.us/',
  ])('accepts %s', (value) => {
    expect(() => workloadIdentityCredential({ authorityHost: value }).close()).not.toThrow()
  })
})

describe('options are checked at construction', () => {
  it.each([
    ['tenantId', { tenantId: 'bad tenant/../x' }],
    ['tenantId', { tenantId: '' }],
    ['clientId', { clientId: 'has space' }],
    ['clientId', { clientId: 42 }],
    ['tokenFilePath', { tokenFilePath: '' }],
    ['env', { env: 'x' }],
    ['clock', { clock: {} }],
    ['random', { random: 1 }],
    ['transport', { transport: 'x' }],
    ['readFile', { readFile: 'x' }],
    ['timeoutMs', { timeoutMs: 0 }],
    ['maxAttempts', { maxAttempts: 0 }],
    ['maxAttempts', { maxAttempts: 1.5 }],
    ['logger', { logger: { warn: 'x' } }],
    ['refresh', { refresh: 'x' }],
    ['refresh.refreshWindowMs', { refresh: { refreshWindowMs: -1 } }],
    ['refresh.maxBackoffMs', { refresh: { maxBackoffMs: 0 } }],
  ])('a bad %s throws a TypeError naming it', (name, options) => {
    expect(() => workloadIdentityCredential(options as never)).toThrow(TypeError)
    expect(() => workloadIdentityCredential(options as never)).toThrow(name)
  })

  it('a malformed AZURE_TENANT_ID or AZURE_CLIENT_ID is ERR_INVALID_CONFIG at call time', async () => {
    for (const env of [
      { AZURE_TENANT_ID: 'a/b', AZURE_CLIENT_ID: CLIENT },
      { AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: 'a b' },
    ]) {
      const credential = track(
        workloadIdentityCredential({
          env: { ...env, AZURE_FEDERATED_TOKEN_FILE: volume.path, AZURE_AUTHORITY_HOST: entra.url },
        }),
      )
      const error = await rejectionOf(credential.getToken(SCOPE))
      expect((error as CredentialsError).code).toBe('ERR_INVALID_CONFIG')
    }
    expect(entra.requests).toHaveLength(0)
  })
})

describe('describe()', () => {
  it('shows the configuration and the token claims, never the token, with no request', async () => {
    const credential = track(
      workloadIdentityCredential({
        env: {
          AZURE_TENANT_ID: TENANT,
          AZURE_CLIENT_ID: CLIENT,
          AZURE_FEDERATED_TOKEN_FILE: volume.path,
          AZURE_AUTHORITY_HOST: entra.url,
        },
      }),
    )

    const description = await credential.describe()

    expect(description.configured).toBe(true)
    expect(description.details).toMatchObject({
      tenantId: TENANT,
      tenantIdSource: 'AZURE_TENANT_ID',
      clientId: CLIENT,
      tokenFile: volume.path,
      authorityHostSource: 'AZURE_AUTHORITY_HOST',
      tokenEndpoint: `${entra.url}${TENANT}/oauth2/v2.0/token`,
      tokenIssuer: 'https://oidc.example/issuer',
      tokenSubject: 'system:serviceaccount:default:app',
      tokenAudience: 'api://AzureADTokenExchange',
      tokenFormat: 'jwt',
      tokenExpiresAt: '2100-01-01T00:00:00.000Z',
      tokenExpired: 'no',
    })
    expect(description.details.warning).toBeUndefined()
    expect(JSON.stringify(description)).not.toContain('SECRETCANARYASSERTION1')
    expect(entra.requests).toHaveLength(0)
  })

  it('warns when the token is not for api://AzureADTokenExchange', async () => {
    await volume.write(fakeAssertion('SECRETCANARYASSERTION2', { aud: 'sts.amazonaws.com' }))
    const credential = track(
      workloadIdentityCredential({ env: {}, tenantId: TENANT, clientId: CLIENT, tokenFilePath: volume.path }),
    )

    const description = await credential.describe()

    expect(description.details.warning).toContain('AADSTS700212')
    expect(description.details.authorityHost).toBe('https://login.microsoftonline.com/')
  })

  it('blanks control characters in the token claims it shows', async () => {
    await volume.write(
      fakeAssertion('SECRETCANARYASSERTION3', {
        iss: 'https://oidc.example/issuer\u001b[2J',
        sub: 'system:serviceaccount:default:app\nforged line',
      }),
    )
    const credential = track(
      workloadIdentityCredential({ env: {}, tenantId: TENANT, clientId: CLIENT, tokenFilePath: volume.path }),
    )

    const description = await credential.describe()

    expect(description.details.tokenSubject).toBe('system:serviceaccount:default:app forged line')
    for (const value of Object.values(description.details)) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
      expect(value).not.toMatch(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/)
    }
    expect(JSON.stringify(description)).not.toContain('SECRETCANARYASSERTION3')
  })

  it('warns about a token that is not a JWT, or an expired one', async () => {
    await volume.write('SECRETCANARYASSERTION4-not-a-jwt')
    const credential = track(
      workloadIdentityCredential({ env: {}, tenantId: TENANT, clientId: CLIENT, tokenFilePath: volume.path }),
    )
    const opaque = await credential.describe()
    expect(opaque.details.tokenFormat).toBe('opaque')
    expect(opaque.details.warning).toMatch(/not a JWT/)
    expect(JSON.stringify(opaque)).not.toContain('SECRETCANARYASSERTION4')

    await volume.write(fakeAssertion('SECRETCANARYASSERTION5', { exp: 1_000_000_000 }))
    const expired = await credential.describe()
    expect(expired.details.tokenExpired).toBe('yes')
    expect(expired.details.warning).toMatch(/expired/)
  })

  it('shows half a configuration as not configured', async () => {
    const credential = track(workloadIdentityCredential({ env: { AZURE_CLIENT_ID: CLIENT } }))

    const description = await credential.describe()

    expect(description.configured).toBe(false)
    expect(description.reason).toContain('AZURE_TENANT_ID')
    expect(description.details).toEqual({ AZURE_CLIENT_ID: CLIENT })
  })

  it('never shows the password of an AZURE_AUTHORITY_HOST in half a configuration', async () => {
    for (const [authority, shown] of [
      ['https://u:PASSWORDCANARY0123@login.example.com/x/', '(invalid: must not contain user info'],
      ['https://login.example.com/x', 'https://login.example.com/x/'],
    ] as const) {
      const credential = track(
        workloadIdentityCredential({ env: { AZURE_CLIENT_ID: CLIENT, AZURE_AUTHORITY_HOST: authority } }),
      )

      const description = await credential.describe()

      expect(description.configured).toBe(false)
      expect(description.details.AZURE_AUTHORITY_HOST).toContain(shown)
      expect(JSON.stringify(description)).not.toContain('PASSWORDCANARY0123')
    }
  })

  it('rejects like a call when the token file is missing', async () => {
    const credential = track(
      workloadIdentityCredential({
        env: {},
        tenantId: TENANT,
        clientId: CLIENT,
        tokenFilePath: `${volume.dir}/nope`,
      }),
    )

    const error = await rejectionOf(credential.describe())

    expect((error as CredentialsError).code).toBe('ERR_TOKEN_FILE')
  })
})
