import type { AwsCredentialIdentity } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import { refreshing } from '@podcreds/refresh'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../test/support/fakeClock.js'
import { mulberry32 } from '../../../test/support/random.js'
import { MINUTE, SECOND } from './helpers.js'

const LIFETIME = 15 * MINUTE
const OUTAGE = 40 * MINUTE
const CALLER_EVERY = 100
const RUNS = 50

/**
 * A lean virtual clock for long runs at a 100 ms step (FakeClock settles each step with a macrotask
 * turn, which is too slow for 50 runs of 55 minutes): timers fire in due order, and after each one,
 * and after each step, pending promise callbacks run (the engine's answers are a few microtask hops
 * from the source's).
 */
class StepClock {
  #now = Date.UTC(2026, 0, 1)
  #seq = 0
  #timers: { at: number; seq: number; fn: () => void }[] = []

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn }
    this.#timers.push(timer)
    this.#timers.sort((a, b) => a.at - b.at || a.seq - b.seq)
    return timer
  }

  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t !== handle)
  }

  pending(): number {
    return this.#timers.length
  }

  async advance(ms: number): Promise<void> {
    const end = this.#now + ms
    await drain()
    while (this.#timers.length > 0 && this.#timers[0]!.at <= end) {
      const timer = this.#timers.shift()!
      this.#now = Math.max(this.#now, timer.at)
      timer.fn()
      await drain()
    }
    this.#now = end
  }
}

async function drain(): Promise<void> {
  for (let i = 0; i < 6; i++) await Promise.resolve()
}

/** The most calls in any half-open minute `[t, t + 1 min)` of `times` (sorted). */
function busiestMinute(times: number[]): number {
  let best = 0
  let from = 0
  for (let to = 0; to < times.length; to++) {
    while (times[to]! - times[from]! >= MINUTE) from++
    best = Math.max(best, to - from + 1)
  }
  return best
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/**
 * One process: 15-minute credentials from a source that answers in 20 ms, or refuses the
 * connection after 1 ms while down (what fromContainer() raises for ECONNREFUSED: retryable), as
 * benchmarks/lib/simulate.mjs models the agent. A caller every 100 ms; a 40-minute outage starting
 * at a random point of the credentials' lifetime.
 */
async function outageRun(seed: number) {
  const random = mulberry32(seed)
  const clock = new StepClock()
  const t0 = clock.now()
  const outageFrom = t0 + LIFETIME + Math.floor(random() * LIFETIME)
  const outageTo = outageFrom + OUTAGE
  const sourceCalls: number[] = []
  let minted = 0
  const source = (): Promise<AwsCredentialIdentity> => {
    const at = clock.now()
    sourceCalls.push(at)
    const down = at >= outageFrom && at < outageTo
    return new Promise((resolve, reject) => {
      clock.setTimeout(
        () => {
          if (down) {
            reject(new CredentialsError('connect ECONNREFUSED 127.0.0.1:80', { code: 'ERR_NETWORK' }))
            return
          }
          minted++
          resolve({
            accessKeyId: `ASIARECOVERY${String(minted).padStart(8, '0')}`,
            secretAccessKey: 'SECRETCANARYrecovery',
            expiration: new Date(clock.now() + LIFETIME),
          })
        },
        down ? 1 : 20,
      )
    })
  }
  const engine = refreshing(source, { clock, random })
  const firstCall = engine()
  await clock.advance(20)
  const first = await firstCall
  let validUntil = first.expiration!.getTime()
  const failuresWhileValid: unknown[] = []
  let recoveredAt: number | undefined
  let longestWaitInAttempts = 0
  // Before the outage nothing can fail: one call a minute (the engine stays in use) until a
  // minute before it, then a caller every 100 ms.
  while (clock.now() < outageFrom - 2 * MINUTE) {
    await clock.advance(MINUTE)
    await engine()
  }
  const end = outageTo + 10 * SECOND
  while (clock.now() < end) {
    await clock.advance(CALLER_EVERY)
    const calledAt = clock.now()
    const callsBefore = sourceCalls.length
    const wasValid = calledAt < validUntil
    void engine().then(
      (c) => {
        longestWaitInAttempts = Math.max(longestWaitInAttempts, sourceCalls.length - callsBefore)
        validUntil = Math.max(validUntil, c.expiration!.getTime())
        // Fresh credentials reach a caller: fetched after the source was back.
        if (recoveredAt === undefined && c.expiration!.getTime() - LIFETIME >= outageTo)
          recoveredAt = clock.now()
      },
      (error: unknown) => {
        longestWaitInAttempts = Math.max(longestWaitInAttempts, sourceCalls.length - callsBefore)
        if (wasValid) failuresWhileValid.push(error)
      },
    )
  }
  engine.close()
  // The credentials held when the outage began, and when they expired.
  const heldExpiry = Math.max(
    ...sourceCalls.filter((t) => t < outageFrom).map((t) => t + 20 + LIFETIME),
    first.expiration!.getTime(),
  )
  const mandatoryFrom = heldExpiry - MINUTE
  const whileValid = sourceCalls.filter((t) => t >= outageFrom && t < mandatoryFrom)
  const whileExpired = sourceCalls.filter((t) => t >= heldExpiry && t < outageTo)
  return {
    recoveryMs: (recoveredAt ?? Number.POSITIVE_INFINITY) - outageTo,
    failuresWhileValid,
    longestWaitInAttempts,
    // Rule 6 at the cap: the back-off delay reaches 60 s at the 7th consecutive failure.
    gapsAtCapWhileValid: whileValid.slice(7).map((t, i) => t - whileValid[i + 6]!),
    busiestMinuteWhileExpired: busiestMinute(whileExpired),
    expiredCallsPerMinute: whileExpired.length / ((outageTo - heldExpiry) / MINUTE),
    pending: clock.pending(),
  }
}

describe('★ rule 8: recovery after expiry in a long outage (virtual time, 50 seeded runs)', () => {
  it('15 min credentials, a 40 min retryable outage, a caller every 100 ms: recovery median ≤ 1.5 s, max ≤ 3.5 s, bounded load', async () => {
    // Act
    const runs = []
    for (let seed = 1; seed <= RUNS; seed++) runs.push(await outageRun(seed))
    // Assess: fresh credentials reach callers within seconds of the source's return.
    const recovery = runs.map((r) => r.recoveryMs)
    expect(median(recovery)).toBeLessThanOrEqual(1_500)
    expect(Math.max(...recovery)).toBeLessThanOrEqual(3_500)
    // While expired and down: at most 30 source calls in any minute (the SDK: one per request).
    for (const r of runs) expect(r.busiestMinuteWhileExpired).toBeLessThanOrEqual(30)
    // While still valid (outside the mandatory window): at the back-off cap at most one call per
    // 30 s (≤ 2 a minute), and no caller fails.
    for (const r of runs) {
      expect(r.failuresWhileValid).toEqual([])
      for (const gap of r.gapsAtCapWhileValid) expect(gap).toBeGreaterThanOrEqual(30 * SECOND)
    }
    // No caller ever waits for more than one source attempt.
    for (const r of runs) expect(r.longestWaitInAttempts).toBeLessThanOrEqual(1)
    for (const r of runs) expect(r.pending).toBe(0)
    console.log(
      `recovery: median ${(median(recovery) / 1000).toFixed(2)} s, max ${(Math.max(...recovery) / 1000).toFixed(2)} s; ` +
        `while expired and down: ${median(runs.map((r) => r.expiredCallsPerMinute)).toFixed(1)} source calls/min (median), ` +
        `busiest minute ${Math.max(...runs.map((r) => r.busiestMinuteWhileExpired))}`,
    )
  })

  it('a non-recoverable failure after expiry stays at the back-off cap: callers get ERR_CREDENTIALS_EXPIRED at once', async () => {
    // Prepare: 15 min credentials, then the agent answers 403 (a broken trust policy).
    const clock = new FakeClock()
    let denied = false
    const calls: number[] = []
    const engine = refreshing(
      async () => {
        calls.push(clock.now())
        if (denied)
          throw new CredentialsError('the agent answered 403: AccessDenied', {
            code: 'ERR_HTTP_STATUS',
            status: 403,
            retryable: false,
          })
        return { accessKeyId: 'ASIADENIED0000000001', expiration: new Date(clock.now() + LIFETIME) }
      },
      { clock, random: mulberry32(7) },
    )
    const held = await engine()
    denied = true
    // Act: a caller every 100 ms for 10 minutes past expiry.
    await clock.advance(held.expiration!.getTime() - clock.now())
    const errors: CredentialsError[] = []
    let waited = 0
    for (let t = 0; t < 10 * MINUTE; t += CALLER_EVERY) {
      await clock.advance(CALLER_EVERY)
      const before = calls.length
      await engine().catch((e: CredentialsError) => errors.push(e))
      if (calls.length > before) waited++
    }
    // Assess: at most one source call per 30 s (the cap), each answered with the expired error.
    const after = calls.filter((t) => t >= held.expiration!.getTime())
    for (let i = 1; i < after.length; i++)
      expect(after[i]! - after[i - 1]!).toBeGreaterThanOrEqual(30 * SECOND)
    expect(after.length).toBeLessThanOrEqual(21)
    expect(errors).toHaveLength(10 * (MINUTE / CALLER_EVERY))
    for (const e of errors) {
      expect(e.code).toBe('ERR_CREDENTIALS_EXPIRED')
      expect((e.cause as CredentialsError).status).toBe(403)
    }
    expect(waited).toBeLessThanOrEqual(after.length)
    engine.close()
  })

  it('inside the mandatory window a waiting caller starts the attempt after a retryable failure, rather than waiting for the timer', async () => {
    // Prepare: 1 h credentials; the source fails from before the refresh point until 20 s into
    // the mandatory window.
    const clock = new FakeClock()
    let down = false
    let n = 0
    const engine = refreshing(
      async () => {
        if (down) throw new CredentialsError('connect ECONNREFUSED 127.0.0.1:80', { code: 'ERR_NETWORK' })
        n++
        return { accessKeyId: `ASIAMANDATORY000000${n}`, expiration: new Date(clock.now() + 60 * MINUTE) }
      },
      { clock, random: mulberry32(8) },
    )
    const held = await engine()
    down = true
    const expiry = held.expiration!.getTime()
    await clock.advance(expiry - 40 * SECOND - clock.now()) // the back-off is at its 60 s cap
    // Act: the source is back; the next caller after the recovery gap gets new credentials.
    down = false
    const timerAt = engine.stats().nextRefreshAt!.getTime()
    clock.sleep(3 * SECOND)
    const got = await engine()
    // Assess: fresh credentials before the back-off timer was due, the caller waited once.
    expect(got).not.toBe(held)
    expect(clock.now()).toBeLessThan(timerAt)
    expect(engine.stats().waits).toBe(2)
    engine.close()
  })
})
