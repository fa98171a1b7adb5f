import { inspect } from 'node:util'
import { workloadIdentityCredential } from '@podcreds/azure'
import type { CredentialsError } from '@podcreds/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { rejectionOf } from '../../../test/support/errors.js'
import { assertNoSecret } from '../../../test/support/secrets.js'
import {
  CLIENT,
  type EntraReply,
  entraError,
  fakeAssertion,
  SCOPE,
  type SeenRequest,
  startFakeEntra,
  TENANT,
  tokenReply,
  tokenVolume,
} from './helpers.js'

type Volume = Awaited<ReturnType<typeof tokenVolume>>
type Entra = Awaited<ReturnType<typeof startFakeEntra>>

const ASSERTION_1 = fakeAssertion('SECRETCANARYASSERTIONONE')
const ASSERTION_2 = fakeAssertion('SECRETCANARYASSERTIONTWO')

let volume: Volume
let entra: Entra | undefined
let closers: (() => void)[] = []
let reply: (request: SeenRequest, n: number) => EntraReply | Promise<EntraReply> = (_req, n) =>
  tokenReply(`SECRETCANARYACCESS.${n}`)

beforeEach(async () => {
  volume = await tokenVolume()
  await volume.write(ASSERTION_1)
  entra = await startFakeEntra((req, n) => reply(req, n))
})

afterEach(async () => {
  for (const close of closers) close()
  closers = []
  reply = (_req, n) => tokenReply(`SECRETCANARYACCESS.${n}`)
  await entra?.close()
  await volume.remove()
})

function credentialFor(extra: Parameters<typeof workloadIdentityCredential>[0] = {}) {
  const credential = workloadIdentityCredential({
    env: {},
    tenantId: TENANT,
    clientId: CLIENT,
    tokenFilePath: volume.path,
    authorityHost: entra?.url ?? 'http://127.0.0.1:9/',
    random: () => 0,
    ...extra,
  })
  closers.push(() => credential.close())
  return credential
}

describe('the token request', () => {
  it('is a client-credentials POST with the federated token as client assertion (issue #12)', async () => {
    const credential = credentialFor()

    const token = await credential.getToken([SCOPE])

    const [request] = entra!.requests
    expect(request!.method).toBe('POST')
    expect(request!.path).toBe(`/${TENANT}/oauth2/v2.0/token`)
    expect(request!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/)
    expect(Object.fromEntries(request!.form)).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT,
      scope: SCOPE,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: ASSERTION_1,
    })
    expect(token.tokenType).toBe('Bearer')
    expect(token.token).toBe('SECRETCANARYACCESS.1')
  })

  it('parses expires_in and refresh_in into expiresOnTimestamp and refreshAfterTimestamp', async () => {
    reply = () => tokenReply('SECRETCANARYACCESS.x', 86_399, 43_199)
    const now = Date.UTC(2026, 0, 1)
    const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} }
    const credential = credentialFor({ clock })

    const token = await credential.getToken(SCOPE)

    expect(token.expiresOnTimestamp).toBe(now + 86_399_000)
    expect(token.refreshAfterTimestamp).toBe(now + 43_199_000)
  })

  it('re-reads the token file per token request: kubelet swapped ..data in between', async () => {
    const credential = credentialFor()

    await credential.getToken('https://vault.azure.net/.default')
    await volume.write(ASSERTION_2)
    await credential.getToken('https://storage.azure.com/.default')

    expect(entra!.requests.map((r) => r.form.get('client_assertion'))).toEqual([ASSERTION_1, ASSERTION_2])
  })

  it('asks for the scopes of one call as one space-separated scope', async () => {
    const credential = credentialFor()

    await credential.getToken(['b/.default', 'a/.default', 'b/.default'])

    expect(entra!.requests[0]!.form.get('scope')).toBe('a/.default b/.default')
  })

  it('rejects bad scopes with a TypeError and sends nothing', async () => {
    const credential = credentialFor()
    for (const scopes of [[], '', ['a b'], [42], undefined]) {
      const error = await rejectionOf(credential.getToken(scopes as never))
      expect(error).toBeInstanceOf(TypeError)
    }
    expect(entra!.requests).toHaveLength(0)
  })
})

describe('Entra errors name the AADSTS code and the cause', () => {
  it.each([
    [
      'subject mismatch',
      entraError(
        400,
        'invalid_client',
        700213,
        "No matching federated identity record found for presented assertion subject 'system:serviceaccount:default:app'.",
      ),
      'AADSTS700213',
      /subject must be system:serviceaccount:<namespace>:<service account>/,
    ],
    [
      'audience mismatch',
      entraError(
        400,
        'invalid_client',
        700212,
        "No matching federated identity record found for presented assertion audience 'sts.amazonaws.com'.",
      ),
      'AADSTS700212',
      /api:\/\/AzureADTokenExchange/,
    ],
    [
      'issuer mismatch',
      entraError(
        400,
        'invalid_client',
        700211,
        "No matching federated identity record found for presented assertion issuer 'https://x'.",
      ),
      'AADSTS700211',
      /OIDC issuer URL/,
    ],
    [
      'expired assertion',
      entraError(400, 'invalid_client', 700024, 'Client assertion is not within its valid time range.'),
      'AADSTS700024',
      /expired or not yet valid/,
    ],
    [
      'unknown client',
      entraError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${CLIENT}' was not found in the directory.`,
      ),
      'AADSTS700016',
      /client id/,
    ],
  ])('%s → ERR_STS with stsCode, not retried', async (_, answer, code, hint) => {
    reply = () => answer
    const credential = credentialFor()

    const error = (await rejectionOf(credential.getToken(SCOPE))) as CredentialsError

    expect(error.name).toBe('CredentialsError')
    expect(error.code).toBe('ERR_STS')
    expect(error.stsCode).toBe(code)
    expect(error.status).toBe(400)
    expect(error.retryable).toBe(false)
    expect(error.tryNextLink).toBe(false)
    expect(error.message).toContain(code)
    expect(error.message).toMatch(hint)
    expect(error.message).toContain(`client ${CLIENT} in tenant ${TENANT}`)
    expect(error.message).toContain('Entra says:')
    assertNoSecret(error, ['SECRETCANARYASSERTIONONE'])
    expect(entra!.requests).toHaveLength(1)
  })

  it('scrubs the assertion when Entra echoes it', async () => {
    reply = (req) =>
      entraError(
        400,
        'invalid_request',
        50027,
        `JWT token is invalid or malformed: ${req.form.get('client_assertion')}`,
      )
    const credential = credentialFor()

    const error = (await rejectionOf(credential.getToken(SCOPE))) as CredentialsError

    expect(error.stsCode).toBe('AADSTS50027')
    expect(error.message).toContain('[redacted]')
    assertNoSecret(error, ['SECRETCANARYASSERTIONONE', ASSERTION_1])
  })

  it('re-reads a rotated token once when Entra says the assertion expired', async () => {
    reply = async (req) => {
      if (req.form.get('client_assertion') !== ASSERTION_1) return tokenReply('SECRETCANARYACCESS.fresh')
      // kubelet rotated the file while Entra was judging the old token.
      await volume.write(ASSERTION_2)
      return entraError(400, 'invalid_client', 700024, 'Client assertion is not within its valid time range.')
    }
    const credential = credentialFor()

    const token = await credential.getToken(SCOPE)

    expect(token.token).toBe('SECRETCANARYACCESS.fresh')
    expect(entra!.requests.map((r) => r.form.get('client_assertion'))).toEqual([ASSERTION_1, ASSERTION_2])
  })

  it('retries 429 and 5xx with back-off, then succeeds', async () => {
    reply = (_req, n) =>
      n === 1
        ? { status: 503, body: '<html>Service Unavailable</html>' }
        : n === 2
          ? entraError(429, 'temporarily_unavailable', 50196, 'Throttled.')
          : tokenReply('SECRETCANARYACCESS.third')
    const credential = credentialFor()

    const token = await credential.getToken(SCOPE)

    expect(token.token).toBe('SECRETCANARYACCESS.third')
    expect(entra!.requests).toHaveLength(3)
  })

  it('gives up after maxAttempts with the last error (retryable, status)', async () => {
    reply = () => ({ status: 500, body: 'boom' })
    const credential = credentialFor({ maxAttempts: 2 })

    const error = (await rejectionOf(credential.getToken(SCOPE))) as CredentialsError

    expect(error.code).toBe('ERR_HTTP_STATUS')
    expect(error.status).toBe(500)
    expect(error.retryable).toBe(true)
    expect(entra!.requests).toHaveLength(2)
  })

  it('does not retry a 400 that is not an Entra error', async () => {
    reply = () => ({ status: 400, body: 'nope' })
    const credential = credentialFor()

    const error = (await rejectionOf(credential.getToken(SCOPE))) as CredentialsError

    expect(error.code).toBe('ERR_HTTP_STATUS')
    expect(entra!.requests).toHaveLength(1)
  })

  it('retries a network failure', async () => {
    const url = entra!.url
    await entra!.close()
    entra = undefined
    const credential = credentialFor({ authorityHost: url, maxAttempts: 2 })

    const error = (await rejectionOf(credential.getToken(SCOPE))) as CredentialsError

    expect(error.code).toBe('ERR_NETWORK')
    expect(error.retryable).toBe(true)
  })

  it.each([
    ['not JSON', '<html>'],
    ['no access_token', { token_type: 'Bearer', expires_in: 3599 }],
    [
      'a token with a line break',
      { token_type: 'Bearer', expires_in: 3599, access_token: 'SECRETCANARY\r\nX: y' },
    ],
    ['no expires_in', { token_type: 'Bearer', access_token: 'SECRETCANARYACCESS' }],
    ['a pop token', { token_type: 'pop', expires_in: 3599, access_token: 'SECRETCANARYACCESS' }],
  ])('a 200 answer with %s → ERR_RESPONSE_INVALID naming the field, not the token', async (_, body) => {
    reply = () => ({ status: 200, body })
    const credential = credentialFor({ maxAttempts: 1 })

    const error = (await rejectionOf(credential.getToken(SCOPE))) as CredentialsError

    expect(error.code).toBe('ERR_RESPONSE_INVALID')
    assertNoSecret(error, ['SECRETCANARY'])
  })

  it('accepts expires_in and refresh_in as strings (the v1 shape)', async () => {
    reply = () => ({
      status: 200,
      body: {
        token_type: 'bearer',
        expires_in: '7200',
        refresh_in: '3600',
        access_token: 'SECRETCANARYACCESS',
      },
    })
    const credential = credentialFor()

    const token = await credential.getToken(SCOPE)

    expect(token.refreshAfterTimestamp! - token.expiresOnTimestamp).toBe(-3_600_000)
  })

  it('an unreadable token file is ERR_TOKEN_FILE naming the path; nothing is sent', async () => {
    const credential = credentialFor({ tokenFilePath: `${volume.dir}/missing` })

    const error = (await rejectionOf(credential.getToken(SCOPE))) as CredentialsError

    expect(error.code).toBe('ERR_TOKEN_FILE')
    expect(error.message).toContain(`${volume.dir}/missing`)
    expect(entra!.requests).toHaveLength(0)
  })
})

describe('secrets', () => {
  it('util.inspect and JSON.stringify of an access token redact it; the field stays usable', async () => {
    const credential = credentialFor()

    const token = await credential.getToken(SCOPE)

    expect(token.token).toBe('SECRETCANARYACCESS.1')
    expect(inspect(token)).not.toContain('SECRETCANARY')
    expect(inspect(token)).toContain('[redacted]')
    expect(JSON.stringify(token)).not.toContain('SECRETCANARY')
    expect({ ...token }.token).toBe('SECRETCANARYACCESS.1')
    expect(inspect(credential, { showHidden: true, depth: 5 })).not.toContain('SECRETCANARY')
  })

  it('log lines carry neither the assertion nor the access token', async () => {
    const lines: string[] = []
    const log = (message: string, fields?: Record<string, unknown>): void => {
      lines.push(`${message} ${inspect(fields, { depth: 5 })}`)
    }
    reply = (_req, n) =>
      n === 1 ? { status: 503, body: 'x' } : tokenReply('SECRETCANARYACCESS.logged', 7200, 3600)
    const credential = credentialFor({ logger: { debug: log, info: log, warn: log, error: log } })

    await credential.getToken(SCOPE)

    expect(lines.length).toBeGreaterThan(2)
    for (const line of lines) expect(line).not.toContain('SECRETCANARY')
  })
})
