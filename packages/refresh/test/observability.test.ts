import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { inspect } from 'node:util'
import type { CredentialsError } from '@podcreds/core'
import type { RefreshEvent } from '@podcreds/refresh'
import { refreshing } from '@podcreds/refresh'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../test/support/fakeClock.js'
import { mulberry32 } from '../../../test/support/random.js'
import { MINUTE, outcome, ScriptedSource, SECOND } from './helpers.js'

const TYPES = ['start', 'success', 'unchanged', 'failure', 'stale'] as const

function expectNoCanary(text: string): void {
  expect(text).not.toContain('SECRETCANARY')
}

describe('rule 13: stats() and the podcreds:refresh diagnostics channels', () => {
  it('report every event, with no secret in events, stats, log lines or errors', async () => {
    // Prepare: subscribe to all five channels; a logger that records; onEvent that records.
    const published: { name: string; event: RefreshEvent }[] = []
    const handlers = TYPES.map((t) => {
      const name = `podcreds:refresh:${t}`
      const fn = (message: unknown) => published.push({ name, event: message as RefreshEvent })
      subscribe(name, fn)
      return [name, fn] as const
    })
    const logLines: string[] = []
    const record =
      (level: string) =>
      (message: string, fields?: Record<string, unknown>): void => {
        logLines.push(`${level} ${message} ${JSON.stringify(fields)} ${inspect(fields, { depth: 5 })}`)
      }
    const received: RefreshEvent[] = []
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, {
      clock,
      random: mulberry32(31),
      maxStalenessMs: 2 * MINUTE,
      logger: { debug: record('debug'), warn: record('warn') },
      onEvent: (e) => received.push(e),
    })
    const errors: unknown[] = []
    try {
      // Act: success, unchanged, failure with a secret-echoing foreign error, stale, expired error.
      const held = await engine()
      source.answer = 'same'
      await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
      const echo = new Error(`upstream said: bad token ${held.sessionToken} for ${held.secretAccessKey}`)
      const failing = refreshingEcho(source, echo)
      await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
      failing.off()
      source.answer = 'error'
      clock.sleep(held.expiration!.getTime() + SECOND - clock.now())
      expect(await engine()).toBe(held) // stale, allowed for 2 min
      await clock.advance(3 * MINUTE)
      const late = await outcome(engine())
      errors.push(late.error)
      expect((late.error as CredentialsError).code).toBe('ERR_CREDENTIALS_EXPIRED')

      // Assess: each type seen on its own channel, the same events through onEvent.
      for (const t of TYPES) {
        expect(published.some((p) => p.name === `podcreds:refresh:${t}` && p.event.type === t)).toBe(true)
      }
      expect(published.map((p) => p.event)).toEqual(received)
      expect(received.find((e) => e.type === 'start')?.trigger).toBe('initial')
      expect(received.some((e) => e.type === 'start' && e.trigger === 'background')).toBe(true)
      expect(received.find((e) => e.type === 'success')?.keyId).toMatch(/^ASIA…\d{4}$/)
      const stats = engine.stats()
      expect(stats).toMatchObject({ unchanged: 1, servedStale: 1 })
      expect(stats.failures).toBeGreaterThanOrEqual(2)
      // The late call waited for one attempt (rule 8: the recovery gap had passed), which failed.
      expect(stats.calls).toBe(stats.hits + stats.waits)
      expect(logLines.some((l) => l.startsWith('warn podcreds refresh: failure'))).toBe(true)
      expect(logLines.some((l) => l.startsWith('debug podcreds refresh: success'))).toBe(true)
      // The foreign error echoed both secrets; lastError and events carry it scrubbed.
      const scrubbed = received.find((e) => e.error?.name === 'Error')
      expect(scrubbed?.error?.message).toContain('[redacted]')
      for (const text of [
        JSON.stringify(received),
        inspect(received, { depth: 8 }),
        JSON.stringify(published),
        JSON.stringify(stats),
        inspect(stats, { depth: 8 }),
        ...logLines,
        ...errors.flatMap((e) => [
          (e as Error).message,
          String((e as Error).stack),
          inspect(e, { depth: 8 }),
          JSON.stringify(e),
        ]),
      ]) {
        expectNoCanary(text)
      }
    } finally {
      for (const [name, fn] of handlers) unsubscribe(name, fn)
      engine.close()
    }
  })

  it('survives an onEvent or logger that throws', async () => {
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, {
      clock,
      onEvent: () => {
        throw new Error('observer bug')
      },
      logger: {
        debug: () => {
          throw new Error('logger bug')
        },
      },
    })
    expect(await engine()).toBe(source.last)
    engine.close()
  })
  it('count every call as exactly one of a hit, a wait, or an error answered at once', async () => {
    // Prepare
    const clock = new FakeClock()
    const source = new ScriptedSource(clock)
    const engine = refreshing(source.fn, { clock, random: mulberry32(33), maxStalenessMs: 2 * MINUTE })
    // Act and assess, state by state.
    source.answer = 'error'
    await outcome(engine()) // the first fetch fails: a wait
    await outcome(engine()) // rule 9, the cached error: neither
    expect(engine.stats()).toMatchObject({ calls: 2, hits: 0, waits: 1, failures: 1 })
    await clock.advance(5 * SECOND)
    source.answer = 'fresh'
    const held = await engine() // a wait
    for (let i = 0; i < 5; i++) await engine() // hits on the hot path
    expect(engine.stats()).toMatchObject({ calls: 8, hits: 5, waits: 2 })
    source.answer = 'error'
    clock.sleep(held.expiration!.getTime() + SECOND - clock.now())
    expect(await engine()).toBe(held) // expired, the source down: waits for one attempt, then stale
    expect(await engine()).toBe(held) // during the back-off: stale at once, a hit
    expect(engine.stats()).toMatchObject({ calls: 10, hits: 6, waits: 3, servedStale: 2 })
    clock.sleep(3 * MINUTE)
    await outcome(engine()) // past maxStalenessMs: waits for one attempt, which fails
    await outcome(engine()) // in the back-off: ERR_CREDENTIALS_EXPIRED at once, neither
    expect(engine.stats()).toMatchObject({ calls: 12, hits: 6, waits: 4, servedStale: 2, failures: 3 })
    engine.close()
  })
})

/** Makes the scripted source throw `error` until `off()`, to simulate a foreign, echoing error. */
function refreshingEcho(source: ScriptedSource, error: Error): { off(): void } {
  source.throwNext = error
  return {
    off: () => {
      source.throwNext = undefined
    },
  }
}
