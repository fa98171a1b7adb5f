import type { RefreshingProvider } from '@podcreds/refresh'
import { refreshing } from '@podcreds/refresh'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../test/support/fakeClock.js'
import { mulberry32 } from '../../../test/support/random.js'
import { HOUR, MINUTE, SECOND } from './helpers.js'

const PODS = 1_000

describe('fleet behaviour (rule 3, statistical, fixed seed)', () => {
  it('spreads the first refresh of 1,000 engines started together over at least 25 minutes', async () => {
    // Prepare: 1,000 engines, one shared virtual clock, 1 h credentials, all fetched at t0.
    const clock = new FakeClock()
    const random = mulberry32(0x5eed)
    const t0 = clock.now()
    const second: number[] = []
    const engines: RefreshingProvider<{ accessKeyId: string; expiration: Date }>[] = []
    for (let i = 0; i < PODS; i++) {
      let n = 0
      const source = async () => {
        n++
        if (n === 2) second.push(clock.now())
        return { accessKeyId: `ASIAPOD${i}N${n}`, expiration: new Date(clock.now() + HOUR) }
      }
      const engine = refreshing(source, { clock, random })
      engines.push(engine)
      await engine()
    }
    // Act: let the first hour run (calls keep the engines in use).
    for (let t = 0; t < HOUR; t += MINUTE) {
      await clock.advance(MINUTE)
      for (const e of engines) void e()
    }
    // Assess: every engine refreshed once, inside [t0 + 15 min, t0 + 52.5 min], spread ≥ 25 min,
    // and close to uniform (no 5-minute bucket far above its share).
    expect(second).toHaveLength(PODS)
    const offsets = second.map((t) => t - t0)
    const min = Math.min(...offsets)
    const max = Math.max(...offsets)
    expect(min).toBeGreaterThanOrEqual(15 * MINUTE)
    expect(max).toBeLessThanOrEqual(52.5 * MINUTE)
    expect(max - min).toBeGreaterThanOrEqual(25 * MINUTE)
    const buckets = new Array<number>(8).fill(0)
    for (const o of offsets) buckets[Math.min(7, Math.floor((o - 15 * MINUTE) / ((37.5 * MINUTE) / 8)))]!++
    for (const b of buckets) expect(b).toBeLessThan((PODS / 8) * 1.4)
    for (const b of buckets) expect(b).toBeGreaterThan((PODS / 8) * 0.6)
    for (const e of engines) e.close()
    expect(clock.pending()).toBe(0)
  })

  it('keeps a 1,000-pod fleet under 50 source calls a minute for 12 h, herd ≤ 2.5, ≤ 1.3 calls per pod-hour', async () => {
    // Prepare: pods start within 30 s of each other (a rollout), each calls its provider every 10 s.
    const clock = new FakeClock()
    const random = mulberry32(42)
    const t0 = clock.now()
    const sourceCallTimes: number[] = []
    const engines: RefreshingProvider<{ accessKeyId: string; expiration: Date }>[] = []
    let minted = 0
    const source = async () => {
      sourceCallTimes.push(clock.now())
      minted++
      return { accessKeyId: `ASIAFLEET${minted}`, expiration: new Date(clock.now() + HOUR) }
    }
    const failures: unknown[] = []
    for (let i = 0; i < PODS; i++) {
      clock.setTimeout(
        () => {
          const engine = refreshing(source, { clock, random })
          engines.push(engine)
          engine().catch((e: unknown) => failures.push(e))
        },
        random() * 30 * SECOND,
      )
    }
    // Act: 12 simulated hours, every pod calling every 10 s.
    const duration = 12 * HOUR
    for (let t = 0; t < duration; t += 10 * SECOND) {
      await clock.advance(10 * SECOND)
      for (const e of engines) e().catch((err: unknown) => failures.push(err))
    }
    // Assess
    const perMinute = new Array<number>(duration / MINUTE).fill(0)
    for (const t of sourceCallTimes) {
      const m = Math.floor((t - t0) / MINUTE)
      if (m < perMinute.length) perMinute[m]!++
    }
    const fromHour2 = perMinute.slice(60)
    const peak = Math.max(...fromHour2)
    const mean = fromHour2.reduce((a, b) => a + b, 0) / fromHour2.length
    const afterStart = perMinute.slice(1) // minute 0 holds the 1,000 initial fetches
    // Source calls per pod-hour: the steady rate from the second hour (as the herd factor), and
    // over all 12 h counting refreshes only (the first fetch of each pod is not a refresh).
    const perPodHour = fromHour2.reduce((a, b) => a + b, 0) / PODS / 11
    const refreshesPerPodHour = (sourceCallTimes.length - PODS) / PODS / 12
    expect(failures).toEqual([])
    expect(Math.max(...afterStart)).toBeLessThanOrEqual(50)
    expect(peak / mean).toBeLessThanOrEqual(2.5)
    expect(perPodHour).toBeLessThanOrEqual(1.3)
    expect(refreshesPerPodHour).toBeLessThanOrEqual(1.3)
    expect(engines.reduce((n, e) => n + e.stats().waits, 0)).toBe(PODS) // only the first calls waited
    for (const e of engines) e.close()
    expect(clock.pending()).toBe(0)
    console.log(
      `fleet: ${sourceCallTimes.length} source calls, peak ${Math.max(...afterStart)}/min, herd ${(peak / mean).toFixed(2)}, ${perPodHour.toFixed(3)} calls/pod-hour from hour 2, ${refreshesPerPodHour.toFixed(3)} refreshes/pod-hour`,
    )
  })
})
