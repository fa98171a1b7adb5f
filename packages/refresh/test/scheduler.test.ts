import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import type { AwsCredentialIdentity } from '@podcreds/core'
import type { RefreshingProvider } from '@podcreds/refresh'
import { refreshing } from '@podcreds/refresh'
import { describe, expect, it } from 'vitest'
import { FakeClock, settle } from '../../../test/support/fakeClock.js'
import { mulberry32 } from '../../../test/support/random.js'
import { HOUR, MINUTE, ScriptedSource } from './helpers.js'

type Provider = RefreshingProvider<AwsCredentialIdentity>

/** `n` engines on `clock`, each with its own scripted source, all fetched once. */
async function fleet(clock: FakeClock, n: number, seed: number) {
  const random = mulberry32(seed)
  const sources = Array.from({ length: n }, () => new ScriptedSource(clock))
  const engines: Provider[] = sources.map((s) => refreshing(s.fn, { clock, random }))
  await Promise.all(engines.map((e) => e()))
  return { sources, engines }
}

/** An injected clock that throws from the next `setTimeout` after `failNext` is set. */
class FlakyClock extends FakeClock {
  failNext = false
  override setTimeout(fn: () => void, ms: number): unknown {
    if (this.failNext) {
      this.failNext = false
      throw new Error('clock broke')
    }
    return super.setTimeout(fn, ms)
  }
}

const plannedAt = (e: Provider): number => e.stats().nextRefreshAt!.getTime()

describe('the timers of many engines on one clock (one scheduler per clock)', () => {
  it('share one clock timer, set for the earliest refresh point, and refresh each at its own point', async () => {
    // Prepare
    const clock = new FakeClock()
    const { sources, engines } = await fleet(clock, 50, 61)
    const planned = engines.map(plannedAt)
    const t0 = clock.now()
    // Assess: one timer for all 50, due at the earliest point.
    expect(clock.pending()).toBe(1)
    expect(clock.nextDue()).toBe(Math.min(...planned))
    // Act: an hour in one-minute steps, every engine called (so none goes idle).
    const order: number[] = []
    for (let t = 0; t < HOUR; t += MINUTE) {
      const before = sources.map((s) => s.calls.length)
      await clock.advance(MINUTE)
      const ran = sources.map((s, i) => (s.calls.length > before[i]! ? i : -1)).filter((i) => i >= 0)
      ran.sort((a, b) => sources[a]!.calls[1]! - sources[b]!.calls[1]!)
      order.push(...ran)
      await Promise.all(engines.map((e) => e()))
    }
    // Assess: every engine's second source call came exactly at its own planned point, in the
    // order of those points, in the background, and nobody waited.
    for (const [i, s] of sources.entries()) {
      expect(s.calls[1]).toBe(planned[i])
      expect(s.calls[1]).toBeGreaterThan(t0)
    }
    expect(order).toEqual([...planned.keys()].sort((a, b) => planned[a]! - planned[b]!))
    for (const e of engines) {
      expect(e.stats().backgroundRefreshes).toBe(1)
      expect(e.stats().waits).toBe(1)
    }
    expect(clock.pending()).toBe(1)
    expect(clock.nextDue()).toBe(Math.min(...engines.map(plannedAt)))
    for (const e of engines) e.close()
    expect(clock.pending()).toBe(0)
  })

  it('forgets a closed engine: the timer moves to the next point, and none is left when all close', async () => {
    // Prepare
    const clock = new FakeClock()
    const { sources, engines } = await fleet(clock, 20, 62)
    const byPoint = [...engines.keys()].sort((a, b) => plannedAt(engines[a]!) - plannedAt(engines[b]!))
    const [first, second] = byPoint as [number, number]
    // Act: close the engine due first, then every other one.
    engines[first]!.close()
    // Assess
    expect(clock.pending()).toBe(1)
    expect(clock.nextDue()).toBe(plannedAt(engines[second]!))
    const closed = new Set([first, ...byPoint.filter((_, k) => k % 2 === 1)])
    for (const i of closed) engines[i]!.close()
    await clock.advance(55 * MINUTE)
    for (const [i, s] of sources.entries()) expect(s.calls).toHaveLength(closed.has(i) ? 1 : 2)
    for (const e of engines) e.close()
    expect(clock.pending()).toBe(0)
    await clock.advance(2 * HOUR)
    for (const s of sources) expect(s.calls.length).toBeLessThanOrEqual(2)
  })

  it('runs every engine whose point has passed on the wall clock when the timer fires after a jump', async () => {
    // Prepare
    const clock = new FakeClock()
    const { sources, engines } = await fleet(clock, 10, 63)
    const planned = engines.map(plannedAt)
    const sorted = [...planned].sort((a, b) => a - b)
    const earliest = sorted[0]!
    // Act: the wall clock steps forward (NTP) past the first four points; the timer still fires
    // after its monotonic delay.
    const wait = earliest - clock.now()
    const jump = sorted[3]! - earliest
    clock.jump(jump)
    await clock.advance(wait)
    // Assess: the four engines whose points the wall clock has passed refreshed together.
    const now = clock.now()
    const refreshed = sources.filter((s) => s.calls.length === 2)
    expect(refreshed).toHaveLength(4)
    for (const s of refreshed) expect(s.calls[1]).toBe(now)
    for (const e of engines) e.close()
  })

  it('runs nothing when the timer fires early on the wall clock (a backward jump), and re-arms', async () => {
    // Prepare
    const clock = new FakeClock()
    const { sources, engines } = await fleet(clock, 10, 64)
    const earliest = Math.min(...engines.map(plannedAt))
    const wait = earliest - clock.now()
    // Act: the wall clock steps back 5 minutes; the timer fires after its delay all the same.
    clock.jump(-5 * MINUTE)
    await clock.advance(wait)
    // Assess: nothing refreshed, and the one timer now waits for the earliest point on the wall clock.
    for (const s of sources) expect(s.calls).toHaveLength(1)
    expect(clock.pending()).toBe(1)
    expect(clock.nextDue()).toBe(earliest)
    await clock.advance(earliest - clock.now())
    expect(sources.filter((s) => s.calls.length === 2)).toHaveLength(1)
    for (const e of engines) e.close()
  })

  it('refreshes every engine at once after a sleep past all their points', async () => {
    // Prepare
    const clock = new FakeClock()
    const { sources, engines } = await fleet(clock, 10, 65)
    const latest = Math.max(...engines.map(plannedAt))
    // Act: the laptop sleeps past every refresh point (still before the mandatory windows).
    clock.sleep(latest - clock.now())
    await clock.fireDue()
    // Assess
    for (const s of sources) expect(s.calls).toEqual([s.calls[0], clock.now()])
    for (const [i, e] of engines.entries()) expect(await e()).toBe(sources[i]!.last)
    for (const e of engines) e.close()
  })

  it('keeps the engines of different clocks apart', async () => {
    // Prepare
    const a = new FakeClock()
    const b = new FakeClock()
    const onA = await fleet(a, 5, 66)
    const onB = await fleet(b, 5, 67)
    // Assess: a timer on each clock, each for its own engines.
    expect(a.pending()).toBe(1)
    expect(b.pending()).toBe(1)
    expect(a.nextDue()).toBe(Math.min(...onA.engines.map(plannedAt)))
    expect(b.nextDue()).toBe(Math.min(...onB.engines.map(plannedAt)))
    // Act: only clock a moves.
    await a.advance(HOUR)
    // Assess
    for (const s of onA.sources) expect(s.calls.length).toBeGreaterThanOrEqual(2)
    for (const s of onB.sources) expect(s.calls).toHaveLength(1)
    for (const e of onA.engines) e.close()
    expect(a.pending()).toBe(0)
    expect(b.pending()).toBe(1)
    for (const e of onB.engines) e.close()
    expect(b.pending()).toBe(0)
  })

  it('lets an idle engine stop while the ones in use go on', async () => {
    // Prepare
    const clock = new FakeClock()
    const { sources, engines } = await fleet(clock, 3, 68)
    const [idle, ...used] = engines as [Provider, Provider, Provider]
    // Act: six hours; the idle engine is never called again.
    for (let t = 0; t < 6 * HOUR; t += MINUTE) {
      await clock.advance(MINUTE)
      await Promise.all(used.map((e) => e()))
    }
    // Assess: it stopped after two lifetimes without a call; the others kept refreshing.
    const idleCalls = sources[0]!.calls.length
    expect(idleCalls).toBeLessThanOrEqual(5)
    expect(idle.stats().nextRefreshAt).toBeUndefined()
    for (const s of sources.slice(1)) expect(s.calls.length).toBeGreaterThanOrEqual(6)
    expect(clock.pending()).toBe(1)
    await clock.advance(6 * HOUR)
    expect(sources[0]!.calls).toHaveLength(idleCalls)
    for (const e of engines) e.close()
    expect(clock.pending()).toBe(0)
  })

  it('holds an engine only while its timer is armed', async () => {
    // Prepare: a gc function without starting the process with --expose-gc. An engine is not
    // reachable from the test; its source is, and lives exactly as long as the engine.
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const clock = new FakeClock()
    const kept = await fleet(clock, 1, 69)
    const refs: WeakRef<ScriptedSource>[] = []
    await (async () => {
      const { sources, engines } = await fleet(clock, 10, 70)
      for (const s of sources) refs.push(new WeakRef(s))
      // Act: close half of them; drop the others while their timers are armed.
      for (const e of engines.slice(0, 5)) e.close()
    })()
    await settle()
    gc()
    // Assess: the closed ones are gone; the armed ones stay, as a pending timer held its engine.
    expect(refs.slice(0, 5).every((r) => r.deref() === undefined)).toBe(true)
    expect(refs.slice(5).every((r) => r.deref() !== undefined)).toBe(true)
    // Never called again, they stop after two lifetimes, and then nothing holds them.
    await clock.advance(6 * HOUR)
    await settle()
    gc()
    expect(refs.every((r) => r.deref() === undefined)).toBe(true)
    expect(clock.pending()).toBe(0)
    for (const e of kept.engines) e.close()
  })

  it('a clock whose setTimeout throws once loses no engine: the due one runs, the others stay scheduled', async () => {
    // Prepare: an injected clock that fails the next timer it is asked for.
    const clock = new FlakyClock()
    const { sources, engines } = await fleet(clock, 2, 71)
    const [first, second] = engines.map(plannedAt).sort((a, b) => a - b) as [number, number]
    // Act: the scheduler's run re-sets its timer for the second engine, and that fails.
    clock.failNext = true
    await expect(clock.advance(first - clock.now())).rejects.toThrow('clock broke')
    await settle()
    // Assess: the first engine refreshed at its point all the same, and its next schedule set the
    // timer again for both.
    const ran = sources.filter((s) => s.calls.length === 2)
    expect(ran).toHaveLength(1)
    expect(ran[0]!.calls[1]).toBe(first)
    expect(clock.pending()).toBe(1)
    await clock.advance(Math.max(0, second - clock.now()))
    for (const s of sources) expect(s.calls.length).toBeGreaterThanOrEqual(2)
    for (const e of engines) e.close()
    expect(clock.pending()).toBe(0)
  })

  it('an engine whose timer could not be set does not report a refresh point', async () => {
    // Prepare
    const clock = new FlakyClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(72) })
    // Act: the first fetch succeeds, arming the timer fails.
    clock.failNext = true
    await engine().catch(() => undefined)
    // Assess: no timer, and stats() does not claim one; the next call (which finds no refresh
    // planned) is still answered.
    expect(clock.pending()).toBe(0)
    expect(engine.stats().nextRefreshAt).toBeUndefined()
    expect((await engine()).accessKeyId).toBeDefined()
    // The refresh is not lost: the first call after the refresh point starts it in the
    // background (as after a timer that fired late), and that caller does not wait.
    await clock.advance(52 * MINUTE)
    expect(source.calls).toHaveLength(1)
    await engine()
    await settle()
    expect(source.calls).toHaveLength(2)
    expect(engine.stats().waits).toBe(1)
    expect(engine.stats().backgroundRefreshes).toBe(1)
    expect(clock.pending()).toBe(1)
    engine.close()
  })
})
