import { refreshing } from '@podcreds/refresh'
import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../../test/support/fakeClock.js'
import { ScriptedSource } from './helpers.js'

describe('bad options throw a TypeError naming the option, at construction', () => {
  const clock = new FakeClock()
  const source = new ScriptedSource(clock).fn
  const bad: [string, Record<string, unknown>][] = []
  for (const name of ['refreshWindowMs', 'mandatoryWindowMs', 'maxBackoffMs', 'maxStalenessMs']) {
    for (const value of [-1, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1000', null]) {
      bad.push([name, { [name]: value }])
    }
  }
  bad.push(['refreshWindowMs', { refreshWindowMs: 0 }])
  bad.push(['maxBackoffMs', { maxBackoffMs: 0 }])
  bad.push(['clock', { clock: {} }])
  bad.push(['clock', { clock: { now: () => 0 } }])
  bad.push(['clock', { clock: Date }])
  bad.push(['random', { random: 0.5 }])
  bad.push(['random', { random: {} }])
  bad.push(['keyOf', { keyOf: 'accessKeyId' }])
  bad.push(['logger', { logger: 'console' }])
  bad.push(['logger', { logger: { warn: 'yes' } }])
  bad.push(['onEvent', { onEvent: {} }])

  for (const [name, options] of bad) {
    it(`${name}: ${String(Object.values(options)[0] === null ? 'null' : typeof Object.values(options)[0] === 'object' ? JSON.stringify(Object.values(options)[0]) : Object.values(options)[0])}`, () => {
      expect(() => refreshing(source, options as never)).toThrow(TypeError)
      expect(() => refreshing(source, options as never)).toThrow(name)
      expect(clock.pending()).toBe(0)
    })
  }

  it('source must be a function', () => {
    for (const value of [undefined, null, 'fromContainer', {}, Promise.resolve({})]) {
      expect(() => refreshing(value as never)).toThrow(TypeError)
      expect(() => refreshing(value as never)).toThrow(/source/)
    }
  })

  it('options must be an object', () => {
    expect(() => refreshing(source, 5 as never)).toThrow(/options/)
  })

  it('accepts the documented boundaries', () => {
    const engine = refreshing(source, {
      clock,
      random: () => 0,
      refreshWindowMs: 1,
      mandatoryWindowMs: 0,
      maxBackoffMs: 1,
      maxStalenessMs: 0,
      keyOf: () => undefined,
      logger: {},
      onEvent: () => {},
    })
    expect(typeof engine).toBe('function')
    engine.close()
  })
})
