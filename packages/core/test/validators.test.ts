import {
  readEnv,
  systemClock,
  systemRandom,
  validateClock,
  validateInteger,
  validateLogger,
  validateMilliseconds,
  validateRandom,
  validateSignal,
  validateString,
} from '@podcreds/core'
import { describe, expect, it } from 'vitest'
import { CANARY_SECRET, ManualClock } from './helpers.js'

describe('validateMilliseconds', () => {
  it('accepts undefined and finite numbers in range', () => {
    expect(() => validateMilliseconds('timeoutMs', undefined)).not.toThrow()
    expect(() => validateMilliseconds('timeoutMs', 0)).not.toThrow()
    expect(() => validateMilliseconds('timeoutMs', 1.5)).not.toThrow()
    expect(() => validateMilliseconds('timeoutMs', 10, { min: 10, max: 10 })).not.toThrow()
  })

  it.each([
    ['a string', '100'],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['negative', -1],
    ['null', null],
    ['an object', {}],
  ])('rejects %s with a TypeError naming the option', (_, value) => {
    expect(() => validateMilliseconds('timeoutMs', value)).toThrow(TypeError)
    expect(() => validateMilliseconds('timeoutMs', value)).toThrow(/^timeoutMs must be a finite number/)
  })

  it('enforces min and max', () => {
    expect(() => validateMilliseconds('connectTimeoutMs', 0, { min: 1 })).toThrow(
      'connectTimeoutMs must be a finite number of milliseconds in [1, 9007199254740991], got 0',
    )
    expect(() => validateMilliseconds('maxBackoffMs', 61, { max: 60 })).toThrow(/in \[0, 60\], got 61/)
  })
})

describe('validateInteger', () => {
  it('accepts undefined and integers in range', () => {
    expect(() => validateInteger('maxAttempts', undefined, 1, 10)).not.toThrow()
    expect(() => validateInteger('maxAttempts', 1, 1, 10)).not.toThrow()
    expect(() => validateInteger('maxAttempts', 10, 1, 10)).not.toThrow()
  })

  it.each([0, 11, 1.5, Number.NaN, '3', null])('rejects %s', (value) => {
    expect(() => validateInteger('maxAttempts', value, 1, 10)).toThrow(TypeError)
    expect(() => validateInteger('maxAttempts', value, 1, 10)).toThrow(
      /^maxAttempts must be an integer in \[1, 10\]/,
    )
  })
})

describe('validateString', () => {
  it('accepts undefined and non-empty strings', () => {
    expect(() => validateString('roleArn', undefined)).not.toThrow()
    expect(() => validateString('roleArn', 'arn:aws:iam::123456789012:role/x')).not.toThrow()
  })

  it('rejects empty, blank and non-strings', () => {
    expect(() => validateString('roleArn', '')).toThrow(
      'roleArn must be a non-empty string, got an empty string',
    )
    expect(() => validateString('roleArn', '  \n')).toThrow(TypeError)
    expect(() => validateString('roleArn', 42)).toThrow('roleArn must be a non-empty string, got number')
    expect(() => validateString('roleArn', null)).toThrow(TypeError)
  })

  it('never echoes the value, which may be a secret', () => {
    try {
      validateMilliseconds('authorizationToken', CANARY_SECRET)
      expect.unreachable()
    } catch (err) {
      expect(String(err)).not.toContain(CANARY_SECRET)
      expect(String(err)).toContain('got a string')
    }
    expect(() => validateInteger('maxAttempts', CANARY_SECRET, 1, 3)).toThrow(/got a string$/)
  })
})

describe('validateClock / validateRandom / validateLogger / validateSignal', () => {
  it('accept undefined and valid seams', () => {
    expect(() => validateClock('clock', undefined)).not.toThrow()
    expect(() => validateClock('clock', systemClock)).not.toThrow()
    expect(() => validateClock('clock', new ManualClock())).not.toThrow()
    expect(() => validateRandom('random', systemRandom)).not.toThrow()
    expect(() => validateRandom('random', undefined)).not.toThrow()
    expect(() => validateLogger('logger', {})).not.toThrow()
    expect(() => validateLogger('logger', { warn: () => {} })).not.toThrow()
    expect(() => validateLogger('logger', undefined)).not.toThrow()
    expect(() => validateSignal('signal', new AbortController().signal)).not.toThrow()
    expect(() => validateSignal('signal', undefined)).not.toThrow()
  })

  it('reject malformed seams with a TypeError naming the option', () => {
    expect(() => validateClock('clock', { now: () => 0 })).toThrow(/^clock must be a Clock/)
    expect(() => validateClock('clock', null)).toThrow(TypeError)
    expect(() => validateClock('clock', () => 0)).toThrow(TypeError)
    expect(() => validateRandom('random', 0.5)).toThrow(/^random must be a function/)
    expect(() => validateLogger('logger', 'console')).toThrow('logger must be an object')
    expect(() => validateLogger('logger', null)).toThrow('logger must be an object')
    expect(() => validateLogger('logger', { warn: 'loud' })).toThrow('logger.warn must be a function')
    expect(() => validateSignal('signal', { aborted: false })).toThrow('signal must be an AbortSignal')
  })
})

describe('readEnv', () => {
  it('returns the trimmed value', () => {
    expect(readEnv({ AWS_REGION: ' eu-west-1\n' }, 'AWS_REGION')).toBe('eu-west-1')
  })

  it('treats missing, empty and blank values as unset', () => {
    expect(readEnv({}, 'AWS_REGION')).toBeUndefined()
    expect(readEnv({ AWS_REGION: undefined }, 'AWS_REGION')).toBeUndefined()
    expect(readEnv({ AWS_REGION: '' }, 'AWS_REGION')).toBeUndefined()
    expect(readEnv({ AWS_REGION: '   ' }, 'AWS_REGION')).toBeUndefined()
  })
})

describe('systemClock / systemRandom', () => {
  it('unrefs its timers unless keepAlive is asked for', () => {
    const idle = systemClock.setTimeout(() => {}, 60_000) as NodeJS.Timeout
    const held = systemClock.setTimeout(() => {}, 60_000, { keepAlive: true }) as NodeJS.Timeout
    try {
      expect(idle.hasRef()).toBe(false)
      expect(held.hasRef()).toBe(true)
    } finally {
      systemClock.clearTimeout(idle)
      systemClock.clearTimeout(held)
    }
  })

  it('fires timers and ignores unknown handles on clear', async () => {
    const fired = await new Promise<boolean>((resolve) => {
      systemClock.setTimeout(() => resolve(true), 1, { keepAlive: true })
    })
    expect(fired).toBe(true)
    expect(() => systemClock.clearTimeout(undefined)).not.toThrow()
  })

  it('clamps delays beyond the 32-bit timer range instead of firing at once', async () => {
    // Node turns an out-of-range delay into 1 ms; the clock clamps it to 2^31-1 ms instead.
    let fired = false
    const timer = systemClock.setTimeout(() => {
      fired = true
    }, 2 ** 40) as NodeJS.Timeout
    try {
      await new Promise((resolve) => setTimeout(resolve, 20))
      expect(fired).toBe(false)
    } finally {
      systemClock.clearTimeout(timer)
    }
  })

  it('tells the wall-clock time and draws in [0, 1)', () => {
    const before = Date.now()
    const now = systemClock.now()
    expect(now).toBeGreaterThanOrEqual(before)
    expect(now).toBeLessThanOrEqual(Date.now())
    for (let i = 0; i < 100; i++) {
      const r = systemRandom()
      expect(r).toBeGreaterThanOrEqual(0)
      expect(r).toBeLessThan(1)
    }
  })
})
