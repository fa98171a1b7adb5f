import type { Clock } from '@podcreds/core'

/** A token bucket: `allow()` takes one token if there is one. */
export interface RateLimiter {
  allow(): boolean
}

/**
 * The agent's request limiter: `rate.NewLimiter(requestsPerSecond, requestsPerSecond/2)` of
 * golang.org/x/time/rate, i.e. a bucket of `burst` tokens refilled at `ratePerSecond`, starting
 * full (aws/eks-pod-identity-agent internal/middleware/rate_limiter/rate_limiter.go, with
 * `configuration.RequestRate = 1000`). Time comes from the emulator's clock.
 */
export function createRateLimiter(clock: Clock, ratePerSecond: number, burst: number): RateLimiter {
  let tokens = burst
  let last = clock.now()
  return {
    allow(): boolean {
      const now = clock.now()
      // A clock moved backwards (a test's fake clock) refills nothing and takes nothing away.
      if (now > last) tokens = Math.min(burst, tokens + ((now - last) * ratePerSecond) / 1000)
      last = Math.max(last, now)
      if (tokens < 1) return false
      tokens -= 1
      return true
    },
  }
}
