import type { Clock, Milliseconds, Random } from '@podcreds/core'
import { CredentialsError, sleep } from '@podcreds/core'

/** Limits and seams of {@link retryWithin}. */
export interface RetryWithinOptions {
  /** Attempts for answers worth another try (5xx, 429, cut short, not JSON, timeouts); 1 = no retry at all. */
  maxAttempts: number
  /** Time budget for connection errors (refused, reset), from the first attempt; 0 = count them as attempts. */
  retryWindowMs: Milliseconds
  clock: Clock
  random: Random
  signal?: AbortSignal | undefined
  /** Called before each back-off. */
  onRetry?: (error: unknown, attempt: number, delayMs: Milliseconds) => void
  /** Builds the error once the window is spent on connection errors. */
  exhausted(last: CredentialsError, attempts: number, elapsedMs: Milliseconds): CredentialsError
}

/**
 * Calls `fn` until it succeeds or gives up. Issue 17: a pod that starts while the node's agent
 * restarts meets refused or reset connections for a second or two; the AWS SDK for JS and
 * botocore keep trying for ~3 s. So connection errors (`ERR_NETWORK`) are retried for a **time
 * budget** (`retryWindowMs`), with back-off `d = min(500, 100 · 2ⁿ⁻¹)` ms drawn uniformly in
 * `[d/2, d]` (so a refused port is tried about a dozen times in 3 s, never in a tight loop), while
 * other transient answers use `maxAttempts` with full jitter (base 100 ms, cap 2 s) as before.
 * Errors that are not `retryable` (4xx) are thrown at once.
 */
export async function retryWithin<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryWithinOptions,
): Promise<T> {
  const { clock, random, signal, maxAttempts, retryWindowMs } = options
  const started = clock.now()
  let counted = 0
  let connectionRetries = 0
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (error) {
      if (!(error instanceof CredentialsError) || !error.retryable || signal?.aborted || maxAttempts <= 1) {
        throw error
      }
      let delay: number
      if (error.code === 'ERR_NETWORK' && retryWindowMs > 0) {
        connectionRetries += 1
        const cap = Math.min(500, 100 * 2 ** (connectionRetries - 1))
        delay = Math.floor(cap / 2 + random() * (cap / 2))
        const elapsed = clock.now() - started
        if (elapsed + delay > retryWindowMs) throw options.exhausted(error, attempt, elapsed)
      } else {
        counted += 1
        if (counted >= maxAttempts) throw error
        delay = Math.floor(random() * Math.min(2000, 100 * 2 ** (counted - 1)))
      }
      options.onRetry?.(error, attempt, delay)
      await sleep(delay, clock, signal)
    }
  }
}
