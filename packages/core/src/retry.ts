import type { Clock, Milliseconds, Random } from './Clock.js'
import { systemClock, systemRandom } from './Clock.js'
import { CredentialsError } from './CredentialsError.js'

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Attempts in all, the first included; 1 means no retry. @defaultValue 3 */
  maxAttempts?: number
  /** The cap of the first back-off; it doubles per attempt. @defaultValue 100 */
  baseDelayMs?: Milliseconds
  /** Largest back-off cap. @defaultValue 2000 */
  maxDelayMs?: Milliseconds
  /**
   * Times the back-off (its timers hold the process open: someone awaits them).
   * @defaultValue {@link systemClock}
   */
  clock?: Clock
  /**
   * Draws the jitter.
   * @defaultValue {@link systemRandom}
   */
  random?: Random
  /** Stops waiting and rejects with `ERR_ABORTED`. */
  signal?: AbortSignal
  /** Which errors are worth another attempt. @defaultValue the error's `retryable` flag */
  shouldRetry?: (error: unknown, attempt: number) => boolean
  /** Called before each back-off, e.g. to log it. */
  onRetry?: (error: unknown, attempt: number, delayMs: Milliseconds) => void
}

/** Default of {@link RetryOptions.maxAttempts}: 3 attempts in all. */
export const DEFAULT_MAX_ATTEMPTS = 3

/**
 * Calls `fn` until it succeeds, it throws an error that is not worth retrying, or `maxAttempts`
 * are used; then throws the last error. Between attempts it waits with **full jitter**: the n-th
 * delay (n = 1, 2, …) is uniform in `[0, min(maxDelayMs, baseDelayMs · 2^(n-1)))`, drawn from the
 * injected `random` and timed by the injected `clock`.
 *
 * @example
 * ```ts
 * const res = await retry((attempt) => httpRequest(req), { maxAttempts: 3, random, clock })
 * ```
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
  const base = options.baseDelayMs ?? 100
  const cap = options.maxDelayMs ?? 2000
  const clock = options.clock ?? systemClock
  const random = options.random ?? systemRandom
  const shouldRetry =
    options.shouldRetry ?? ((error: unknown) => error instanceof CredentialsError && error.retryable)
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (attempt >= maxAttempts || !shouldRetry(error, attempt) || options.signal?.aborted) throw error
      const delay = Math.floor(random() * Math.min(cap, base * 2 ** (attempt - 1)))
      options.onRetry?.(error, attempt, delay)
      await sleep(delay, clock, options.signal)
    }
  }
}

/**
 * Waits `ms` on `clock`, holding the process open (someone awaits it). Rejects with `ERR_ABORTED`
 * when `signal` aborts.
 *
 * @example
 * ```ts
 * await sleep(100, systemClock)
 * ```
 */
export function sleep(ms: Milliseconds, clock: Clock, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new CredentialsError('aborted', { code: 'ERR_ABORTED', cause: signal.reason }))
      return
    }
    const onAbort = (): void => {
      clock.clearTimeout(timer)
      reject(new CredentialsError('aborted', { code: 'ERR_ABORTED', cause: signal?.reason }))
    }
    const timer = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      },
      ms,
      { keepAlive: true },
    )
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
