import { parseRfc3339 } from '@podcreds/core'
import { describe, expect, it } from 'vitest'

const iso = (text: string): string | undefined => parseRfc3339(text)?.toISOString()

describe('parseRfc3339', () => {
  it('reads Z, z and offsets, east and west of UTC', () => {
    expect(iso('2026-11-24T13:00:00Z')).toBe('2026-11-24T13:00:00.000Z')
    expect(iso('2026-11-24t13:00:00z')).toBe('2026-11-24T13:00:00.000Z')
    expect(iso('2026-11-24T15:30:00+02:30')).toBe('2026-11-24T13:00:00.000Z')
    expect(iso('2026-11-24T08:00:00-05:00')).toBe('2026-11-24T13:00:00.000Z')
    expect(iso('2026-01-01T00:30:00+01:00')).toBe('2025-12-31T23:30:00.000Z')
    expect(iso('2026-11-24T13:00:00-00:00')).toBe('2026-11-24T13:00:00.000Z')
  })

  it('reads a time without an offset as UTC, not local time', () => {
    expect(iso('2026-11-24T13:00:00')).toBe('2026-11-24T13:00:00.000Z')
    expect(iso('2026-11-24 13:00:00')).toBe('2026-11-24T13:00:00.000Z')
  })

  it('keeps fractional seconds to the millisecond', () => {
    expect(iso('2026-11-24T13:00:00.5Z')).toBe('2026-11-24T13:00:00.500Z')
    expect(iso('2026-11-24T13:00:00.123Z')).toBe('2026-11-24T13:00:00.123Z')
    expect(iso('2026-11-24T13:00:00.123456789+01:00')).toBe('2026-11-24T12:00:00.123Z')
  })

  it('knows February 29 of leap years only', () => {
    expect(iso('2024-02-29T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z')
    expect(iso('2000-02-29T00:00:00Z')).toBe('2000-02-29T00:00:00.000Z')
    expect(parseRfc3339('2026-02-29T00:00:00Z')).toBeUndefined()
    expect(parseRfc3339('1900-02-29T00:00:00Z')).toBeUndefined()
  })

  it('rejects out-of-range fields instead of rolling them over as Date does', () => {
    for (const text of [
      '2026-02-30T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-00-10T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-01-00T00:00:00Z',
      '2026-06-01T24:00:00Z',
      '2026-06-01T23:60:00Z',
      '2026-06-01T23:59:61Z',
      '2026-06-01T12:00:00+24:00',
      '2026-06-01T12:00:00+01:60',
    ]) {
      expect(parseRfc3339(text), text).toBeUndefined()
    }
  })

  it('carries a leap second into the next minute', () => {
    expect(iso('2016-12-31T23:59:60Z')).toBe('2017-01-01T00:00:00.000Z')
  })

  it('reads years before 100 as themselves (Date.UTC would add 1900)', () => {
    expect(parseRfc3339('0050-01-01T00:00:00Z')?.getUTCFullYear()).toBe(50)
  })

  it('rejects anything that is not an RFC 3339 date-time', () => {
    for (const text of [
      '',
      'tomorrow',
      '2026-11-24',
      '13:00:00Z',
      '2026-11-24T13:00Z',
      '2026-11-24T13:00:00.Z',
      '2026-11-24T13:00:00+0100',
      '2026-11-24T13:00:00 Z',
      ' 2026-11-24T13:00:00Z',
      '2026-11-24T13:00:00Z\n',
      '26-11-24T13:00:00Z',
      '+02026-11-24T13:00:00Z',
      '1764000000',
    ]) {
      expect(parseRfc3339(text), JSON.stringify(text)).toBeUndefined()
    }
    expect(parseRfc3339(42 as unknown as string)).toBeUndefined()
  })
})
