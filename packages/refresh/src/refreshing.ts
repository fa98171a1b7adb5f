import type { Clock, IdentityProperties, Logger, Milliseconds, Random } from '@podcreds/core'
import {
  CredentialsError,
  redactKeyId,
  systemClock,
  systemRandom,
  validateClock,
  validateLogger,
  validateMilliseconds,
  validateRandom,
} from '@podcreds/core'
import { refreshChannels } from './internal/channels.js'
import { describeError, isTransient, secretsOf } from './internal/describeError.js'
import { advisoryWindowFor, uniform } from './internal/windows.js'
import type {
  ExpiringIdentity,
  RefreshErrorInfo,
  RefreshEvent,
  RefreshingProvider,
  RefreshStats,
} from './RefreshingProvider.js'

/** The farthest ahead a refresh is ever scheduled: 7 days, in ms. */
const SCHEDULING_HORIZON_MS = 7 * 86_400_000
/**
 * Largest delay between two failed source calls (rule 6), in milliseconds.
 * @defaultValue 60000
 */
export const DEFAULT_MAX_BACKOFF_MS: Milliseconds = 60_000

/**
 * The mandatory window: this long before expiry callers wait for a fresh identity (rule 2).
 * @defaultValue 60000
 */
export const DEFAULT_MANDATORY_WINDOW_MS: Milliseconds = 60_000

/**
 * How long expired credentials may be served while the source is down (rule 8). 0: never.
 * @defaultValue 0
 */
export const DEFAULT_MAX_STALENESS_MS: Milliseconds = 0

/** The first back-off delay cap of rule 6: delays are uniform in `[d/2, d]`, `d = 1 s · 2ⁿ`. */
const BASE_BACKOFF_MS = 1_000
/** Rule 9: an initial failure is cached for a jittered 1–5 s. */
const ERROR_CACHE_MIN_MS = 1_000
const ERROR_CACHE_MAX_MS = 5_000
/** A timer whose engine nobody called for this many credential lifetimes stops (see `onTimer`). */
const IDLE_LIFETIMES = 2

/** Options of {@link refreshing}. Durations are in milliseconds. */
export interface RefreshOptions<T> {
  /**
   * Time and timers. Timers are set without `keepAlive`, so the system clock unrefs them and they
   * never hold the process open.
   * @defaultValue systemClock
   */
  clock?: Clock
  /** Jitter source, `() => number` in [0, 1). @defaultValue systemRandom */
  random?: Random
  /**
   * The advisory window: the refresh point is jittered in `[expiry − W, expiry − W/2]`. Overrides
   * the lifetime table (≤ 20 min → 5 min, < 90 min → 15 min, else 60 min); clamped to the lifetime
   * at run time, and the refresh point never comes before a quarter of the lifetime.
   * @defaultValue chosen from the lifetime at each fetch
   */
  refreshWindowMs?: Milliseconds
  /**
   * The mandatory window: inside it, callers wait for a fresh identity. Clamped to half the
   * advisory window.
   * @defaultValue {@link DEFAULT_MANDATORY_WINDOW_MS} (1 min)
   */
  mandatoryWindowMs?: Milliseconds
  /**
   * Cap of the exponential back-off between failed source calls (≥ 1).
   * @defaultValue {@link DEFAULT_MAX_BACKOFF_MS} (60 s)
   */
  maxBackoffMs?: Milliseconds
  /**
   * How long past expiry the engine may keep answering with the expired identity while the source
   * fails. 0 raises `ERR_CREDENTIALS_EXPIRED` at expiry.
   * @defaultValue {@link DEFAULT_MAX_STALENESS_MS} (0)
   */
  maxStalenessMs?: Milliseconds
  /**
   * The key that `invalidate(key)` compares and that tells "same identity" (rule 10).
   * @defaultValue `c => c.accessKeyId`
   */
  keyOf?: (identity: T) => string | undefined
  /** Receives one line per event (debug: start/success/unchanged, warn: failure/stale). */
  logger?: Logger
  /** Called synchronously with every {@link RefreshEvent}; exceptions it throws are ignored. */
  onEvent?: (event: RefreshEvent) => void
}

type Trigger = NonNullable<RefreshEvent['trigger']>

const defaultKeyOf = (identity: unknown): string | undefined => {
  const id = (identity as { accessKeyId?: unknown } | null)?.accessKeyId
  return typeof id === 'string' ? id : undefined
}

const noop = (): void => {}

/**
 * Wraps a source in the podcreds refresh engine: single-flight, refreshed in the background at a
 * jittered point before expiry (the first one phase-spread over most of a lifetime), exponential
 * back-off with equal jitter on failure while the cached identity stays valid, never serving
 * expired credentials unless `maxStalenessMs` allows. See the rules in DESIGN.md
 * "@podcreds/refresh".
 *
 * @param source - the provider to cache; called with the caller's identity properties.
 * @param options - see {@link RefreshOptions}.
 * @returns a provider that also has `refresh()`, `invalidate()`, `stats()` and `close()`.
 * @throws TypeError when `source` is not a function or an option is invalid (naming it).
 * @example
 * ```ts
 * import { S3Client } from '@aws-sdk/client-s3'
 * import { fromContainer } from '@podcreds/container'
 * import { refreshing } from '@podcreds/refresh'
 *
 * const s3 = new S3Client({ credentials: refreshing(fromContainer()) })
 * ```
 */
export function refreshing<T extends ExpiringIdentity>(
  source: (props?: IdentityProperties) => Promise<T>,
  options: RefreshOptions<T> = {},
): RefreshingProvider<T> {
  if (typeof source !== 'function') throw new TypeError('source must be a function returning a Promise')
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  validateClock('clock', options.clock)
  validateRandom('random', options.random)
  validateMilliseconds('refreshWindowMs', options.refreshWindowMs, { min: 1 })
  validateMilliseconds('mandatoryWindowMs', options.mandatoryWindowMs)
  validateMilliseconds('maxBackoffMs', options.maxBackoffMs, { min: 1 })
  validateMilliseconds('maxStalenessMs', options.maxStalenessMs)
  if (options.keyOf !== undefined && typeof options.keyOf !== 'function')
    throw new TypeError('keyOf must be a function (identity) => string | undefined')
  validateLogger('logger', options.logger)
  if (options.onEvent !== undefined && typeof options.onEvent !== 'function')
    throw new TypeError('onEvent must be a function (event) => void')

  const clock = options.clock ?? systemClock
  const random = options.random ?? systemRandom
  const configuredWindow = options.refreshWindowMs
  const configuredMandatory = options.mandatoryWindowMs ?? DEFAULT_MANDATORY_WINDOW_MS
  const maxBackoff = options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS
  const maxStaleness = options.maxStalenessMs ?? DEFAULT_MAX_STALENESS_MS
  const keyOf: (identity: T) => string | undefined = options.keyOf ?? defaultKeyOf
  const logger = options.logger
  const onEvent = options.onEvent
  const channels = refreshChannels()

  // ---- state ---------------------------------------------------------------------------------
  // Rule 15: the hot path reads `hotUntil` and `hotPromise` only. Every state change below ends in
  // `recompute()`, which keeps this invariant: while `clock.now() < hotUntil`, the right answer is
  // the cached identity, at once, with nothing to start.
  let hotUntil = Number.NEGATIVE_INFINITY
  let hotPromise: Promise<T> | undefined
  let cached: T | undefined
  let cachedKey: string | undefined
  let secrets: string[] = []
  let expiresAt = Number.POSITIVE_INFINITY
  let mandatoryAt = Number.POSITIVE_INFINITY
  let windowMs: number | undefined
  let mandatoryMs: number | undefined
  let fetchedOnce = false
  /** When the engine calls the source next on its own (refresh point or back-off). */
  let nextAttemptAt = Number.NEGATIVE_INFINITY
  /** Until then, callers that would wait get an answer at once instead (rules 6, 8, 9, 10). */
  let backoffUntil = Number.NEGATIVE_INFINITY
  /** Consecutive failed or unchanged source calls: the back-off exponent. */
  let streak = 0
  /** The error of the last source call, while the engine is in back-off after it. */
  let currentError: unknown
  let invalidated = false
  let closed = false
  let timer: unknown
  let timerArmed = false
  let lastProps: Record<string, unknown> | undefined
  let callsAtLastFire = 0
  /** Last time a timer fire saw that the engine had been called since the previous fire. */
  let activeAt = Number.NEGATIVE_INFINITY
  let lifetimeMs = 0

  /** The source call in flight: resolves with what the source returned, rejects with its error. */
  let raw: Promise<T> | undefined
  /** What callers waiting on `raw` get, decided when it settles (rules 5–8). */
  let flight: Promise<T> | undefined
  /** Callers waiting on `flight`, to count stale answers (rule 8). */
  let waiters = { n: 0 }

  let calls = 0
  let hits = 0
  let waits = 0
  let sourceCalls = 0
  let backgroundRefreshes = 0
  let failures = 0
  let unchanged = 0
  let servedStale = 0
  let lastError: RefreshErrorInfo | undefined

  // ---- events --------------------------------------------------------------------------------
  function emit(event: RefreshEvent): void {
    const ch = channels[event.type]
    if (ch.hasSubscribers) ch.publish(event)
    if (onEvent !== undefined) {
      try {
        onEvent(event)
      } catch {
        // An observer must not break credential delivery.
      }
    }
    if (logger !== undefined) {
      const { type, ...fields } = event
      const log = type === 'failure' || type === 'stale' ? logger.warn : logger.debug
      try {
        log?.call(logger, `podcreds refresh: ${type}`, fields as Record<string, unknown>)
      } catch {
        // Same: logging is best effort.
      }
    }
  }

  function event(type: RefreshEvent['type'], now: number): RefreshEvent {
    const e: RefreshEvent = { type, at: new Date(now) }
    if (cachedKey !== undefined && defaultKeyOf(cached) === cachedKey) e.keyId = redactKeyId(cachedKey)
    if (cached !== undefined && Number.isFinite(expiresAt)) e.expiresAt = new Date(expiresAt)
    if (timerArmed && Number.isFinite(nextAttemptAt)) e.nextRefreshAt = new Date(nextAttemptAt)
    return e
  }

  // ---- timer ---------------------------------------------------------------------------------
  function clearTimer(): void {
    if (timerArmed) {
      clock.clearTimeout(timer)
      timerArmed = false
      timer = undefined
    }
  }

  function arm(at: number, now: number): void {
    clearTimer()
    // Identities without expiry are cached until invalidate(), with no timer (DESIGN.md).
    if (closed || !Number.isFinite(at) || !Number.isFinite(expiresAt)) return
    // No keepAlive: the system clock unrefs the timer, so it never keeps the process alive (rule 4).
    timer = clock.setTimeout(onTimer, Math.max(0, at - now))
    timerArmed = true
  }

  function onTimer(): void {
    timerArmed = false
    timer = undefined
    if (closed || raw !== undefined) return
    const now = clock.now()
    // Rule 4: a timer may fire early (the system clock caps delays at 2³¹−1 ms) or late (laptop
    // sleep): trust the wall clock, not the timer.
    if (now < nextAttemptAt) {
      arm(nextAttemptAt, now)
      return
    }
    // An engine nobody calls any more (created per request and dropped, say) must not refresh, or
    // retry a dead source, forever: after two credential lifetimes without a call the timer stops.
    // The next call finds the refresh point passed and starts a refresh (waiting only if the
    // credentials are in the mandatory window or expired, as always).
    if (calls !== callsAtLastFire) {
      callsAtLastFire = calls
      activeAt = now
    } else if (now - activeAt > IDLE_LIFETIMES * lifetimeMs) return
    start('background', now)
  }

  // ---- decisions -----------------------------------------------------------------------------
  function recompute(): void {
    if (cached === undefined || invalidated) hotUntil = Number.NEGATIVE_INFINITY
    else if (raw !== undefined) hotUntil = mandatoryAt
    else hotUntil = Math.min(nextAttemptAt, mandatoryAt)
  }

  function backoffDelay(): number {
    // Rule 6: the n-th delay is uniform in [d/2, d], d = min(maxBackoffMs, 1 s · 2ⁿ), n from 0.
    const d = Math.min(maxBackoff, BASE_BACKOFF_MS * 2 ** Math.min(streak - 1, 40))
    return uniform(random, d / 2, d)
  }

  function expiredError(cause: unknown): CredentialsError {
    return new CredentialsError(
      `credentials expired at ${new Date(expiresAt).toISOString()} and the refresh failed` +
        (cause instanceof CredentialsError ? ` (${cause.code})` : ''),
      { code: 'ERR_CREDENTIALS_EXPIRED', retryable: true, cause },
    )
  }

  /**
   * The answer for a caller when the last source call failed with `error` (rules 6–9). Returns
   * `undefined` to serve the cached identity (still valid, or stale within `maxStalenessMs`), or the
   * error to raise.
   */
  function failureAnswer(error: unknown, now: number): { error: unknown } | undefined {
    if (cached === undefined) return { error } // rule 9: nothing to fall back on
    if (now < expiresAt) {
      // Rule 7: a non-recoverable error is raised only in the mandatory window.
      if (!isTransient(error) && now >= mandatoryAt) return { error }
      return undefined
    }
    if (now < expiresAt + maxStaleness) return undefined
    return { error: expiredError(error) }
  }

  function start(trigger: Trigger, now: number): void {
    clearTimer()
    sourceCalls++
    if (trigger === 'background') backgroundRefreshes++
    const flightWaiters = { n: 0 }
    waiters = flightWaiters
    const startEvent = event('start', now)
    startEvent.trigger = trigger
    emit(startEvent)
    let p: Promise<T>
    try {
      p = Promise.resolve(source(lastProps))
    } catch (error) {
      p = Promise.reject(error)
    }
    const r: Promise<T> = p.then(
      (value) => {
        try {
          return accept(value, now)
        } catch (error) {
          // A throwing keyOf (user code) must not leave the engine stuck with a call "in flight".
          if (raw === r) fail(error, now)
          throw error
        }
      },
      (error: unknown) => {
        fail(error, now)
        throw error
      },
    )
    const f = r.then(
      (value) => value,
      (error: unknown) => {
        const answer = failureAnswer(error, clock.now())
        if (answer === undefined) {
          if (clock.now() >= expiresAt) servedStale += flightWaiters.n
          return cached as T
        }
        throw answer.error
      },
    )
    // Background refreshes may fail with nobody listening; that is reported through stats and
    // events, never as an unhandled rejection.
    r.catch(noop)
    f.catch(noop)
    raw = r
    flight = f
    recompute()
  }

  function finish(): void {
    raw = undefined
    flight = undefined
  }

  function accept(value: T, startedAt: number): T {
    const now = clock.now()
    const expiration = (value as { expiration?: unknown } | null)?.expiration
    if (typeof value !== 'object' || value === null) {
      const error = new CredentialsError('the credential source returned no identity', {
        code: 'ERR_RESPONSE_INVALID',
        retryable: true,
      })
      fail(error, startedAt)
      throw error
    }
    if (expiration !== undefined && !(expiration instanceof Date && Number.isFinite(expiration.getTime()))) {
      const error = new CredentialsError('the credential source returned an invalid expiration', {
        code: 'ERR_RESPONSE_INVALID',
        retryable: true,
      })
      fail(error, startedAt)
      throw error
    }
    const newExpiresAt = expiration instanceof Date ? expiration.getTime() : Number.POSITIVE_INFINITY
    // Rule 11: already-expired credentials from the source are a failed refresh.
    if (newExpiresAt <= now) {
      const error = new CredentialsError(
        `the credential source returned credentials that expired at ${new Date(newExpiresAt).toISOString()}`,
        { code: 'ERR_CREDENTIALS_EXPIRED', retryable: true },
      )
      fail(error, startedAt)
      throw error
    }
    const key = keyOf(value)
    const same =
      cached !== undefined &&
      (key !== undefined ? key === cachedKey : value === cached) &&
      newExpiresAt <= expiresAt &&
      now < expiresAt
    finish()
    if (same) {
      // Rule 10: "refreshed" but the same credentials (the Pod Identity agent caches per token).
      // Keep ours; try again halfway to the latest refresh point, then with the rule-6 back-off.
      unchanged++
      streak++
      const target = expiresAt - (windowMs ?? 0) / 2
      const delay = Math.max(uniform(random, 0.4, 0.6) * (target - now), backoffDelay())
      nextAttemptAt = now + Math.round(delay)
      backoffUntil = nextAttemptAt
      currentError = undefined
      arm(nextAttemptAt, now)
      recompute()
      const e = event('unchanged', now)
      e.durationMs = now - startedAt
      e.attempt = streak
      emit(e)
      return cached as T
    }
    cached = value
    cachedKey = key
    secrets = secretsOf(value)
    hotPromise = Promise.resolve(value)
    expiresAt = newExpiresAt
    invalidated = false
    streak = 0
    currentError = undefined
    backoffUntil = Number.NEGATIVE_INFINITY
    if (!fetchedOnce) {
      callsAtLastFire = calls
      activeAt = now
    }
    if (Number.isFinite(expiresAt)) {
      // Scheduling looks at most SCHEDULING_HORIZON_MS ahead: credentials claiming to last for years
      // (a misconfigured source, a clock far off) are accepted but refreshed within a week, so a
      // revoked or rotated set never lives on for that long (issue #11).
      const horizon = Math.min(expiresAt, now + SCHEDULING_HORIZON_MS)
      const lifetime = horizon - now
      lifetimeMs = lifetime
      // Rule 2, the window clamped to the lifetime (it is unknown at construction). The mandatory
      // window stays inside the second half of the advisory one, so every refresh point lies
      // before it and a caller never has to wait for a refresh that is simply due.
      const w = Math.min(configuredWindow ?? advisoryWindowFor(lifetime), lifetime)
      const m = Math.min(configuredMandatory, w / 2)
      windowMs = w
      mandatoryMs = m
      mandatoryAt = expiresAt - m
      // Rule 3: jittered per fetch in [expiry − W, expiry − W/2]; the first refresh of an engine is
      // spread over [fetch + lifetime/4, expiry − W/2] so a fleet started together never phase-locks.
      // The lower bound never comes before fetch + lifetime/4 either: a window as long as the
      // lifetime would otherwise allow a refresh right after the fetch.
      const lo = Math.max(fetchedOnce ? horizon - w : 0, now + lifetime / 4)
      nextAttemptAt = Math.round(uniform(random, lo, horizon - w / 2))
    } else {
      windowMs = undefined
      mandatoryMs = undefined
      mandatoryAt = Number.POSITIVE_INFINITY
      nextAttemptAt = Number.POSITIVE_INFINITY
    }
    fetchedOnce = true
    arm(nextAttemptAt, now)
    recompute()
    const e = event('success', now)
    e.durationMs = now - startedAt
    emit(e)
    return value
  }

  function fail(error: unknown, startedAt: number): void {
    const now = clock.now()
    finish()
    failures++
    streak++
    currentError = error
    lastError = describeError(error, now, secrets)
    if (cached === undefined) {
      // Rule 9: cache the error for a jittered 1–5 s; no timer, the next caller retries.
      nextAttemptAt = now + Math.round(uniform(random, ERROR_CACHE_MIN_MS, ERROR_CACHE_MAX_MS))
    } else if (isTransient(error)) {
      nextAttemptAt = now + Math.round(backoffDelay())
    } else {
      // Rule 7: non-recoverable — retry at the back-off cap, someone may be fixing the policy.
      nextAttemptAt = now + Math.round(uniform(random, maxBackoff / 2, maxBackoff))
    }
    backoffUntil = nextAttemptAt
    if (cached !== undefined) arm(nextAttemptAt, now)
    recompute()
    const e = event('failure', now)
    e.durationMs = now - startedAt
    e.attempt = streak
    e.error = lastError
    emit(e)
    if (cached !== undefined && now >= expiresAt && now < expiresAt + maxStaleness) {
      const s = event('stale', now)
      s.error = lastError
      emit(s)
    }
  }

  // ---- the provider --------------------------------------------------------------------------
  function slow(props: Record<string, unknown> | undefined): Promise<T> {
    const now = clock.now()
    calls++
    if (props !== undefined) lastProps = props
    if (flight !== undefined && (cached === undefined || invalidated || now >= mandatoryAt)) {
      // Rules 1 and 5: wait on the source call in flight, never on a timer.
      waits++
      waiters.n++
      return flight
    }
    if (cached === undefined) {
      if (now < backoffUntil) return Promise.reject(currentError) // rule 9: the cached error
      start('initial', now)
      waits++
      waiters.n++
      return flight!
    }
    if (!invalidated && now < mandatoryAt) {
      // Rule 4: outside the mandatory window nobody waits; a refresh point that passed without its
      // timer firing (a late timer, a closed or idle engine) starts the refresh in the background.
      if (flight === undefined && now >= nextAttemptAt) start('background', now)
      hits++
      return hotPromise!
    }
    if (now >= backoffUntil || (currentError === undefined && now >= expiresAt)) {
      // Rules 5 and 12: inside the mandatory window, after expiry, or invalidated.
      start(invalidated ? 'invalidated' : 'blocking', now)
      waits++
      waiters.n++
      return flight!
    }
    // In back-off after a failed or unchanged source call: answer at once (rule 8: a caller
    // never waits longer than one source attempt; rule 6: the source's load stays bounded).
    const answer = currentError === undefined ? undefined : failureAnswer(currentError, now)
    if (answer !== undefined) return Promise.reject(answer.error)
    hits++
    if (now >= expiresAt) {
      servedStale++
      return Promise.resolve(cached)
    }
    return hotPromise!
  }

  const provider = ((props?: IdentityProperties): Promise<T> => {
    // Rule 15, the hot path: one clock read and comparison, then the already-resolved promise.
    if (clock.now() < hotUntil) {
      calls++
      hits++
      return hotPromise!
    }
    return slow(props)
  }) as RefreshingProvider<T>

  provider.refresh = (): Promise<T> => {
    if (raw === undefined) start('forced', clock.now())
    return raw!
  }

  provider.invalidate = (key?: string): void => {
    if (cached === undefined) return
    if (key !== undefined && key !== cachedKey) return // credentials already replaced
    // A key AWS rejected must not be served through a rule-10 back-off (the source last answered
    // "unchanged"): the first invalidation of a key lifts that back-off once, so the next caller
    // asks the source again. A failure back-off stays (rule 6 bounds the load on a sick source),
    // and so does a back-off after a repeated invalidation of the same key.
    if (!invalidated && currentError === undefined) backoffUntil = Number.NEGATIVE_INFINITY
    invalidated = true
    recompute()
  }

  provider.stats = (): RefreshStats => {
    const s: RefreshStats = {
      calls,
      hits,
      waits,
      sourceCalls,
      backgroundRefreshes,
      failures,
      unchanged,
      servedStale,
      refreshing: raw !== undefined,
      closed,
    }
    if (cached !== undefined && Number.isFinite(expiresAt)) s.expiresAt = new Date(expiresAt)
    if (timerArmed && Number.isFinite(nextAttemptAt)) s.nextRefreshAt = new Date(nextAttemptAt)
    if (windowMs !== undefined) s.refreshWindowMs = windowMs
    if (mandatoryMs !== undefined) s.mandatoryWindowMs = mandatoryMs
    if (lastError !== undefined) s.lastError = { ...lastError }
    return s
  }

  provider.close = (): void => {
    closed = true
    clearTimer()
  }
  provider[Symbol.dispose] = provider.close

  return provider
}
