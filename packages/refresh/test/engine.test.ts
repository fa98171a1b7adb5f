import type { AwsCredentialIdentity } from '@podcreds/core'
import { refreshing } from '@podcreds/refresh'
import { describe, expect, it } from 'vitest'
import { FakeClock, settle } from '../../../test/support/fakeClock.js'
import { mulberry32 } from '../../../test/support/random.js'
import { HOUR, MINUTE, ScriptedSource, SECOND } from './helpers.js'

/** A source whose answer the test releases by hand, to hold a source call in flight. */
function deferredSource(clock: FakeClock, lifetimeMs = HOUR) {
  const pending: ((c: AwsCredentialIdentity) => void)[] = []
  let n = 0
  return {
    calls: () => n,
    fn: () => {
      n++
      return new Promise<AwsCredentialIdentity>((resolve) => pending.push(resolve))
    },
    release: () => {
      const resolve = pending.shift()
      if (resolve === undefined) throw new Error('no source call in flight')
      resolve({
        accessKeyId: `ASIADEFERRED${String(n).padStart(8, '0')}`,
        secretAccessKey: 'SECRETCANARYdeferred',
        expiration: new Date(clock.now() + lifetimeMs),
      })
    },
  }
}

describe('rule 1: single flight', () => {
  it('1,000 concurrent first calls cause one source call and share its result', async () => {
    const clock = new FakeClock()
    const source = deferredSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(1) })
    const all = Array.from({ length: 1_000 }, () => engine())
    expect(source.calls()).toBe(1)
    source.release()
    const results = await Promise.all(all)
    expect(new Set(results).size).toBe(1)
    expect(source.calls()).toBe(1)
    expect(engine.stats()).toMatchObject({ calls: 1_000, waits: 1_000, sourceCalls: 1, hits: 0 })
    engine.close()
  })

  it('refresh() joins a source call in flight, and callers join a forced refresh', async () => {
    const clock = new FakeClock()
    const source = deferredSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(2) })
    const first = engine()
    const forced = engine.refresh()
    expect(source.calls()).toBe(1)
    source.release()
    expect(await forced).toBe(await first)
    const again = engine.refresh()
    const caller = engine()
    expect(source.calls()).toBe(2)
    expect(await caller).toBe(await first) // outside the mandatory window: answered from cache
    source.release()
    const renewed = await again
    expect(renewed).not.toBe(await first)
    expect(await engine()).toBe(renewed)
    engine.close()
  })
})

describe('rule 2: advisory and mandatory windows', () => {
  const cases: [string, number, number][] = [
    ['10 min → 5 min', 10 * MINUTE, 5 * MINUTE],
    ['20 min → 5 min', 20 * MINUTE, 5 * MINUTE],
    ['20 min + 1 s → 15 min', 20 * MINUTE + SECOND, 15 * MINUTE],
    ['1 h → 15 min', HOUR, 15 * MINUTE],
    ['89 min → 15 min', 89 * MINUTE, 15 * MINUTE],
    ['90 min → 60 min', 90 * MINUTE, 60 * MINUTE],
    ['12 h → 60 min', 12 * HOUR, 60 * MINUTE],
  ]
  for (const [name, lifetime, window] of cases) {
    it(`chooses the window from the lifetime: ${name}, mandatory 1 min`, async () => {
      const clock = new FakeClock()
      const source = new ScriptedSource(clock)
      source.lifetimeMs = lifetime
      const engine = refreshing(source.fn, { clock, random: mulberry32(3) })
      await engine()
      expect(engine.stats().refreshWindowMs).toBe(window)
      expect(engine.stats().mandatoryWindowMs).toBe(MINUTE)
      engine.close()
    })
  }

  it('lets refreshWindowMs and mandatoryWindowMs override, clamping the window to the lifetime', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, {
      clock,
      random: mulberry32(4),
      refreshWindowMs: 2 * HOUR,
      mandatoryWindowMs: 5 * MINUTE,
    })
    await engine()
    expect(engine.stats().refreshWindowMs).toBe(HOUR)
    expect(engine.stats().mandatoryWindowMs).toBe(5 * MINUTE)
    // Even a window as long as the lifetime never schedules a refresh in the first quarter.
    const next = engine.stats().nextRefreshAt!.getTime()
    expect(next).toBeGreaterThanOrEqual(clock.now() + HOUR / 4)
    engine.close()
  })

  it('waits inside the mandatory window and not one millisecond before it', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(5) })
    const first = await engine()
    const expiry = first.expiration!.getTime()
    clock.sleep(expiry - MINUTE - 1 - clock.now()) // timers stay unfired: the refresh is "late"
    expect(await engine()).toBe(first)
    expect(engine.stats().waits).toBe(1)
    await settle()
    const renewed = await engine() // the late refresh ran in the background meanwhile
    expect(renewed).not.toBe(first)
    engine.close()

    const clock2 = new FakeClock()
    const source2 = new ScriptedSource(clock2)
    const engine2 = refreshing(source2.fn, { clock: clock2, random: mulberry32(5) })
    const held = await engine2()
    clock2.sleep(held.expiration!.getTime() - MINUTE - clock2.now())
    const got = await engine2()
    expect(got).not.toBe(held)
    expect(engine2.stats().waits).toBe(2)
    engine2.close()
  })
})

describe('rule 3: jittered refresh points and phase spreading', () => {
  it('puts the first refresh in [fetch + L/4, expiry − W/2] and later ones in [expiry − W, expiry − W/2]', async () => {
    for (const r of [0, 0.5, 0.999999]) {
      const clock = new FakeClock()
      const source = new ScriptedSource(clock)
      const engine = refreshing(source.fn, { clock, random: () => r })
      const fetchedAt = clock.now()
      await engine()
      const first = engine.stats().nextRefreshAt!.getTime()
      expect(first).toBeGreaterThanOrEqual(fetchedAt + 15 * MINUTE)
      expect(first).toBeLessThanOrEqual(fetchedAt + 52.5 * MINUTE)
      await clock.advance(first - clock.now())
      expect(source.calls).toHaveLength(2)
      const secondFetch = clock.now()
      const next = engine.stats().nextRefreshAt!.getTime()
      expect(next).toBeGreaterThanOrEqual(secondFetch + 45 * MINUTE)
      expect(next).toBeLessThanOrEqual(secondFetch + 52.5 * MINUTE)
      if (r === 0) expect(next).toBe(secondFetch + 45 * MINUTE)
      engine.close()
    }
  })

  it('draws a new point per fetch from the injected random (same seed, same schedule)', async () => {
    const schedule = async (seed: number): Promise<number[]> => {
      const clock = new FakeClock()
      const source = new ScriptedSource(clock)
      const engine = refreshing(source.fn, { clock, random: mulberry32(seed) })
      await engine()
      for (let i = 0; i < 6 * 60; i++) {
        await clock.advance(MINUTE)
        await engine()
      }
      engine.close()
      return source.calls.map((t, i) => t - (source.calls[i - 1] ?? t))
    }
    const a = await schedule(11)
    expect(await schedule(11)).toEqual(a)
    expect(new Set(a.slice(2)).size).toBeGreaterThan(3) // intervals differ: jittered per fetch
  })
})

describe('rule 4: background refresh on an unref-able timer', () => {
  it('never makes a caller wait across 24 h of hourly credentials', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(6) })
    await engine()
    const waitsAfterFirst = engine.stats().waits
    let lastKey = ''
    let keyChanges = 0
    for (let t = 0; t < 24 * HOUR; t += 30 * SECOND) {
      await clock.advance(30 * SECOND)
      const c = await engine()
      expect(c.expiration!.getTime() - clock.now()).toBeGreaterThan(MINUTE)
      if (c.accessKeyId !== lastKey) keyChanges++
      lastKey = c.accessKeyId
    }
    const stats = engine.stats()
    expect(stats.waits).toBe(waitsAfterFirst)
    expect(stats.waits).toBe(1)
    expect(stats.backgroundRefreshes).toBe(stats.sourceCalls - 1)
    expect(stats.sourceCalls).toBeGreaterThanOrEqual(24)
    expect(stats.sourceCalls).toBeLessThanOrEqual(32)
    expect(keyChanges).toBe(stats.sourceCalls)
    expect(clock.keepAliveRequests).toBe(0) // system clock timers are therefore unref'd
    engine.close()
    expect(clock.pending()).toBe(0)
  })

  it('recovers from a late timer (simulated sleep) by re-checking the wall clock', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(7) })
    const first = await engine()
    // The laptop sleeps past the refresh point, still outside the mandatory window.
    clock.sleep(first.expiration!.getTime() - 3 * MINUTE - clock.now())
    await clock.fireDue()
    expect(source.calls).toHaveLength(2)
    expect(engine.stats().backgroundRefreshes).toBe(1)
    const second = await engine()
    expect(second).not.toBe(first)
    // It sleeps past expiry: the next caller waits for one fresh fetch; the stale timer then fires
    // and, seeing a fresh identity, only re-arms.
    clock.sleep(2 * HOUR)
    const third = await engine()
    expect(third).not.toBe(second)
    expect(third.expiration!.getTime()).toBeGreaterThan(clock.now())
    await clock.fireDue()
    expect(source.calls).toHaveLength(3)
    expect(engine.stats().nextRefreshAt!.getTime()).toBeGreaterThan(clock.now())
    engine.close()
  })

  it('re-arms a timer that fires early instead of refreshing', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(8) })
    await engine()
    const due = clock.nextDue()!
    const planned = engine.stats().nextRefreshAt!.getTime()
    expect(due).toBe(planned)
    await clock.advance(planned - clock.now() - 1)
    expect(source.calls).toHaveLength(1)
    await clock.advance(1)
    expect(source.calls).toHaveLength(2)
    engine.close()
  })
})

describe('rule 5: the mandatory window waits on the source call itself', () => {
  it('joins a background refresh in flight and settles when the source does, with no timer', async () => {
    const clock = new FakeClock()
    const source = deferredSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(9) })
    const p = engine()
    source.release()
    const first = await p
    await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
    expect(source.calls()).toBe(2) // background refresh in flight, slow source
    expect(engine.stats().refreshing).toBe(true)
    expect(await engine()).toBe(first) // outside the mandatory window: no wait
    clock.sleep(first.expiration!.getTime() - 30 * SECOND - clock.now())
    const waiting = engine()
    let settled = false
    void waiting.then(() => {
      settled = true
    })
    await settle()
    expect(settled).toBe(false)
    const pendingBefore = clock.pending()
    source.release() // no clock movement: only the source's answer releases the caller
    const got = await waiting
    expect(got).not.toBe(first)
    expect(source.calls()).toBe(2)
    expect(pendingBefore).toBe(0) // nothing was scheduled while the source call was in flight
    expect(engine.stats().waits).toBe(2)
    engine.close()
  })
})

describe('rule 12: invalidate()', () => {
  it('forces a waiting refresh when the key matches, ignores another key, and accepts no key', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(10) })
    const a = await engine()
    engine.invalidate('ASIASOMETHINGELSE0000')
    expect(await engine()).toBe(a)
    engine.invalidate(a.accessKeyId)
    const b = await engine()
    expect(b).not.toBe(a)
    expect(engine.stats().waits).toBe(2)
    engine.invalidate()
    const c = await engine()
    expect(c).not.toBe(b)
    expect(engine.stats().waits).toBe(3)
    expect(await engine()).toBe(c)
    engine.close()
  })

  it('uses keyOf for identities that are not AWS credentials', async () => {
    const clock = new FakeClock()
    let n = 0
    const engine = refreshing(
      async () => ({ token: `tok-${++n}`, expiration: new Date(clock.now() + HOUR) }),
      {
        clock,
        random: mulberry32(12),
        keyOf: (t) => t.token,
      },
    )
    expect((await engine()).token).toBe('tok-1')
    engine.invalidate('tok-0')
    expect((await engine()).token).toBe('tok-1')
    engine.invalidate('tok-1')
    expect((await engine()).token).toBe('tok-2')
    engine.close()
  })
})

describe('rule 15: the hot path', () => {
  it('returns the same already-resolved promise after one clock read', async () => {
    const inner = new FakeClock()
    let reads = 0
    const clock = {
      now: () => {
        reads++
        return inner.now()
      },
      setTimeout: inner.setTimeout.bind(inner),
      clearTimeout: inner.clearTimeout.bind(inner),
    }
    const source = new ScriptedSource(inner)
    const engine = refreshing(source.fn, { clock, random: mulberry32(13) })
    await engine()
    const p1 = engine()
    reads = 0
    const p2 = engine()
    expect(reads).toBe(1)
    expect(p2).toBe(p1)
    expect(await p2).toBe(source.last)
    engine.close()
  })

  it('passes the caller identity properties to the source', async () => {
    const clock = new FakeClock()
    const seen: unknown[] = []
    const engine = refreshing(
      async (props?: Record<string, unknown>) => {
        seen.push(props)
        return {
          accessKeyId: 'ASIAPROPS0000000001',
          secretAccessKey: 'x',
          expiration: new Date(clock.now() + HOUR),
        }
      },
      { clock, random: mulberry32(14) },
    )
    const props = { callerClientConfig: { region: 'eu-west-1' } }
    await engine(props)
    expect(seen).toEqual([props])
    engine.close()
  })
})
