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
import { advisoryWindowFor } from './advisoryWindowFor.js'
import { refreshChannels } from './internal/channels.js'
import { describeError, isTransient, secretsOf } from './internal/describeError.js'
import type { Scheduled } from './internal/Scheduler.js'
import { Scheduler } from './internal/Scheduler.js'
import { uniform } from './internal/windows.js'
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

const NO_SECRETS: readonly string[] = []

/** The options an engine reads after construction, besides `source` and `clock`. */
interface Settings<T> {
  readonly random: Random
  readonly configuredWindow: number | undefined
  readonly configuredMandatory: number
  readonly maxBackoff: number
  readonly maxStaleness: number
  readonly keyOf: (identity: T) => string | undefined
  readonly logger: Logger | undefined
  readonly onEvent: ((event: RefreshEvent) => void) | undefined
}

let defaultSettings: Settings<unknown> | undefined

/**
 * What an engine keeps once a source call has failed or answered "unchanged" (rules 6–10), made
 * then rather than with every engine (benchmarks scenario 8: most engines never need it).
 */
class Trouble {
  /** Consecutive failed or unchanged source calls: the back-off exponent. */
  streak = 0
  /** The error of the last source call, while the engine is in back-off after it. */
  currentError: unknown = undefined
  failures = 0
  unchanged = 0
  servedStale = 0
  /** Calls answered at once with an error (rules 7–9): neither hits nor waits. */
  rejected = 0
  lastError: RefreshErrorInfo | undefined = undefined
  /**
   * A key AWS rejected (rule 12) that the source then answered again: the engine retries it on
   * its own a few times ({@link REJECTED_KEY_RETRIES}) and ignores further invalidations of it.
   */
  rejectedKey: string | undefined = undefined
  rejectedRetries = 0
}

/**
 * How many times the engine asks again, with the rule-6 back-off, after the source answered a key
 * AWS rejected with that same key (then the rule-10 schedule): 1 + 2 + 4 + … s, about a minute.
 */
const REJECTED_KEY_RETRIES = 6

function troubleOf<T extends ExpiringIdentity>(e: Engine<T>): Trouble {
  e.trouble ??= new Trouble()
  return e.trouble
}

/** The error of the last source call, while the engine is in back-off after it. */
function currentError<T extends ExpiringIdentity>(e: Engine<T>): unknown {
  return e.trouble?.currentError
}

/** One source call in flight (rule 1: every caller that waits, waits on this one). */
interface Flight<T> {
  /** Resolves with what the source returned, rejects with its error. */
  readonly raw: Promise<T>
  /** What callers waiting on `raw` get, decided when it settles (rules 5–8). */
  readonly answer: Promise<T>
  /** Callers waiting on `answer`, to count stale answers (rule 8). */
  waiters: number
}

function settingsOf<T>(options: RefreshOptions<T>): Settings<T> {
  const o = options
  const none =
    o.random === undefined &&
    o.refreshWindowMs === undefined &&
    o.mandatoryWindowMs === undefined &&
    o.maxBackoffMs === undefined &&
    o.maxStalenessMs === undefined &&
    o.keyOf === undefined &&
    o.logger === undefined &&
    o.onEvent === undefined
  if (none && defaultSettings !== undefined) return defaultSettings
  const made: Settings<T> = {
    random: o.random ?? systemRandom,
    configuredWindow: o.refreshWindowMs,
    configuredMandatory: o.mandatoryWindowMs ?? DEFAULT_MANDATORY_WINDOW_MS,
    maxBackoff: o.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
    maxStaleness: o.maxStalenessMs ?? DEFAULT_MAX_STALENESS_MS,
    keyOf: o.keyOf ?? defaultKeyOf,
    logger: o.logger,
    onEvent: o.onEvent,
  }
  if (none) defaultSettings = made as Settings<unknown>
  return made
}

const FETCHED_ONCE = 1
const INVALIDATED = 2
const CLOSED = 4
const IN_BACKOFF = 8
/** The bits of `flags` below hold the booleans; the bits above, the scheduler slot plus one. */
const BOOLEAN_BITS = 4
const BOOLEANS = (1 << BOOLEAN_BITS) - 1

/**
 * The whole state of one engine, in one object. Memory (benchmarks scenario 8): processes may hold
 * thousands of engines, so an engine is this object and its provider function (the hot path); its
 * timer is an entry in the {@link Scheduler} of its clock, shared by every engine on that clock. The
 * logic lives in module-level functions taking the engine, and `refresh`, `invalidate`, `stats`,
 * `close` are shared methods on the provider's prototype, not per-instance closures.
 */
class Engine<T extends ExpiringIdentity> implements Scheduled {
  readonly source: (props?: IdentityProperties) => Promise<T>
  readonly clock: Clock
  /** The other options, resolved: one object shared by every engine made without them. */
  readonly s: Settings<T>

  // Rule 15: the hot path reads `hotUntil` and `hotPromise` only. Every state change below ends in
  // `recompute()`, which keeps this invariant: while `clock.now() < hotUntil`, the right answer is
  // the cached identity, at once, with nothing to start.
  hotUntil = Number.NEGATIVE_INFINITY
  hotPromise: Promise<T> | undefined = undefined
  cached: T | undefined = undefined
  cachedKey: string | undefined = undefined
  expiresAt = Number.POSITIVE_INFINITY
  /** When the engine calls the source next on its own (refresh point or back-off). */
  nextAttemptAt = Number.NEGATIVE_INFINITY
  lastProps: Record<string, unknown> | undefined = undefined
  callsAtLastFire = 0
  /** Last time a timer fire saw that the engine had been called since the previous fire. */
  activeAt = Number.NEGATIVE_INFINITY
  /**
   * The lifetime the windows were chosen from at the last fetch (capped at the scheduling horizon),
   * 0 while the cached identity has no finite expiry. The windows are derived from it, not stored:
   * see {@link windowOf} and {@link mandatoryOf}.
   */
  lifetimeMs = 0

  /** The source call in flight, if any: one object per call, not three fields per engine. */
  flight: Flight<T> | undefined = undefined

  /** Every call; `hits` is derived: `calls − waits − trouble.rejected` (see `statsMethod`). */
  calls = 0
  waits = 0
  sourceCalls = 0
  backgroundRefreshes = 0
  /** Made on the first failed or unchanged source call; most engines never need it. */
  trouble: Trouble | undefined = undefined

  /**
   * The booleans below and the scheduler slot, packed in one small integer (a field per engine
   * each would cost 8 bytes). The slot takes the bits above the booleans: 67 million engines on one
   * clock still keep the integer below 2³⁰, a small integer (unboxed) in every V8 build — far more
   * engines than a Node heap can hold.
   */
  flags = 0

  /** The engine's place in its clock's scheduler; `-1` while no timer is armed. */
  get slot(): number {
    return (this.flags >> BOOLEAN_BITS) - 1
  }
  set slot(i: number) {
    this.flags = (this.flags & BOOLEANS) | ((i + 1) << BOOLEAN_BITS)
  }

  /** Whether the source has answered with an identity at least once. */
  get fetchedOnce(): boolean {
    return (this.flags & FETCHED_ONCE) !== 0
  }
  set fetchedOnce(on: boolean) {
    this.flags = on ? this.flags | FETCHED_ONCE : this.flags & ~FETCHED_ONCE
  }
  /** The cached identity was invalidated (rule 12) and not replaced yet. */
  get invalidated(): boolean {
    return (this.flags & INVALIDATED) !== 0
  }
  set invalidated(on: boolean) {
    this.flags = on ? this.flags | INVALIDATED : this.flags & ~INVALIDATED
  }
  /** In back-off after a failed or unchanged source call, until `nextAttemptAt`: see {@link backoffUntil}. */
  get inBackoff(): boolean {
    return (this.flags & IN_BACKOFF) !== 0
  }
  set inBackoff(on: boolean) {
    this.flags = on ? this.flags | IN_BACKOFF : this.flags & ~IN_BACKOFF
  }
  /**
   * Until then, callers that would wait get an answer at once instead (rules 6, 8, 9, 10). A
   * back-off always ends at the next attempt, so this is derived rather than stored (one field and
   * one boxed number less per engine).
   */
  get backoffUntil(): number {
    return (this.flags & IN_BACKOFF) !== 0 ? this.nextAttemptAt : Number.NEGATIVE_INFINITY
  }
  /** `close()` was called. */
  get closed(): boolean {
    return (this.flags & CLOSED) !== 0
  }
  set closed(on: boolean) {
    this.flags = on ? this.flags | CLOSED : this.flags & ~CLOSED
  }
  /** A timer is armed: the engine is in its clock's scheduler. */
  get timerArmed(): boolean {
    return this.slot >= 0
  }

  constructor(source: (props?: IdentityProperties) => Promise<T>, options: RefreshOptions<T>) {
    this.source = source
    this.clock = options.clock ?? systemClock
    this.s = settingsOf(options)
  }

  /** The scheduler's callback: the engine's timer fired. */
  fire(): void {
    onTimer(this)
  }
}

// ---- events ----------------------------------------------------------------------------------
function emit<T extends ExpiringIdentity>(e: Engine<T>, event: RefreshEvent): void {
  const ch = refreshChannels()[event.type]
  if (ch.hasSubscribers) ch.publish(event)
  const onEvent = e.s.onEvent
  if (onEvent !== undefined) {
    try {
      onEvent(event)
    } catch {
      // An observer must not break credential delivery.
    }
  }
  const logger = e.s.logger
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

function event<T extends ExpiringIdentity>(
  e: Engine<T>,
  type: RefreshEvent['type'],
  now: number,
): RefreshEvent {
  const ev: RefreshEvent = { type, at: new Date(now) }
  if (e.cachedKey !== undefined && defaultKeyOf(e.cached) === e.cachedKey) ev.keyId = redactKeyId(e.cachedKey)
  if (e.cached !== undefined && Number.isFinite(e.expiresAt)) ev.expiresAt = new Date(e.expiresAt)
  if (e.timerArmed && Number.isFinite(e.nextAttemptAt)) ev.nextRefreshAt = new Date(e.nextAttemptAt)
  return ev
}

// ---- timer -----------------------------------------------------------------------------------
function clearTimer<T extends ExpiringIdentity>(e: Engine<T>): void {
  if (e.slot >= 0) Scheduler.of(e.clock).remove(e)
}

function arm<T extends ExpiringIdentity>(e: Engine<T>, at: number): void {
  // Identities without expiry are cached until invalidate(), with no timer (DESIGN.md).
  if (e.closed || !Number.isFinite(at) || !Number.isFinite(e.expiresAt)) {
    clearTimer(e)
    return
  }
  // The clock's scheduler sets its one timer without keepAlive: the system clock unrefs it, so it
  // never keeps the process alive (rule 4).
  try {
    Scheduler.of(e.clock).add(e, at)
  } catch (error) {
    // An injected clock whose setTimeout threw: no timer for this engine. Nothing is lost for
    // callers: the hot path ends at nextAttemptAt, and the first call after it starts the attempt
    // in the background, as after a timer that fired late (rule 4).
    e.s.logger?.warn?.call(e.s.logger, 'podcreds refresh: the clock could not set a timer', {
      error: error instanceof Error ? error.message : String(error),
    })
  }
}

function onTimer<T extends ExpiringIdentity>(e: Engine<T>): void {
  if (e.closed || e.flight !== undefined) return
  const now = e.clock.now()
  // Rule 4: a timer may fire early (the system clock caps delays at 2³¹−1 ms) or late (laptop
  // sleep): trust the wall clock, not the timer.
  if (now < e.nextAttemptAt) {
    arm(e, e.nextAttemptAt)
    return
  }
  // An engine nobody calls any more (created per request and dropped, say) must not refresh, or
  // retry a dead source, forever: after two credential lifetimes without a call the timer stops.
  // The next call finds the refresh point passed and starts a refresh (waiting only if the
  // credentials are in the mandatory window or expired, as always).
  if (e.calls !== e.callsAtLastFire) {
    e.callsAtLastFire = e.calls
    e.activeAt = now
  } else if (now - e.activeAt > IDLE_LIFETIMES * e.lifetimeMs) return
  start(e, 'background', now)
}

// ---- decisions -------------------------------------------------------------------------------
/**
 * Rule 2: the advisory window of the cached identity, clamped to its lifetime (unknown at
 * construction); `undefined` when it has no finite expiry. Derived from the lifetime at fetch time
 * rather than stored, as are the mandatory window and its start (fields less per engine).
 */
function windowOf<T extends ExpiringIdentity>(e: Engine<T>): number | undefined {
  const lifetime = e.lifetimeMs
  if (lifetime === 0) return undefined
  return Math.min(e.s.configuredWindow ?? advisoryWindowFor(lifetime), lifetime)
}

/**
 * The mandatory window: inside the second half of the advisory one, so every refresh point lies
 * before it and a caller never has to wait for a refresh that is simply due.
 */
function mandatoryOf<T extends ExpiringIdentity>(e: Engine<T>): number | undefined {
  const w = windowOf(e)
  return w === undefined ? undefined : Math.min(e.s.configuredMandatory, w / 2)
}

/** Where the mandatory window starts. */
function mandatoryAt<T extends ExpiringIdentity>(e: Engine<T>): number {
  const m = mandatoryOf(e)
  return m === undefined ? Number.POSITIVE_INFINITY : e.expiresAt - m
}

function recompute<T extends ExpiringIdentity>(e: Engine<T>): void {
  if (e.cached === undefined || e.invalidated) e.hotUntil = Number.NEGATIVE_INFINITY
  else if (e.flight !== undefined) e.hotUntil = mandatoryAt(e)
  else e.hotUntil = Math.min(e.nextAttemptAt, mandatoryAt(e))
}

function backoffDelay<T extends ExpiringIdentity>(e: Engine<T>): number {
  // Rule 6: the n-th delay is uniform in [d/2, d], d = min(maxBackoffMs, 1 s · 2ⁿ), n from 0.
  const d = Math.min(e.s.maxBackoff, BASE_BACKOFF_MS * 2 ** Math.min(troubleOf(e).streak - 1, 40))
  return uniform(e.s.random, d / 2, d)
}

function expiredError<T extends ExpiringIdentity>(e: Engine<T>, cause: unknown): CredentialsError {
  return new CredentialsError(
    `credentials expired at ${new Date(e.expiresAt).toISOString()} and the refresh failed` +
      (cause instanceof CredentialsError ? ` (${cause.code})` : ''),
    { code: 'ERR_CREDENTIALS_EXPIRED', retryable: true, cause },
  )
}

/**
 * The answer for a caller when the last source call failed with `error` (rules 6–9). Returns
 * `undefined` to serve the cached identity (still valid, or stale within `maxStalenessMs`), or the
 * error to raise.
 */
function failureAnswer<T extends ExpiringIdentity>(
  e: Engine<T>,
  error: unknown,
  now: number,
): { error: unknown } | undefined {
  if (e.cached === undefined) return { error } // rule 9: nothing to fall back on
  if (now < e.expiresAt) {
    // Rule 7: a non-recoverable error is raised only in the mandatory window.
    if (!isTransient(error) && now >= mandatoryAt(e)) return { error }
    return undefined
  }
  if (now < e.expiresAt + e.s.maxStaleness) return undefined
  return { error: expiredError(e, error) }
}

function start<T extends ExpiringIdentity>(e: Engine<T>, trigger: Trigger, now: number): void {
  clearTimer(e)
  e.sourceCalls++
  if (trigger === 'background') e.backgroundRefreshes++
  const startEvent = event(e, 'start', now)
  startEvent.trigger = trigger
  emit(e, startEvent)
  let p: Promise<T>
  try {
    p = Promise.resolve(e.source(e.lastProps))
  } catch (error) {
    p = Promise.reject(error)
  }
  const r: Promise<T> = p.then(
    (value) => {
      try {
        return accept(e, value, now)
      } catch (error) {
        // A throwing keyOf (user code) must not leave the engine stuck with a call "in flight".
        if (e.flight === flight) fail(e, error, now)
        throw error
      }
    },
    (error: unknown) => {
      fail(e, error, now)
      throw error
    },
  )
  const f = r.then(
    (value) => value,
    (error: unknown) => {
      const answer = failureAnswer(e, error, e.clock.now())
      if (answer === undefined) {
        if (e.clock.now() >= e.expiresAt) troubleOf(e).servedStale += flight.waiters
        return e.cached as T
      }
      throw answer.error
    },
  )
  // Background refreshes may fail with nobody listening; that is reported through stats and
  // events, never as an unhandled rejection.
  r.catch(noop)
  f.catch(noop)
  const flight: Flight<T> = { raw: r, answer: f, waiters: 0 }
  e.flight = flight
  recompute(e)
}

function finish<T extends ExpiringIdentity>(e: Engine<T>): void {
  // Nobody can join a finished call; its handlers hold their own flight object.
  e.flight = undefined
}

function accept<T extends ExpiringIdentity>(e: Engine<T>, value: T, startedAt: number): T {
  const now = e.clock.now()
  const expiration = (value as { expiration?: unknown } | null)?.expiration
  if (typeof value !== 'object' || value === null) {
    const error = new CredentialsError('the credential source returned no identity', {
      code: 'ERR_RESPONSE_INVALID',
      retryable: true,
    })
    fail(e, error, startedAt)
    throw error
  }
  if (expiration !== undefined && !(expiration instanceof Date && Number.isFinite(expiration.getTime()))) {
    const error = new CredentialsError('the credential source returned an invalid expiration', {
      code: 'ERR_RESPONSE_INVALID',
      retryable: true,
    })
    fail(e, error, startedAt)
    throw error
  }
  const newExpiresAt = expiration instanceof Date ? expiration.getTime() : Number.POSITIVE_INFINITY
  // Rule 11: already-expired credentials from the source are a failed refresh.
  if (newExpiresAt <= now) {
    const error = new CredentialsError(
      `the credential source returned credentials that expired at ${new Date(newExpiresAt).toISOString()}`,
      { code: 'ERR_CREDENTIALS_EXPIRED', retryable: true },
    )
    fail(e, error, startedAt)
    throw error
  }
  const key = e.s.keyOf(value)
  const same =
    e.cached !== undefined &&
    (key !== undefined ? key === e.cachedKey : value === e.cached) &&
    newExpiresAt <= e.expiresAt &&
    now < e.expiresAt
  finish(e)
  if (same) {
    // Rule 10: "refreshed" but the same credentials (the Pod Identity agent caches per token).
    // Keep ours; try again halfway to the latest refresh point; once that is past, halfway to the
    // mandatory window, so the calls thin out geometrically towards it rather than run at the
    // back-off cap (an agent that renews 15 min before expiry: 9 calls in the busiest
    // process-hour, not 29; benchmarks scenario 5). Never sooner than the rule-6 back-off. A key
    // AWS rejected (rule 12) that comes back is asked about again sooner: a few attempts on the
    // rule-6 back-off alone, then this schedule.
    const t = troubleOf(e)
    t.unchanged++
    t.streak++
    if (e.invalidated) {
      // The key AWS rejected, answered again: it is all there is, so serve it without making
      // callers wait (hot path again), retry it a few times on the back-off, and take further
      // invalidations of it as known.
      e.invalidated = false
      t.rejectedKey = e.cachedKey
      t.rejectedRetries = 0
    }
    const retryRejected = t.rejectedKey === e.cachedKey && t.rejectedRetries < REJECTED_KEY_RETRIES
    if (retryRejected) t.rejectedRetries++
    // The latest refresh point, and never beyond the scheduling horizon (issue #11: a set that
    // lasts a month is still asked about within a week).
    const latest = Math.min(e.expiresAt - (windowOf(e) ?? 0) / 2, now + SCHEDULING_HORIZON_MS)
    const target = retryRejected ? now : now < latest ? latest : mandatoryAt(e)
    const delay = Math.max(uniform(e.s.random, 0.4, 0.6) * (target - now), backoffDelay(e))
    e.nextAttemptAt = now + Math.round(delay)
    e.inBackoff = true
    t.currentError = undefined
    arm(e, e.nextAttemptAt)
    recompute(e)
    const ev = event(e, 'unchanged', now)
    ev.durationMs = now - startedAt
    ev.attempt = t.streak
    emit(e, ev)
    return e.cached as T
  }
  e.cached = value
  e.cachedKey = key
  e.hotPromise = Promise.resolve(value)
  e.expiresAt = newExpiresAt
  e.invalidated = false
  if (e.trouble !== undefined) {
    e.trouble.streak = 0
    e.trouble.currentError = undefined
    e.trouble.rejectedKey = undefined
  }
  e.inBackoff = false
  if (!e.fetchedOnce) {
    e.callsAtLastFire = e.calls
    e.activeAt = now
  }
  if (Number.isFinite(e.expiresAt)) {
    // Scheduling looks at most SCHEDULING_HORIZON_MS ahead: credentials claiming to last for years
    // (a misconfigured source, a clock far off) are accepted but refreshed within a week, so a
    // revoked or rotated set never lives on for that long (issue #11).
    const horizon = Math.min(e.expiresAt, now + SCHEDULING_HORIZON_MS)
    const lifetime = horizon - now
    // Stored as a small integer when it is one (always, with integer clocks: capped at 7 days, it
    // fits 31 bits), so V8 keeps the field unboxed: 16 B per engine (benchmarks scenario 8).
    e.lifetimeMs = (lifetime | 0) === lifetime ? lifetime | 0 : lifetime
    const w = windowOf(e)!
    // Rule 3: jittered per fetch in [expiry − W, expiry − W/2]; the first refresh of an engine is
    // spread over [fetch + lifetime/4, expiry − W/2] so a fleet started together never phase-locks.
    // The lower bound never comes before fetch + lifetime/4 either: a window as long as the
    // lifetime would otherwise allow a refresh right after the fetch.
    const lo = Math.max(e.fetchedOnce ? horizon - w : 0, now + lifetime / 4)
    e.nextAttemptAt = Math.round(uniform(e.s.random, lo, horizon - w / 2))
  } else {
    e.lifetimeMs = 0
    e.nextAttemptAt = Number.POSITIVE_INFINITY
  }
  e.fetchedOnce = true
  arm(e, e.nextAttemptAt)
  recompute(e)
  const ev = event(e, 'success', now)
  ev.durationMs = now - startedAt
  emit(e, ev)
  return value
}

function fail<T extends ExpiringIdentity>(e: Engine<T>, error: unknown, startedAt: number): void {
  const now = e.clock.now()
  finish(e)
  const t = troubleOf(e)
  t.failures++
  t.streak++
  t.currentError = error
  // The secrets of the identity we hold, computed here rather than kept per engine.
  t.lastError = describeError(error, now, e.cached === undefined ? NO_SECRETS : secretsOf(e.cached))
  if (e.cached === undefined) {
    // Rule 9: cache the error for a jittered 1–5 s; no timer, the next caller retries.
    e.nextAttemptAt = now + Math.round(uniform(e.s.random, ERROR_CACHE_MIN_MS, ERROR_CACHE_MAX_MS))
  } else if (isTransient(error)) {
    e.nextAttemptAt = now + Math.round(backoffDelay(e))
  } else {
    // Rule 7: non-recoverable — retry at the back-off cap, someone may be fixing the policy.
    e.nextAttemptAt = now + Math.round(uniform(e.s.random, e.s.maxBackoff / 2, e.s.maxBackoff))
  }
  e.inBackoff = true
  if (e.cached !== undefined) arm(e, e.nextAttemptAt)
  recompute(e)
  const ev = event(e, 'failure', now)
  ev.durationMs = now - startedAt
  ev.attempt = t.streak
  ev.error = t.lastError
  emit(e, ev)
  if (e.cached !== undefined && now >= e.expiresAt && now < e.expiresAt + e.s.maxStaleness) {
    const s = event(e, 'stale', now)
    s.error = t.lastError
    emit(e, s)
  }
}

// ---- the provider ----------------------------------------------------------------------------
function slow<T extends ExpiringIdentity>(
  e: Engine<T>,
  props: Record<string, unknown> | undefined,
): Promise<T> {
  const now = e.clock.now()
  e.calls++
  if (props !== undefined) e.lastProps = props
  if (e.flight !== undefined && (e.cached === undefined || e.invalidated || now >= mandatoryAt(e))) {
    // Rules 1 and 5: wait on the source call in flight, never on a timer.
    e.waits++
    e.flight.waiters++
    return e.flight.answer
  }
  if (e.cached === undefined) {
    if (now < e.backoffUntil) {
      // Rule 9: the cached error (a back-off without an identity always follows a failure).
      const t = troubleOf(e)
      t.rejected++
      return Promise.reject(t.currentError)
    }
    start(e, 'initial', now)
    e.waits++
    e.flight!.waiters++
    return e.flight!.answer
  }
  if (!e.invalidated && now < mandatoryAt(e)) {
    // Rule 4: outside the mandatory window nobody waits; a refresh point that passed without its
    // timer firing (a late timer, a closed or idle engine) starts the refresh in the background.
    if (e.flight === undefined && now >= e.nextAttemptAt) start(e, 'background', now)
    return e.hotPromise!
  }
  const error = currentError(e)
  if (now >= e.backoffUntil || (error === undefined && now >= e.expiresAt)) {
    // Rules 5 and 12: inside the mandatory window, after expiry, or invalidated.
    start(e, e.invalidated ? 'invalidated' : 'blocking', now)
    e.waits++
    e.flight!.waiters++
    return e.flight!.answer
  }
  // In back-off after a failed or unchanged source call: answer at once (rule 8: a caller
  // never waits longer than one source attempt; rule 6: the source's load stays bounded).
  const answer = error === undefined ? undefined : failureAnswer(e, error, now)
  if (answer !== undefined) {
    troubleOf(e).rejected++
    return Promise.reject(answer.error)
  }
  if (now >= e.expiresAt) {
    troubleOf(e).servedStale++
    return Promise.resolve(e.cached)
  }
  return e.hotPromise!
}

/**
 * Each provider's engine, for the shared methods below. A WeakMap, not a property on the provider:
 * the engine holds the credentials, and nothing reachable from the provider (`util.inspect` with
 * `showHidden`, say) may show them.
 */
const engines = new WeakMap<object, Engine<ExpiringIdentity>>()

function engineOf(provider: unknown): Engine<ExpiringIdentity> {
  const e = typeof provider === 'function' ? engines.get(provider) : undefined
  if (e === undefined)
    throw new TypeError(
      'refresh(), invalidate(), stats() and close() must be called on a refreshing() provider',
    )
  return e
}

function refreshMethod(this: unknown): Promise<ExpiringIdentity> {
  const e = engineOf(this)
  if (e.flight === undefined) start(e, 'forced', e.clock.now())
  return e.flight!.raw
}

function invalidateMethod(this: unknown, key?: string): void {
  const e = engineOf(this)
  if (e.cached === undefined) return
  if (key !== undefined && key !== e.cachedKey) return // credentials already replaced
  // Rejected before and answered again by the source: the engine is retrying it already.
  if (e.trouble?.rejectedKey !== undefined && e.trouble.rejectedKey === e.cachedKey) return
  // A key AWS rejected must not be served through a rule-10 back-off (the source last answered
  // "unchanged"): the first invalidation of a key lifts that back-off once, so the next caller
  // asks the source again. A failure back-off stays (rule 6 bounds the load on a sick source),
  // and so does a back-off after a repeated invalidation of the same key.
  if (!e.invalidated && currentError(e) === undefined) e.inBackoff = false
  e.invalidated = true
  recompute(e)
}

function statsMethod(this: unknown): RefreshStats {
  const e = engineOf(this)
  const t = e.trouble
  const s: RefreshStats = {
    calls: e.calls,
    hits: e.calls - e.waits - (t?.rejected ?? 0),
    waits: e.waits,
    sourceCalls: e.sourceCalls,
    backgroundRefreshes: e.backgroundRefreshes,
    failures: t?.failures ?? 0,
    unchanged: t?.unchanged ?? 0,
    servedStale: t?.servedStale ?? 0,
    refreshing: e.flight !== undefined,
    closed: e.closed,
  }
  if (e.cached !== undefined && Number.isFinite(e.expiresAt)) s.expiresAt = new Date(e.expiresAt)
  if (e.timerArmed && Number.isFinite(e.nextAttemptAt)) s.nextRefreshAt = new Date(e.nextAttemptAt)
  const w = windowOf(e)
  if (w !== undefined) {
    s.refreshWindowMs = w
    s.mandatoryWindowMs = mandatoryOf(e)!
  }
  if (t?.lastError !== undefined) s.lastError = { ...t.lastError }
  return s
}

function closeMethod(this: unknown): void {
  const e = engineOf(this)
  e.closed = true
  clearTimer(e)
}

/** The provider function of an engine, bound to it. */
function provider(this: Engine<ExpiringIdentity>, props?: IdentityProperties): Promise<ExpiringIdentity> {
  // Rule 15, the hot path: one clock read and comparison, then the already-resolved promise.
  if (this.clock.now() < this.hotUntil) {
    this.calls++ // a hit: `hits` is derived from `calls`
    return this.hotPromise!
  }
  return slow(this, props)
}

/**
 * The prototype of every provider: `Function.prototype` plus the shared methods, made on the first
 * `refreshing()` call (import-time work is zero). Own properties assigned to a provider (a wrapper
 * replacing `close`, say) still shadow these.
 */
let providerProto: object | undefined

function makeProviderProto(): object {
  const proto: Record<PropertyKey, unknown> = Object.create(Function.prototype)
  proto.refresh = refreshMethod
  proto.invalidate = invalidateMethod
  proto.stats = statsMethod
  proto.close = closeMethod
  proto[Symbol.dispose] = closeMethod
  return proto
}

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

  const e = new Engine(source, options) as unknown as Engine<ExpiringIdentity>
  // A bound function, not a closure: no context object per engine (benchmarks scenario 8).
  const bound = provider.bind(e)
  engines.set(bound, e)
  providerProto ??= makeProviderProto()
  Object.setPrototypeOf(bound, providerProto)
  return bound as unknown as RefreshingProvider<T>
}
