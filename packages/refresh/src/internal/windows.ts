import type { Milliseconds, Random } from '@podcreds/core'

const MINUTE = 60_000

/**
 * The advisory refresh window for a credential lifetime, from the cross-SDK refresh spec
 * (`credential-refresh-tests.json`): ≤ 20 min → 5 min, < 90 min → 15 min, ≥ 90 min → 60 min.
 */
export function advisoryWindowFor(lifetimeMs: Milliseconds): Milliseconds {
  if (lifetimeMs <= 20 * MINUTE) return 5 * MINUTE
  if (lifetimeMs < 90 * MINUTE) return 15 * MINUTE
  return 60 * MINUTE
}

/**
 * A number in [0, 1) from `random`, whatever it returns: a `random` of the right shape but a
 * wrong range (NaN, 1, -3) must not push a refresh point outside its interval.
 */
export function unit(random: Random): number {
  const x = random()
  if (x >= 0 && x < 1) return x
  return x >= 1 ? 1 - Number.EPSILON : 0
}

/** Uniform in [lo, hi]. */
export function uniform(random: Random, lo: number, hi: number): number {
  return lo + (hi - lo) * unit(random)
}
