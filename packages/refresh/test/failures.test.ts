import type { AwsCredentialIdentity } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import { refreshing } from '@podcreds/refresh'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../test/support/fakeClock.js'
import { mulberry32 } from '../../../test/support/random.js'
import { HOUR, MINUTE, outcome, ScriptedSource, SECOND } from './helpers.js'

function gaps(times: number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!)
}

describe('rule 6: exponential back-off with equal jitter while the credentials stay valid', () => {
  it('spaces failed source calls in [d/2, d], d = min(maxBackoffMs, 1 s · 2ⁿ)', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(21), maxBackoffMs: 20 * SECOND })
    const creds = await engine()
    source.answer = 'error'
    await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
    const failedFrom = source.calls.length - 1
    await clock.advance(5 * MINUTE)
    const intervals = gaps(source.calls.slice(failedFrom))
    expect(intervals.length).toBeGreaterThan(10)
    intervals.forEach((gap, n) => {
      const d = Math.min(20 * SECOND, SECOND * 2 ** n)
      expect(gap).toBeGreaterThanOrEqual(Math.floor(d / 2))
      expect(gap).toBeLessThanOrEqual(Math.ceil(d))
    })
    expect(await engine()).toBe(creds) // still valid: served throughout
    expect(engine.stats().failures).toBe(source.calls.length - 1)
    engine.close()
  })
})

describe('a 30-minute source outage with 1 h credentials', () => {
  it('fails no caller while valid, bounds the load, and recovers within seconds once expired (rule 8)', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const maxBackoffMs = 60 * SECOND
    const engine = refreshing(source.fn, { clock, random: mulberry32(22), maxBackoffMs })
    await engine()
    // Let the first background refresh happen, then take the source down just before the next.
    await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
    const held = await engine()
    const expiry = held.expiration!.getTime()
    await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now() - SECOND)
    source.answer = 'error'
    const outageStart = clock.now()
    const outageEnd = outageStart + 30 * MINUTE
    const failedWhileValid: unknown[] = []
    const expiredErrors: CredentialsError[] = []
    while (clock.now() < outageEnd) {
      await clock.advance(5 * SECOND)
      const sourceCallsBefore = source.calls.length
      const got = await outcome(engine())
      // A caller never waits longer than one source attempt (rule 8).
      expect(source.calls.length - sourceCallsBefore).toBeLessThanOrEqual(1)
      if (got.error === undefined) {
        expect(got.value).toBe(held)
        expect(clock.now()).toBeLessThan(expiry)
      } else if (clock.now() < expiry) failedWhileValid.push(got.error)
      else expiredErrors.push(got.error as CredentialsError)
    }
    expect(failedWhileValid).toEqual([])
    // The refresh point lies 7.5–15 min before expiry, so these credentials expire mid-outage:
    // afterwards callers get ERR_CREDENTIALS_EXPIRED with the source's error as cause.
    expect(expiredErrors.length).toBeGreaterThan(0)
    for (const e of expiredErrors) {
      expect(e.code).toBe('ERR_CREDENTIALS_EXPIRED')
      expect((e.cause as CredentialsError).code).toBe('ERR_NETWORK')
    }
    // Load while valid (rules 6, 7): once the back-off is at its cap, at most one source call per
    // maxBackoffMs/2, outside the mandatory window.
    const whileValid = source.calls.filter((t) => t >= outageStart && t < expiry - MINUTE)
    const atCap = gaps(whileValid).slice(7)
    expect(atCap.length).toBeGreaterThan(5)
    for (const gap of atCap) expect(gap).toBeGreaterThanOrEqual(maxBackoffMs / 2)
    // Load once expired (rule 8): callers start attempts themselves, at least 2 s apart (≤ 30 a
    // minute); with a caller every 5 s that is about one attempt per caller.
    const whileExpired = source.calls.filter((t) => t >= expiry && t < outageEnd)
    expect(whileExpired.length).toBeGreaterThan(expiredErrors.length / 2)
    for (const gap of gaps(whileExpired)) expect(gap).toBeGreaterThanOrEqual(2 * SECOND)
    // Recovery: the source comes back; the next caller (5 s later) gets new credentials.
    source.answer = 'fresh'
    await clock.advance(5 * SECOND)
    const after = await engine()
    expect(after).not.toBe(held)
    expect(after.expiration!.getTime()).toBeGreaterThan(clock.now() + 50 * MINUTE)
    expect(engine.stats().lastError?.code).toBe('ERR_NETWORK')
    engine.close()
    expect(clock.pending()).toBe(0)
  })
})

describe('rule 7: non-recoverable errors while the credentials are valid', () => {
  it('keeps serving, reports, retries at the back-off cap, and raises only in the mandatory window', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const events: string[] = []
    const engine = refreshing(source.fn, {
      clock,
      random: mulberry32(23),
      maxBackoffMs: 40 * SECOND,
      onEvent: (e) => {
        if (e.type === 'failure') events.push(`${e.error?.code}:${e.error?.retryable}`)
      },
    })
    const held = await engine()
    source.answer = 'nonRecoverable'
    await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
    const from = source.calls.length - 1
    const expiry = held.expiration!.getTime()
    while (clock.now() < expiry - MINUTE - 10 * SECOND) {
      await clock.advance(10 * SECOND)
      expect(await engine()).toBe(held)
    }
    for (const gap of gaps(source.calls.slice(from))) {
      expect(gap).toBeGreaterThanOrEqual(20 * SECOND)
      expect(gap).toBeLessThanOrEqual(40 * SECOND)
    }
    expect(events.length).toBeGreaterThan(5)
    expect(new Set(events)).toEqual(new Set(['ERR_HTTP_STATUS:false']))
    expect(engine.stats().lastError).toMatchObject({ code: 'ERR_HTTP_STATUS', status: 403, retryable: false })
    // Mandatory window: the error is raised.
    await clock.advance(expiry - 30 * SECOND - clock.now())
    const got = await outcome(engine())
    expect((got.error as CredentialsError).status).toBe(403)
    engine.close()
  })
})

describe('rule 8: expired credentials and a dead source', () => {
  it('raises ERR_CREDENTIALS_EXPIRED at once during the back-off, by default', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(24) })
    const held = await engine()
    source.answer = 'error'
    clock.sleep(held.expiration!.getTime() + SECOND - clock.now())
    const first = await outcome(engine()) // one source attempt, waited for
    expect((first.error as CredentialsError).code).toBe('ERR_CREDENTIALS_EXPIRED')
    expect((first.error as CredentialsError).cause).toBeInstanceOf(CredentialsError)
    const calls = source.calls.length
    const waits = engine.stats().waits
    const second = await outcome(engine())
    expect((second.error as CredentialsError).code).toBe('ERR_CREDENTIALS_EXPIRED')
    expect(source.calls.length).toBe(calls)
    expect(engine.stats().waits).toBe(waits)
    expect(engine.stats().servedStale).toBe(0)
    engine.close()
  })

  it('serves expired credentials for maxStalenessMs when allowed, counting them and emitting stale', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const types: string[] = []
    const engine = refreshing(source.fn, {
      clock,
      random: mulberry32(25),
      maxStalenessMs: 5 * MINUTE,
      onEvent: (e) => types.push(e.type),
    })
    const held = await engine()
    source.answer = 'error'
    clock.sleep(held.expiration!.getTime() + SECOND - clock.now())
    expect(await engine()).toBe(held) // waited for one attempt, got the stale credentials
    expect(await engine()).toBe(held) // during the back-off: at once
    expect(engine.stats().servedStale).toBe(2)
    expect(types).toContain('stale')
    await clock.advance(5 * MINUTE)
    const late = await outcome(engine())
    expect((late.error as CredentialsError).code).toBe('ERR_CREDENTIALS_EXPIRED')
    engine.close()
  })
})

describe('rule 9: initial failure', () => {
  it('raises the source error and caches it for a jittered 1–5 s', async () => {
    for (const [r, cachedFor] of [
      [0, 1_000],
      [0.999_999, 5_000],
    ] as const) {
      const clock = new FakeClock()
      const source = new ScriptedSource(clock)
      source.answer = 'error'
      const engine = refreshing(source.fn, { clock, random: () => r })
      const a = await outcome(engine())
      expect((a.error as CredentialsError).code).toBe('ERR_NETWORK')
      await clock.advance(cachedFor - 1)
      const b = await outcome(engine())
      expect(b.error).toBe(a.error)
      expect(source.calls).toHaveLength(1)
      expect(clock.pending()).toBe(0) // no timer: the next caller retries
      await clock.advance(1)
      source.answer = 'fresh'
      const c = await outcome(engine())
      expect(c.value).toBe(source.last)
      expect(source.calls).toHaveLength(2)
      engine.close()
    }
  })

  it('treats a source that throws synchronously, or returns no object, as a failure', async () => {
    const clock = new FakeClock()
    const engine = refreshing(
      (() => {
        throw new TypeError('boom')
      }) as () => Promise<{ expiration?: Date }>,
      { clock },
    )
    const got = await outcome(engine())
    expect(got.error).toBeInstanceOf(TypeError)
    const engine2 = refreshing(async () => null as unknown as { expiration?: Date }, { clock })
    const got2 = await outcome(engine2())
    expect((got2.error as CredentialsError).code).toBe('ERR_RESPONSE_INVALID')
    const engine3 = refreshing(async () => ({ expiration: new Date(Number.NaN) }), { clock })
    expect(((await outcome(engine3())).error as CredentialsError).code).toBe('ERR_RESPONSE_INVALID')
  })
})

describe('rule 10: the source answers with the same credentials', () => {
  it('keeps them, counts unchanged, and makes a handful of calls, never a loop', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    source.answer = 'same'
    const engine = refreshing(source.fn, { clock, random: mulberry32(26) })
    const held = await engine()
    const expiry = held.expiration!.getTime()
    while (clock.now() < expiry - MINUTE - 5 * SECOND) {
      await clock.advance(5 * SECOND)
      expect(await engine()).toBe(held)
    }
    const stats = engine.stats()
    expect(stats.unchanged).toBe(stats.sourceCalls - 1)
    expect(stats.unchanged).toBeGreaterThan(1)
    expect(stats.sourceCalls).toBeLessThanOrEqual(12)
    expect(stats.waits).toBe(1)
    expect(stats.failures).toBe(0)
    engine.close()
  })

  it('past the latest refresh point, calls thin out towards the mandatory window (an agent that renews late)', async () => {
    // Prepare: 6 h credentials from an agent that hands out the same set until 15 min before
    // their expiry (a harsh agent; EKS Pod Identity renews every ~3 h).
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    source.lifetimeMs = 6 * HOUR
    source.answer = 'same'
    const engine = refreshing(source.fn, { clock, random: mulberry32(30) })
    const held = await engine()
    const expiry = held.expiration!.getTime()
    const latestPoint = expiry - 30 * MINUTE // W = 60 min for 6 h credentials; expiry − W/2
    // Act: a caller every 10 s; the agent renews at expiry − 15 min.
    let renewed: AwsCredentialIdentity | undefined
    while (renewed === undefined) {
      await clock.advance(10 * SECOND)
      if (clock.now() >= expiry - 15 * MINUTE) source.answer = 'fresh'
      const got = await engine()
      if (got !== held) renewed = got
    }
    // Assess: from the latest refresh point to the renewal (15 min), a few calls that come closer
    // together (halfway to the mandatory window each time), not one every 30–60 s.
    const late = source.calls.filter((t) => t >= latestPoint)
    expect(late.length).toBeGreaterThanOrEqual(2)
    expect(late.length).toBeLessThanOrEqual(4)
    const gaps = late.slice(1).map((t, i) => t - late[i]!)
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeLessThan(gaps[i - 1]!)
    // Picked up well before the mandatory window, in the background: nobody waited.
    expect(renewed.expiration!.getTime()).toBeGreaterThan(expiry)
    expect(clock.now()).toBeLessThan(expiry - 5 * MINUTE)
    expect(engine.stats().waits).toBe(1)
    expect(engine.stats().failures).toBe(0)
    engine.close()
  })

  it('a month-long set answered again is asked about within the 7-day scheduling horizon', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    source.lifetimeMs = 30 * 24 * HOUR
    source.answer = 'same'
    const engine = refreshing(source.fn, { clock, random: mulberry32(32) })
    await engine()
    await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
    expect(engine.stats().unchanged).toBe(1)
    expect(engine.stats().nextRefreshAt!.getTime() - clock.now()).toBeLessThanOrEqual(7 * 24 * HOUR)
    engine.close()
  })

  it('picks up new credentials once the agent renews them', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    source.answer = 'same'
    const engine = refreshing(source.fn, { clock, random: mulberry32(27) })
    const held = await engine()
    await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
    await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
    expect(engine.stats().unchanged).toBe(2)
    source.answer = 'fresh'
    await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
    const renewed = await engine()
    expect(renewed).not.toBe(held)
    expect(engine.stats().waits).toBe(1)
    // A normal schedule again: the next refresh is in [expiry − W, expiry − W/2].
    const next = engine.stats().nextRefreshAt!.getTime()
    expect(next).toBeGreaterThanOrEqual(renewed.expiration!.getTime() - 15 * MINUTE)
    engine.close()
  })
})

describe('rule 12 during a rule-10 back-off', () => {
  it('invalidating the held key asks the source at once, and only once per key', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    source.answer = 'same'
    const engine = refreshing(source.fn, { clock, random: mulberry32(28) })
    const held = await engine()
    await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
    expect(engine.stats().unchanged).toBe(1)
    const callsBefore = source.calls.length

    // AWS rejected the key; the agent still has the same set: one call, which answers "unchanged".
    engine.invalidate(held.accessKeyId)
    expect(await engine()).toBe(held)
    expect(source.calls.length).toBe(callsBefore + 1)
    // A second invalidation of the same key inside the back-off does not hammer the source.
    engine.invalidate(held.accessKeyId)
    expect(await engine()).toBe(held)
    expect(source.calls.length).toBe(callsBefore + 1)

    // Once the agent has a new set, an invalidation picks it up on the next call.
    source.answer = 'fresh'
    const other = refreshing(source.fn, { clock, random: mulberry32(29) })
    const first = await other()
    source.answer = 'same'
    await clock.advance(other.stats().nextRefreshAt!.getTime() - clock.now())
    source.answer = 'fresh'
    other.invalidate(first.accessKeyId)
    const renewed = await other()
    expect(renewed.accessKeyId).not.toBe(first.accessKeyId)
    engine.close()
    other.close()
  })
})

describe('rule 12 with rule 10: a rejected key the source answers again', () => {
  it('is asked about again a few times on the back-off, with no caller waiting, then on the rule-10 schedule', async () => {
    // Prepare: 6 h credentials; an hour in, AWS rejects the key, and the agent still has it.
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    source.lifetimeMs = 6 * HOUR
    source.answer = 'same'
    const engine = refreshing(source.fn, { clock, random: mulberry32(31) })
    const held = await engine()
    await clock.advance(HOUR)
    // Act: the rejection; the next call asks the source (and waits, once).
    engine.invalidate(held.accessKeyId)
    expect(await engine()).toBe(held)
    const invalidatedAt = clock.now()
    // Assess: the next attempt is one back-off away (≤ 60 s), not halfway to a point hours away.
    expect(engine.stats().unchanged).toBe(1)
    expect(engine.stats().nextRefreshAt!.getTime() - clock.now()).toBeLessThanOrEqual(60 * SECOND)
    // Act: an hour of callers every 10 s, each rejected by AWS again (the SDK plugin invalidates).
    for (let t = 0; t < HOUR; t += 10 * SECOND) {
      await clock.advance(10 * SECOND)
      const got = await engine()
      engine.invalidate(got.accessKeyId)
    }
    // Assess: a handful of source calls (a few quick retries, then the rule-10 schedule), and
    // nobody waited after the one call that followed the rejection.
    const inHour = source.calls.filter((t) => t > invalidatedAt).length
    expect(inHour).toBeGreaterThanOrEqual(3)
    expect(inHour).toBeLessThanOrEqual(10)
    expect(engine.stats().waits).toBe(2)
    // Once the agent has a new set, the engine fetches it at its next attempt, in the background.
    source.answer = 'fresh'
    await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
    const renewed = await engine()
    expect(renewed.accessKeyId).not.toBe(held.accessKeyId)
    expect(engine.stats().waits).toBe(2)
    engine.close()
  })
})

describe('rule 11: already-expired credentials from the source', () => {
  it('count as a failed refresh, on the first fetch too', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    source.answer = 'stale'
    const engine = refreshing(source.fn, { clock, random: mulberry32(28) })
    const got = await outcome(engine())
    expect((got.error as CredentialsError).code).toBe('ERR_CREDENTIALS_EXPIRED')
    expect(engine.stats().failures).toBe(1)
    source.answer = 'fresh'
    await clock.advance(5 * SECOND)
    const held = await engine()
    source.answer = 'stale'
    await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
    expect(await engine()).toBe(held)
    expect(engine.stats().failures).toBe(2)
    expect(engine.stats().lastError?.code).toBe('ERR_CREDENTIALS_EXPIRED')
    engine.close()
  })
})

describe('identities without expiration', () => {
  it('are cached until invalidate(), with no timer', async () => {
    const clock = new FakeClock()
    let n = 0
    // Typed as the SDK's identity (expiration optional): static keys, e.g. from the environment.
    const staticKeys = async (): Promise<AwsCredentialIdentity> => ({
      accessKeyId: `AKIASTATIC${++n}`,
      secretAccessKey: 's',
    })
    const engine = refreshing(staticKeys, { clock })
    const a = await engine()
    expect(clock.pending()).toBe(0)
    await clock.advance(48 * HOUR)
    expect(await engine()).toBe(a)
    expect(engine.stats().nextRefreshAt).toBeUndefined()
    engine.invalidate(a.accessKeyId)
    expect(await engine()).not.toBe(a)
    expect(n).toBe(2)
    expect(clock.pending()).toBe(0)
  })
})

describe('a keyOf that throws', () => {
  it('fails that call and leaves the engine usable', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    let broken = true
    const engine = refreshing(source.fn, {
      clock,
      keyOf: (c) => {
        if (broken) throw new Error('keyOf bug')
        return c.accessKeyId
      },
    })
    const first = await outcome(engine())
    expect((first.error as Error).message).toBe('keyOf bug')
    expect(engine.stats().refreshing).toBe(false)
    broken = false
    await clock.advance(5 * SECOND)
    expect((await engine()).accessKeyId).toBe(source.last?.accessKeyId)
    engine.close()
  })
})

describe('errors of the first fetch pass through unchanged', () => {
  it('keeps tryNextLink, so an engine nested in an AWS SDK chain lets the chain move on', async () => {
    const clock = new FakeClock()
    const notHere = new CredentialsError('no container credentials endpoint configured', {
      code: 'ERR_NOT_CONFIGURED',
    })
    const engine = refreshing(
      async (): Promise<AwsCredentialIdentity> => {
        throw notHere
      },
      { clock },
    )
    const got = await outcome(engine())
    expect(got.error).toBe(notHere)
    expect((got.error as CredentialsError).tryNextLink).toBe(true)
    expect(clock.pending()).toBe(0)
  })
})
