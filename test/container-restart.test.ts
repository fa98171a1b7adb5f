import { fromContainer } from '@podcreds/container'
import { startEmulator } from '@podcreds/emulator'
import { describe, expect, it } from 'vitest'
import { instantSleepClock } from '../packages/container/test/fakeAgent.js'
import { mulberry32 } from './support/random.js'

// Issue 17, part 3: a pod that starts while the node's agent restarts (connections reset for
// ~1.5 s) must get its credentials on the first call, as the AWS SDK for JS (~3 s of retries) and
// botocore do. The emulator's `down` window and the provider's back-off share one virtual clock.
describe('fromContainer: an agent restarting', () => {
  it('gets credentials on the first call while the agent resets connections for 1.5 s', async () => {
    // Prepare
    const clock = instantSleepClock()
    await using emulator = await startEmulator({ clock, rotateEveryMs: 0 })
    emulator.faults.set({ agent: { down: { until: clock.now() + 1500 } } })
    // Act
    const credentials = await fromContainer({ env: emulator.env, clock, random: mulberry32(5) })()
    // Assess
    expect(credentials.accessKeyId).toMatch(/^ASIA/)
    expect(emulator.stats().agentRequests).toBeGreaterThan(2) // more than the old 3-attempt budget could wait
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1400)
  })

  it('with no agent coming back, fails within the window naming the link, the variable, attempts and time', async () => {
    const clock = instantSleepClock()
    await using emulator = await startEmulator({ clock, rotateEveryMs: 0 })
    emulator.faults.set({ agent: { down: true } })
    const error = (await fromContainer({ env: emulator.env, clock, random: mulberry32(6) })().catch(
      (e: unknown) => e,
    )) as Error & { code?: string }
    expect(error.code).toBe('ERR_NETWORK')
    expect(error.message).toMatch(
      /^container credentials: no answer from http:\/\/127\.0\.0\.1:\d+\/v1\/credentials \(AWS_CONTAINER_CREDENTIALS_FULL_URI\) after \d+ attempts in [0-3]\.\d s/,
    )
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(3000)
  })
})
