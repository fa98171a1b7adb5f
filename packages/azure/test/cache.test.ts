import { workloadIdentityCredential } from '@podcreds/azure'
import type { CredentialsError } from '@podcreds/core'
import { afterEach, describe, expect, it } from 'vitest'
import { rejectionOf } from '../../../test/support/errors.js'
import { FakeClock } from '../../../test/support/fakeClock.js'
import {
  CLIENT,
  type EntraReply,
  fakeAssertion,
  memoryTransport,
  SCOPE,
  TENANT,
  tokenReply,
} from './helpers.js'

const HOUR = 3_600_000
const MINUTE = 60_000

let closers: (() => void)[] = []
afterEach(() => {
  for (const close of closers) close()
  closers = []
})

/** A credential on virtual time: in-memory transport and token file, a fake clock. */
function setup(reply: (n: number, scope: string | null) => EntraReply, random = () => 0) {
  const clock = new FakeClock()
  const { transport, requests } = memoryTransport((request, n) =>
    reply(n, new URLSearchParams(request.body ?? '').get('scope')),
  )
  const credential = workloadIdentityCredential({
    env: {},
    tenantId: TENANT,
    clientId: CLIENT,
    tokenFilePath: '/var/run/secrets/azure/tokens/azure-identity-token',
    authorityHost: 'https://login.microsoftonline.com/',
    readFile: async () => Buffer.from(fakeAssertion('SECRETCANARYASSERTION')),
    transport,
    clock,
    random,
  })
  closers.push(() => credential.close())
  return { clock, requests, credential }
}

describe('caching per scope set', () => {
  it('answers a second getToken from the cache, with no request', async () => {
    const { requests, credential } = setup((n) => tokenReply(`SECRETCANARYACCESS.${n}`))

    const first = await credential.getToken(SCOPE)
    const second = await credential.getToken([SCOPE])

    expect(second.token).toBe(first.token)
    expect(requests).toHaveLength(1)
  })

  it('keeps one token per scope set; the order of scopes does not matter', async () => {
    const { requests, credential } = setup((n, scope) =>
      tokenReply(`SECRETCANARYACCESS.${n}.${scope?.length}`),
    )

    const vault = await credential.getToken('https://vault.azure.net/.default')
    const storage = await credential.getToken('https://storage.azure.com/.default')
    const pair1 = await credential.getToken(['a/.default', 'b/.default'])
    const pair2 = await credential.getToken(['b/.default', 'a/.default'])
    const vaultAgain = await credential.getToken('https://vault.azure.net/.default')

    expect(vault.token).not.toBe(storage.token)
    expect(pair2.token).toBe(pair1.token)
    expect(vaultAgain.token).toBe(vault.token)
    expect(requests).toHaveLength(3)
  })

  it('makes one request for any number of concurrent callers (single-flight)', async () => {
    const { requests, credential } = setup((n) => tokenReply(`SECRETCANARYACCESS.${n}`))

    const tokens = await Promise.all(Array.from({ length: 20 }, () => credential.getToken(SCOPE)))

    expect(new Set(tokens.map((t) => t.token)).size).toBe(1)
    expect(requests).toHaveLength(1)
  })

  it('refreshes a 1 h token in the background before expiry: no caller waits', async () => {
    const { clock, requests, credential } = setup((n) => tokenReply(`SECRETCANARYACCESS.${n}`, 3600))
    await credential.getToken(SCOPE)

    // Without refresh_in the engine's table applies: 15 min window, refresh before expiry − 7.5 min.
    await clock.advance(53 * MINUTE)
    expect(requests).toHaveLength(2)
    const token = await credential.getToken(SCOPE)

    expect(token.token).toBe('SECRETCANARYACCESS.2')
    expect(requests).toHaveLength(2)
  })

  it('keeps serving a valid token while Entra fails in the background', async () => {
    const { clock, requests, credential } = setup((n) =>
      n === 1
        ? tokenReply('SECRETCANARYACCESS.1', 3600)
        : { status: 400, body: { error: 'invalid_client', error_codes: [700213] } },
    )
    await credential.getToken(SCOPE)
    await clock.advance(53 * MINUTE)
    expect(requests.length).toBeGreaterThanOrEqual(2)

    const token = await credential.getToken(SCOPE)

    expect(token.token).toBe('SECRETCANARYACCESS.1')
    // In the mandatory window (the last minute) the refusal reaches the caller, named.
    await clock.advance(6.5 * MINUTE)
    const error = (await rejectionOf(credential.getToken(SCOPE))) as CredentialsError
    expect(error.stsCode).toBe('AADSTS700213')
  })
})

describe('refresh_in', () => {
  it.each([0, 0.5, 0.999])(
    'is honoured: no refresh before it, one by refresh_in + (expires_in − refresh_in)/2 (random %s)',
    async (r) => {
      // 4 h tokens with refresh_in 2 h: Entra's window is 2 h, where the engine's table says 1 h.
      const { clock, requests, credential } = setup(
        (n) => tokenReply(`SECRETCANARYACCESS.${n}`, 4 * 3600, 2 * 3600),
        () => r,
      )
      const start = clock.now()
      const first = await credential.getToken(SCOPE)
      expect(first.refreshAfterTimestamp).toBe(start + 2 * HOUR)

      await clock.advance(2 * HOUR - 1)
      expect(requests).toHaveLength(1)
      expect((await credential.getToken(SCOPE)).token).toBe('SECRETCANARYACCESS.1')

      await clock.advance(HOUR + 1)
      expect(requests).toHaveLength(2)
      const second = await credential.getToken(SCOPE)
      expect(second.token).toBe('SECRETCANARYACCESS.2')
      expect(requests).toHaveLength(2)

      // The next cycles follow the same rule, counted from each fetch.
      const fetched = second.refreshAfterTimestamp! - 2 * HOUR
      await clock.advance(fetched + 2 * HOUR - 1 - clock.now())
      expect(requests).toHaveLength(2)
      await clock.advance(HOUR + 1)
      expect(requests).toHaveLength(3)
    },
  )

  it('never asks Entra again before refresh_in, however often getToken is called', async () => {
    const { clock, requests, credential } = setup((n) =>
      tokenReply(`SECRETCANARYACCESS.${n}`, 24 * 3600, 12 * 3600),
    )
    await credential.getToken(SCOPE)

    // Every 30 min up to 1 ms before refresh_in (12 h).
    for (let i = 0; i < 24; i++) {
      await clock.advance(i === 23 ? 30 * MINUTE - 1 : 30 * MINUTE)
      await credential.getToken(SCOPE)
    }

    expect(requests).toHaveLength(1)
    // From refresh_in on, the engine's background refresh comes within its small jitter band.
    await clock.advance(1 + 0.05 * 24 * HOUR)
    expect(requests).toHaveLength(2)
  })
})

describe('getToken options', () => {
  it('a claims challenge (CAE) drops the cached token and asks Entra, even before refresh_in', async () => {
    const { requests, credential } = setup((n) => tokenReply(`SECRETCANARYACCESS.${n}`, 24 * 3600, 12 * 3600))
    await credential.getToken(SCOPE)

    const token = await credential.getToken(SCOPE, { claims: 'eyJhY2Nlc3NfdG9rZW4iOnt9fQ==' })

    expect(token.token).toBe('SECRETCANARYACCESS.2')
    expect(requests).toHaveLength(2)
  })

  it('accepts the configured tenant (any case) and refuses another one', async () => {
    const { requests, credential } = setup((n) => tokenReply(`SECRETCANARYACCESS.${n}`))

    await credential.getToken(SCOPE, { tenantId: TENANT.toUpperCase() })
    const error = (await rejectionOf(
      credential.getToken(SCOPE, { tenantId: 'other-tenant' }),
    )) as CredentialsError

    expect(error.code).toBe('ERR_INVALID_CONFIG')
    expect(error.message).toContain('other-tenant')
    expect(requests).toHaveLength(1)
  })

  it('close() stops the background refresh; calls still work on demand', async () => {
    const { clock, requests, credential } = setup((n) => tokenReply(`SECRETCANARYACCESS.${n}`, 3600))
    await credential.getToken(SCOPE)

    credential.close()
    await clock.advance(58 * MINUTE)
    expect(requests).toHaveLength(1)
    expect(clock.pending()).toBe(0)

    // The refresh point has passed: this call still gets the valid token at once and starts the
    // refresh in the background (no timer needed); the next call gets the new token.
    expect((await credential.getToken(SCOPE)).token).toBe('SECRETCANARYACCESS.1')
    await clock.advance(0)
    expect(requests).toHaveLength(2)
    expect((await credential.getToken(SCOPE)).token).toBe('SECRETCANARYACCESS.2')
    expect(clock.pending()).toBe(0)
  })

  it('[Symbol.dispose] is close()', async () => {
    const { clock, credential } = setup((n) => tokenReply(`SECRETCANARYACCESS.${n}`, 3600))
    await credential.getToken(SCOPE)
    expect(clock.pending()).toBe(1)

    credential[Symbol.dispose]()

    expect(clock.pending()).toBe(0)
  })
})
