import type { Random } from '@podcreds/core'

/**
 * A number in [0, 1) from `random`, whatever it returns: a `random` of the right shape but a
 * wrong range (NaN, 1, -3) must not push a refresh point outside its interval (rule 14).
 */
export function unit(random: Random): number {
  const x = random()
  if (x >= 0 && x < 1) return x
  return x >= 1 ? 1 - Number.EPSILON : 0
}
