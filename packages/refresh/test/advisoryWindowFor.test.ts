import { advisoryWindowFor } from '@podcreds/refresh'
import { describe, expect, it } from 'vitest'

const MINUTE = 60_000

describe('advisoryWindowFor (DESIGN rule 2)', () => {
  it('follows the cross-SDK table at its edges', () => {
    expect(advisoryWindowFor(10 * MINUTE)).toBe(5 * MINUTE)
    expect(advisoryWindowFor(20 * MINUTE)).toBe(5 * MINUTE)
    expect(advisoryWindowFor(20 * MINUTE + 1)).toBe(15 * MINUTE)
    expect(advisoryWindowFor(1230_000)).toBe(15 * MINUTE)
    expect(advisoryWindowFor(90 * MINUTE - 1)).toBe(15 * MINUTE)
    expect(advisoryWindowFor(90 * MINUTE)).toBe(60 * MINUTE)
    expect(advisoryWindowFor(6 * 60 * MINUTE)).toBe(60 * MINUTE)
  })
})
