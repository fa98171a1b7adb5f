import { type Emulator, startEmulator } from '@podcreds/emulator'
import { afterEach, describe, expect, it } from 'vitest'
import { agentKeys, fakeClock, getCredentials } from './helpers.js'

// The real agent (aws/eks-pod-identity-agent internal/credsretriever/refreshing_cache.go) keys its
// cache by the service-account token, keeps a set for min(its lifetime, 3 h)
// (`--max-credential-retention-before-renewal`), and never serves one with 15 s or less left
// (`defaultMinCredentialTtl`). Its handler sits behind `rate.NewLimiter(1000, 500)`
// (internal/middleware/rate_limiter, configuration.RequestRate).
describe('Pod Identity agent: per-token cache and rate limit, as the real agent', () => {
  let emulator: Emulator | undefined
  afterEach(async () => {
    await emulator?.close()
    emulator = undefined
  })

  it('serves the same set and Expiration per token until its renewal 3 h later; a rotated token gets a new set', async () => {
    // Prepare
    const clock = fakeClock()
    emulator = await startEmulator({ clock, rotateEveryMs: 0 })
    const token = await emulator.mintToken({ audience: 'pods.eks.amazonaws.com' })
    // Act
    const first = await getCredentials(emulator.agentUrl, token)
    clock.advance(3 * 3_600_000 - 1)
    const beforeRenewal = await getCredentials(emulator.agentUrl, token)
    clock.advance(1)
    const renewed = await getCredentials(emulator.agentUrl, token)
    const otherToken = await emulator.mintToken({ audience: 'pods.eks.amazonaws.com' })
    const rotated = await getCredentials(emulator.agentUrl, otherToken)
    // Assess: byte-identical answers until the renewal, then a new 6 h set
    expect(beforeRenewal.body).toBe(first.body)
    expect(agentKeys(renewed).accessKeyId).not.toBe(agentKeys(first).accessKeyId)
    expect(Date.parse(agentKeys(renewed).expiration)).toBe(clock.now() + 21_600_000)
    expect(agentKeys(rotated).accessKeyId).not.toBe(agentKeys(renewed).accessKeyId)
    expect(emulator.stats().credentialsIssued).toBe(3)
  })

  it('never serves a cached set with 15 s or less left (short lifetimes renew at expiry - 15 s)', async () => {
    const clock = fakeClock()
    emulator = await startEmulator({ clock, rotateEveryMs: 0, credentialLifetimeMs: 60_000 })
    const token = await emulator.mintToken({ audience: 'pods.eks.amazonaws.com' })
    const first = agentKeys(await getCredentials(emulator.agentUrl, token))
    clock.advance(44_999) // 15.001 s left: still served
    const still = agentKeys(await getCredentials(emulator.agentUrl, token))
    clock.advance(1) // 15 s left: dropped
    const next = agentKeys(await getCredentials(emulator.agentUrl, token))
    expect(still).toEqual(first)
    expect(next.accessKeyId).not.toBe(first.accessKeyId)
    expect(Date.parse(next.expiration) - clock.now()).toBe(60_000)
  })

  it('agent: { cache: false } issues a fresh set per request', async () => {
    emulator = await startEmulator({ agent: { cache: false }, rotateEveryMs: 0 })
    const token = await emulator.mintToken({ audience: 'pods.eks.amazonaws.com' })
    const a = agentKeys(await getCredentials(emulator.agentUrl, token))
    const b = agentKeys(await getCredentials(emulator.agentUrl, token))
    expect(a.accessKeyId).not.toBe(b.accessKeyId)
  })

  it('answers 429 "Too Many Requests" past a burst of 500, refilling at 1000 per second', async () => {
    // Prepare: a clock that stands still, so no token comes back during the burst
    const clock = fakeClock()
    emulator = await startEmulator({ clock, rotateEveryMs: 0 })
    const url = emulator.agentUrl
    // Act: 500 requests (no token: the limiter runs before any validation, as the middleware does)
    const burst = await Promise.all(Array.from({ length: 500 }, () => getCredentials(url, undefined)))
    const over = await getCredentials(url, undefined)
    clock.advance(1) // one token back (1000 per second)
    const refilled = await getCredentials(url, undefined)
    const overAgain = await getCredentials(url, undefined)
    // Assess
    expect(new Set(burst.map((reply) => reply.status))).toEqual(new Set([400]))
    expect([over.status, over.body, over.headers['content-type']]).toEqual([
      429,
      'Too Many Requests\n',
      'text/plain; charset=utf-8',
    ])
    expect([refilled.status, overAgain.status]).toEqual([400, 429])
  })

  it('rejects a malformed agent option with a TypeError naming it', async () => {
    await expect(startEmulator({ agent: { cache: 'no' as unknown as boolean } })).rejects.toThrow(
      /agent\.cache must be a boolean/,
    )
    await expect(startEmulator({ agent: { cahce: false } as never })).rejects.toThrow(
      /agent\.cahce is not an option/,
    )
  })
})
