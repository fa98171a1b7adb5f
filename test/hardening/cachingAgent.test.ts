// Issue 17: the emulator's agent now caches per token as the real one does, so the engine's
// same-credentials path (DESIGN rule 10) — the one a real cluster runs all day — is tested without
// a fault: a day against the caching agent, emulator and engine on one virtual clock, real HTTP.
import { fromContainer } from '@podcreds/container'
import { startEmulator } from '@podcreds/emulator'
import { refreshing } from '@podcreds/refresh'
import { expect, it } from 'vitest'
import { mulberry32 } from '../support/random.js'
import { VirtualClock } from './helpers.js'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

it('a day against the caching agent: never an expired set, the unchanged path taken, bounded calls', async () => {
  // Prepare: 1 h sets, the token rotated as kubelet does (a new token is a new cache key). The agent keeps a set for min(lifetime, 3 h), i.e. its whole life less the
  // last 15 s, so every refresh the engine makes ahead of expiry gets the same set back (rule 10).
  const clock = new VirtualClock(Date.now())
  const emulator = await startEmulator({
    clock,
    random: mulberry32(31),
    credentialLifetimeMs: HOUR,
  })
  const engine = refreshing(fromContainer({ env: emulator.env, maxAttempts: 1 }), {
    clock,
    random: mulberry32(32),
  })
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 2000 && engine.stats().refreshing; i++) await new Promise((r) => setImmediate(r))
  }
  const keys = new Set<string>()
  let expiredServed = 0
  try {
    // Act: a caller every 5 virtual minutes for 24 h
    for (let t = 0; t < 24 * HOUR; t += 5 * MINUTE) {
      const credentials = await engine()
      if (credentials.expiration!.getTime() <= clock.now()) expiredServed++
      keys.add(credentials.accessKeyId)
      await clock.advance(5 * MINUTE)
      await settle()
    }
    // Assess
    const stats = engine.stats()
    expect(expiredServed).toBe(0)
    // The agent issues about a set an hour, whatever the engine asks.
    // (A set fetched between two callers may never be handed out, hence the range.)
    const issued = emulator.stats().credentialsIssued
    expect(keys.size).toBeGreaterThanOrEqual(20)
    expect(issued).toBeGreaterThanOrEqual(keys.size)
    expect(issued).toBeLessThanOrEqual(27)
    // Rule 10 ran for real: refreshes got the same set back, and none of it looped.
    expect(stats.unchanged).toBeGreaterThan(0)
    expect(stats.sourceCalls).toBeLessThan(24 * 8)
    expect(stats.failures).toBe(0)
  } finally {
    engine.close()
    await emulator.close()
  }
})
