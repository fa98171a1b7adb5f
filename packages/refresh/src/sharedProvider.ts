import { validateInteger, validateString } from '@podcreds/core'
import { LRUCache } from 'lru-cache'
import type { RefreshingProvider } from './RefreshingProvider.js'

/**
 * How many engines the process-wide registry of {@link sharedProvider} holds before it closes the
 * least recently used one.
 * @defaultValue 64
 */
export const DEFAULT_SHARED_MAX: number = 64

/** Options of {@link sharedProvider}. */
export interface SharedProviderOptions {
  /**
   * Capacity of the process-wide registry (1–10 000). The registry is created by the first call;
   * a later call with a larger `max` grows it (no engine is evicted by that), a smaller one is
   * ignored, since shrinking would close engines other code holds.
   * @defaultValue {@link DEFAULT_SHARED_MAX} (64)
   */
  max?: number
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds engines of any identity type
type AnyEngine = RefreshingProvider<any>

// Created on first use: import-time work is zero (DESIGN.md "Conventions").
let registry: LRUCache<string, AnyEngine> | undefined

function createRegistry(max: number): LRUCache<string, AnyEngine> {
  return new LRUCache<string, AnyEngine>({
    max,
    // Rule 16: an evicted engine is closed, so its timer stops; a later call with its key builds
    // a new one. `set` of a key already present never happens (we only set missing keys).
    dispose: (engine, _key, reason) => {
      if (reason === 'evict' || reason === 'delete') engine.close()
    },
  })
}

/**
 * One refresh engine per `key` per process: the first call builds it with `factory`, every later
 * call with the same key returns that same engine, so many SDK clients in one process share one
 * cache and one refresh schedule (rule 16). The registry is bounded (least recently used engines
 * are closed and dropped). Import it from `@podcreds/refresh/shared`, the only path that loads
 * `lru-cache`: an optional peer dependency, installed beside `@podcreds/refresh` by those who use
 * this function (`npm i lru-cache`).
 *
 * @param key - what identifies the source, e.g. `'container'` or a role ARN.
 * @param factory - builds the engine when the key is new, e.g. `() => refreshing(fromContainer())`.
 * @param options - see {@link SharedProviderOptions}.
 * @throws TypeError when `key` is empty, `factory` is not a function, `max` is not an integer in
 * [1, 10000], or the factory does not return a refreshing provider.
 * @example
 * ```ts
 * import { refreshing } from '@podcreds/refresh'
 * import { sharedProvider } from '@podcreds/refresh/shared'
 *
 * const credentials = sharedProvider('container', () => refreshing(fromContainer()))
 * ```
 */
export function sharedProvider<T>(
  key: string,
  factory: () => RefreshingProvider<T>,
  options: SharedProviderOptions = {},
): RefreshingProvider<T> {
  validateString('key', key)
  if (typeof factory !== 'function') throw new TypeError('factory must be a function returning a provider')
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  validateInteger('max', options.max, 1, 10_000)
  const max = options.max ?? DEFAULT_SHARED_MAX
  if (registry === undefined) registry = createRegistry(max)
  else if (max > registry.max) {
    // Grow by moving every entry into a larger registry, oldest first; dropping the old registry
    // disposes nothing, so no engine is closed.
    const bigger = createRegistry(max)
    for (const [k, engine] of [...registry.entries()].reverse()) bigger.set(k, engine)
    registry = bigger
  }
  const existing = registry.get(key)
  if (existing !== undefined) return existing as RefreshingProvider<T>
  const engine = factory()
  if (typeof engine !== 'function' || typeof (engine as Partial<AnyEngine>).close !== 'function')
    throw new TypeError('factory must return a refreshing provider (from refreshing())')
  registry.set(key, engine)
  return engine
}
