// refresh_in on the emulator's Entra endpoint: the token's hint becomes the refresh point of the
// credential's one engine per scope set (issue #18: no engine swaps). Real HTTP on loopback, time
// on a fake clock shared by the emulator, the Entra endpoint and the credential.
import { workloadIdentityCredential } from '@podcreds/azure'
import type { Emulator, EntraEndpoint, EntraFederatedCredential } from '@podcreds/emulator'
import { startEmulator, startEntraEndpoint } from '@podcreds/emulator'
import type { RefreshEvent } from '@podcreds/refresh'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../test/support/fakeClock.js'

const HOUR = 3_600_000
const MINUTE = 60_000
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const CLIENT = '5f1a2b3c-0000-4000-8000-00000000c1d1'
const SCOPE = 'https://resource.podcreds.test/.default'

let closers: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const close of closers.reverse()) await close()
  closers = []
})

/** Waits (real time, bounded) for `done`: the loopback request the timer started must complete. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1_000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  if (!done()) throw new Error(`timed out waiting for ${what}`)
}

async function stack(tokenLifetimeMs: number) {
  const clock = new FakeClock(Date.now())
  const emulator: Emulator = await startEmulator({ clock })
  closers.push(() => emulator.close())
  const fc: EntraFederatedCredential = {
    clientId: CLIENT,
    tenantId: TENANT,
    issuer: emulator.issuerUrl,
    subject: 'system:serviceaccount:payments:api',
  }
  const keys = `${emulator.issuerUrl}/keys`
  // Entra sends refresh_in (half the lifetime) for tokens of 2 h or more.
  const entra: EntraEndpoint = await startEntraEndpoint({
    clock,
    jwks: async () => (await fetch(keys)).json() as Promise<{ keys: Record<string, unknown>[] }>,
    federatedCredentials: [fc],
    tokenLifetimeMs,
  })
  closers.push(() => entra.close())
  const assertion = await emulator.mintToken({
    audience: 'api://AzureADTokenExchange',
    namespace: 'payments',
    serviceAccount: 'api',
    lifetimeMs: 24 * HOUR,
  })
  const events: RefreshEvent[] = []
  const credential = workloadIdentityCredential({
    env: {
      ...entra.envFor(fc),
      AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
    },
    readFile: async () => Buffer.from(assertion),
    clock,
    random: () => 0.5,
    refresh: { onEvent: (e) => events.push(e) },
  })
  closers.push(() => credential.close())
  const plannedAfter = (n: number): number => {
    const success = events.filter((e) => e.type === 'success')[n - 1]
    return success!.nextRefreshAt!.getTime()
  }
  const successes = (): number => events.filter((e) => e.type === 'success').length
  return { clock, entra, credential, events, plannedAfter, successes }
}

describe('refresh_in from the emulated Entra endpoint', () => {
  it('4 h tokens with refresh_in 2 h: each refresh comes at refresh_in, in the background, from one engine', async () => {
    // Prepare
    const { clock, entra, credential, events, plannedAfter, successes } = await stack(4 * HOUR)
    const fetchedAt = clock.now()
    const first = await credential.getToken(SCOPE)
    expect(first.refreshAfterTimestamp).toBe(fetchedAt + 2 * HOUR)
    for (let cycle = 1; cycle <= 2; cycle++) {
      // Assess: the engine's refresh point is this token's refresh_in (2 h after its fetch),
      // jittered forward by at most 5 % of the 4 h lifetime.
      const hint = events.filter((e) => e.type === 'success')[cycle - 1]!.at.getTime() + 2 * HOUR
      const planned = plannedAfter(cycle)
      expect(planned).toBeGreaterThanOrEqual(hint)
      expect(planned).toBeLessThanOrEqual(hint + 12 * MINUTE)
      // Act: up to 1 ms before it, nothing; at it, the timer asks Entra in the background.
      await clock.advance(planned - 1 - clock.now())
      expect(entra.requests()).toHaveLength(cycle)
      await clock.advance(1)
      await until(() => successes() === cycle + 1, 'the background refresh')
      expect(entra.requests()).toHaveLength(cycle + 1)
      const token = await credential.getToken(SCOPE)
      expect(token.token).not.toBe(first.token)
      expect(entra.introspect(token.token)?.scope).toBe(SCOPE)
    }
    // One engine for the credential's life: one initial fetch, then background refreshes only.
    expect(events.filter((e) => e.type === 'start').map((e) => e.trigger)).toEqual([
      'initial',
      'background',
      'background',
    ])
    expect(entra.requests().every((r) => r.errorCode === undefined)).toBe(true)
  })

  it('1 h tokens carry no refresh_in: the engine schedule of rule 3 applies', async () => {
    const { clock, credential, plannedAfter } = await stack(HOUR)
    const fetchedAt = clock.now()
    const token = await credential.getToken(SCOPE)
    expect(token.refreshAfterTimestamp).toBeUndefined()
    // The first refresh of an engine is spread over [fetch + L/4, expiry − W/2] (random 0.5).
    expect(plannedAfter(1)).toBe(Math.round(fetchedAt + (15 * MINUTE + 52.5 * MINUTE) / 2))
  })
})
