import { systemClock } from '@podcreds/core'
import {
  DEFAULT_MANDATORY_WINDOW_MS,
  DEFAULT_MAX_BACKOFF_MS,
  DEFAULT_MAX_STALENESS_MS,
  refreshing,
} from '@podcreds/refresh'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../test/support/fakeClock.js'
import { mulberry32 } from '../../../test/support/random.js'
import { HOUR, MINUTE, ScriptedSource } from './helpers.js'

describe('close() and [Symbol.dispose]', () => {
  it('leaves no timer, and calls keep working on demand', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(41) })
    const held = await engine()
    expect(clock.pending()).toBe(1)
    engine.close()
    engine.close()
    expect(clock.pending()).toBe(0)
    expect(engine.stats().closed).toBe(true)
    expect(engine.stats().nextRefreshAt).toBeUndefined()
    await clock.advance(50 * MINUTE)
    expect(source.calls).toHaveLength(1) // nothing ran in the background
    expect(await engine()).toBe(held) // past the refresh point: a call starts one, answers at once
    expect(source.calls).toHaveLength(2)
    expect(await engine()).not.toBe(held)
    expect(clock.pending()).toBe(0)
  })

  it('closes with Symbol.dispose, also while a failing source is in back-off', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(42) })
    await engine()
    source.answer = 'error'
    await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
    expect(clock.pending()).toBe(1)
    engine[Symbol.dispose]()
    expect(clock.pending()).toBe(0)
  })

  it('never asks the clock to keep the process alive', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(43) })
    await engine()
    source.answer = 'error'
    for (let i = 0; i < 3 * 60; i++) {
      await clock.advance(MINUTE)
      await engine().catch(() => {})
    }
    expect(clock.timersSet).toBeGreaterThan(10)
    expect(clock.keepAliveRequests).toBe(0)
    engine.close()
  })
})

describe('with the system clock', () => {
  it("sets unref'd timers that close() clears", async () => {
    const timers: NodeJS.Timeout[] = []
    const clock = {
      now: () => Date.now(),
      setTimeout: (fn: () => void, ms: number, options?: { keepAlive?: boolean }) => {
        const t = systemClock.setTimeout(fn, ms, options) as NodeJS.Timeout
        timers.push(t)
        return t
      },
      clearTimeout: (t: unknown) => systemClock.clearTimeout(t),
    }
    const engine = refreshing(
      async () => ({ accessKeyId: 'ASIAREALCLOCK000001', expiration: new Date(Date.now() + HOUR) }),
      { clock },
    )
    await engine()
    expect(timers).toHaveLength(1)
    expect(timers[0]!.hasRef()).toBe(false) // never keeps the process alive
    engine.close()
    expect(engine.stats().nextRefreshAt).toBeUndefined()
  })

  it('works with every default', async () => {
    const engine = refreshing(async () => ({
      accessKeyId: 'ASIADEFAULTS0000001',
      secretAccessKey: 'x',
      expiration: new Date(Date.now() + HOUR),
    }))
    const a = await engine()
    expect(await engine()).toBe(a)
    expect(engine.stats().nextRefreshAt!.getTime()).toBeGreaterThan(Date.now())
    engine.close()
  })
})

describe('an engine nobody calls', () => {
  it('stops its timer after two lifetimes without a call, and the next call restarts it', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(44) })
    await engine()
    await clock.advance(6 * HOUR)
    expect(clock.pending()).toBe(0)
    const calls = source.calls.length
    expect(calls).toBeGreaterThanOrEqual(3)
    expect(calls).toBeLessThanOrEqual(5)
    await clock.advance(24 * HOUR)
    expect(source.calls).toHaveLength(calls)
    const fresh = await engine() // expired: waits for one fetch
    expect(fresh.expiration!.getTime()).toBeGreaterThan(clock.now())
    expect(clock.pending()).toBe(1)
    engine.close()
  })
})

describe('exported defaults', () => {
  it('match DESIGN.md', () => {
    expect(DEFAULT_MAX_BACKOFF_MS).toBe(60_000)
    expect(DEFAULT_MANDATORY_WINDOW_MS).toBe(60_000)
    expect(DEFAULT_MAX_STALENESS_MS).toBe(0)
  })
})

describe('detachable methods (issue #18)', () => {
  it('refresh, invalidate, stats, close and [Symbol.dispose] work taken off the provider', async () => {
    // Prepare
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(45) })
    const { refresh, invalidate, stats, close, [Symbol.dispose]: dispose } = engine
    // Act and assess, one method at a time.
    const held = await engine()
    const renewed = await refresh()
    expect(renewed).not.toBe(held)
    expect(stats()).toMatchObject({ sourceCalls: 2, calls: 1 })
    invalidate(renewed.accessKeyId)
    expect(await engine()).not.toBe(renewed)
    expect(clock.pending()).toBe(1)
    // The SIGTERM pattern: a handler that calls the method with no receiver.
    const handlers: (() => void)[] = [close]
    for (const h of handlers) h()
    expect(stats().closed).toBe(true)
    expect(clock.pending()).toBe(0)
    dispose()
    expect(clock.pending()).toBe(0)
  })

  it('holds nothing reachable from the provider that shows the credentials', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(46) })
    await engine()
    const { inspect } = await import('node:util')
    expect(inspect(engine, { showHidden: true, depth: 8 })).not.toContain('SECRETCANARY')
    engine.close()
  })
})
