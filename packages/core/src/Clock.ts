/** A duration in milliseconds. */
export type Milliseconds = number

/** An opaque timer handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown

/** Options of {@link Clock.setTimeout}. */
export interface TimerOptions {
  /**
   * Keep the process alive while this timer is pending (someone awaits it).
   * @defaultValue false
   */
  keepAlive?: boolean
}

/**
 * Time and timers in one seam, so a test drives hours of refreshes in virtual time.
 * `now()` is epoch milliseconds (wall clock: credentials expire on the wall clock).
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number
  /**
   * Schedules `fn` after `ms`. Timers of the system clock are unref'd, so they never keep the
   * process alive, unless `options.keepAlive` is set: a retry back-off that a caller is awaiting
   * must hold the process open, or Node would exit with the caller's promise unsettled.
   */
  setTimeout(fn: () => void, ms: Milliseconds, options?: TimerOptions): TimerHandle
  /** Cancels a timer from {@link Clock.setTimeout}; unknown handles are ignored. */
  clearTimeout(handle: TimerHandle): void
}

/**
 * The real clock: `Date.now()` and unref'd Node timers.
 *
 * @example
 * ```ts
 * const started = systemClock.now()
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn: () => void, ms: Milliseconds, options?: TimerOptions): TimerHandle {
    const timer = setTimeout(fn, Math.max(0, Math.min(ms, MAX_TIMER_MS)))
    if (options?.keepAlive !== true) timer.unref()
    return timer
  },
  clearTimeout(handle: TimerHandle): void {
    clearTimeout(handle as ReturnType<typeof setTimeout>)
  },
}

// Node clamps delays above 2^31-1 ms to 1 ms; callers re-check the wall clock when a timer fires.
const MAX_TIMER_MS = 2 ** 31 - 1

/** A random number in [0, 1). Injected for jitter so tests are deterministic. */
export type Random = () => number

/**
 * The default {@link Random}: `Math.random`.
 *
 * @example
 * ```ts
 * const delay = 100 * systemRandom()
 * ```
 */
export const systemRandom: Random = () => Math.random()
