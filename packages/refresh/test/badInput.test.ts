import { inspect } from 'node:util'
import type { AwsCredentialIdentity } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'
import { refreshing } from '@podcreds/refresh'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../test/support/fakeClock.js'
import { mulberry32 } from '../../../test/support/random.js'
import { HOUR, MINUTE, outcome, SECOND } from './helpers.js'

/**
 * A source that answers good credentials (canary secrets) until `bad` is set, then `bad()`'s
 * return value, or throws what `bad()` throws.
 */
function switchingSource(clock: FakeClock) {
  let n = 0
  const state: { bad: (() => unknown) | undefined } = { bad: undefined }
  const fn = async (): Promise<AwsCredentialIdentity> => {
    if (state.bad !== undefined) return state.bad() as AwsCredentialIdentity
    n++
    return {
      accessKeyId: `ASIABADINPUT0000000${n}`,
      secretAccessKey: `SECRETCANARYsecret${n}`,
      sessionToken: `SECRETCANARYtoken${n}`,
      expiration: new Date(clock.now() + HOUR),
    }
  }
  return { fn, state }
}

const badAnswers: [string, () => unknown, RegExp][] = [
  ['null', () => null, /returned null, not an identity object/],
  ['undefined', () => undefined, /returned undefined, not an identity object/],
  ['a string', () => 'SECRETCANARYstring', /returned string, not an identity object/],
  ['a number', () => 42, /returned number, not an identity object/],
  [
    'an expiration that is a string',
    () => ({ accessKeyId: 'ASIAX', expiration: '2026-01-01T01:00:00Z' }),
    /invalid expiration \(string\)/,
  ],
  [
    'an expiration that is a number',
    () => ({ accessKeyId: 'ASIAX', expiration: Date.now() + HOUR }),
    /invalid expiration \(number\)/,
  ],
  [
    'an Invalid Date expiration',
    () => ({ accessKeyId: 'ASIAX', expiration: new Date(Number.NaN) }),
    /invalid expiration \(Invalid Date\)/,
  ],
  [
    'a refreshAfter that is a number',
    () => ({ accessKeyId: 'ASIAX', expiration: new Date(Date.UTC(2026, 0, 2)), refreshAfter: 5 }),
    /invalid refreshAfter \(number\)/,
  ],
  [
    'an Invalid Date refreshAfter',
    () => ({ accessKeyId: 'ASIAX', expiration: new Date(Date.UTC(2026, 0, 2)), refreshAfter: new Date('x') }),
    /invalid refreshAfter \(Invalid Date\)/,
  ],
  [
    'a thrown string',
    () => {
      throw 'SECRETCANARYthrown'
    },
    /threw a string, not an Error/,
  ],
  [
    'a thrown undefined',
    () => {
      throw undefined
    },
    /threw undefined, not an Error/,
  ],
  [
    'a thrown plain object',
    () => {
      throw { message: 'SECRETCANARYobject' }
    },
    /threw an object, not an Error/,
  ],
]

describe('bad answers from the source (issue #18)', () => {
  for (const [name, bad, message] of badAnswers) {
    it(`${name}: a clear CredentialsError on the first fetch, nothing leaked`, async () => {
      const clock = new FakeClock()
      const source = switchingSource(clock)
      source.state.bad = bad
      const engine = refreshing(source.fn, { clock, random: mulberry32(81) })
      const got = await outcome(engine())
      const error = got.error as CredentialsError
      expect(error).toBeInstanceOf(CredentialsError)
      expect(error.code).toBe('ERR_RESPONSE_INVALID')
      expect(error.message).toMatch(message)
      expect(
        `${error.message} ${inspect(error, { depth: 5 })} ${JSON.stringify(engine.stats())}`,
      ).not.toContain('SECRETCANARY')
      expect(engine.stats()).toMatchObject({ failures: 1, refreshing: false })
      expect(clock.pending()).toBe(0) // rule 9: no timer without an identity
      // Once the source answers well, the engine works (after the rule-9 error cache).
      source.state.bad = undefined
      await clock.advance(5 * SECOND)
      expect((await engine()).accessKeyId).toMatch(/^ASIABADINPUT/)
      engine.close()
      expect(clock.pending()).toBe(0)
    })

    it(`${name}: during a refresh, the cached credentials are kept while valid`, async () => {
      const clock = new FakeClock()
      const source = switchingSource(clock)
      const engine = refreshing(source.fn, { clock, random: mulberry32(82) })
      const held = await engine()
      source.state.bad = bad
      await clock.advance(engine.stats().nextRefreshAt!.getTime() - clock.now())
      expect(engine.stats().failures).toBe(1)
      expect(engine.stats().lastError).toMatchObject({ code: 'ERR_RESPONSE_INVALID', retryable: true })
      expect(engine.stats().lastError!.message).toMatch(message)
      expect(JSON.stringify(engine.stats())).not.toContain('SECRETCANARY')
      // Served until the mandatory window, retried on the back-off meanwhile.
      while (clock.now() < held.expiration!.getTime() - MINUTE - 10 * SECOND) {
        await clock.advance(10 * SECOND)
        expect(await engine()).toBe(held)
      }
      expect(engine.stats().failures).toBeGreaterThan(3)
      expect(clock.pending()).toBe(1)
      source.state.bad = undefined
      await clock.advance(MINUTE)
      expect(await engine()).not.toBe(held)
      engine.close()
      expect(clock.pending()).toBe(0)
    })
  }
})

describe('refresh hints from the source (refreshAfter)', () => {
  /** 4 h credentials whose source asks for a refresh at `hintAt(now)`. */
  function hinted(clock: FakeClock, hintAt: (now: number) => number | Date) {
    let n = 0
    const calls: number[] = []
    const fn = async () => {
      const now = clock.now()
      calls.push(now)
      n++
      const hint = hintAt(now)
      return {
        accessKeyId: `ASIAHINTED000000000${n}`,
        expiration: new Date(now + 4 * HOUR),
        refreshAfter: hint instanceof Date ? hint : new Date(hint),
      }
    }
    return { fn, calls }
  }

  it.each([0, 0.5, 0.999])(
    'a hint becomes the refresh point, jittered forward over 5 %% of the lifetime (random %s)',
    async (r) => {
      const clock = new FakeClock()
      const source = hinted(clock, (now) => now + 2 * HOUR)
      const engine = refreshing(source.fn, { clock, random: () => r })
      await engine()
      // Every cycle follows its own fetch's hint: no refresh before it, one within 12 min after.
      for (let cycle = 0; cycle < 3; cycle++) {
        const fetchedAt = source.calls.at(-1)!
        await clock.advance(fetchedAt + 2 * HOUR - 1 - clock.now())
        expect(source.calls).toHaveLength(cycle + 1)
        await clock.advance(1 + 12 * MINUTE)
        expect(source.calls).toHaveLength(cycle + 2)
        expect(engine.stats().backgroundRefreshes).toBe(cycle + 1)
      }
      expect(engine.stats().waits).toBe(1)
      engine.close()
    },
  )

  it('a hint in the past is clamped to a quarter of the lifetime: no refresh loop', async () => {
    const clock = new FakeClock()
    const source = hinted(clock, (now) => now - HOUR)
    const engine = refreshing(source.fn, { clock, random: () => 0 })
    await engine()
    expect(engine.stats().nextRefreshAt!.getTime()).toBe(clock.now() + HOUR)
    await clock.advance(4 * HOUR)
    expect(source.calls).toHaveLength(5) // one an hour, never a loop
    engine.close()
  })

  it('a hint absurdly far (after expiry) is clamped to expiry − W/2, before the mandatory window', async () => {
    const clock = new FakeClock()
    const source = hinted(clock, () => new Date(8.64e15))
    const engine = refreshing(source.fn, { clock, random: () => 0.5 })
    const held = await engine()
    expect(engine.stats().nextRefreshAt!.getTime()).toBe(held.expiration!.getTime() - 30 * MINUTE)
    await clock.advance(4 * HOUR - 29 * MINUTE)
    expect(await engine()).not.toBe(held)
    expect(engine.stats().waits).toBe(1)
    engine.close()
  })
})
