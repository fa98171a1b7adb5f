import type { Milliseconds } from '@podcreds/core'

const MINUTE = 60_000

/**
 * The advisory refresh window for a credential lifetime, from the cross-SDK refresh spec
 * (`credential-refresh-tests.json`, DESIGN rule 2): a lifetime of at most 20 min → 5 min, under
 * 90 min → 15 min, otherwise 60 min. The engine refreshes inside the last `W` of a lifetime; other
 * caches of credentials (e.g. `podcreds credential-process --cache`) use the same table.
 *
 * @param lifetimeMs - the credentials' lifetime at fetch time, in milliseconds
 * @returns the window `W`, in milliseconds
 * @example
 * ```ts
 * advisoryWindowFor(60 * 60_000) // 900000: refresh within the last 15 minutes of 1 h credentials
 * ```
 */
export function advisoryWindowFor(lifetimeMs: Milliseconds): Milliseconds {
  if (lifetimeMs <= 20 * MINUTE) return 5 * MINUTE
  if (lifetimeMs < 90 * MINUTE) return 15 * MINUTE
  return 60 * MINUTE
}
