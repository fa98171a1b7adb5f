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
import type { Action, Config, Event, State } from './internal/decide.js'
import { decide, hotUntil, INITIAL_STATE } from './internal/decide.js'
import { describeError, isTransient, secretsOf } from './internal/describeError.js'
import type { Scheduled } from './internal/Scheduler.js'
import { Scheduler } from './internal/Scheduler.js'
import { unit } from './internal/unit.js'
import type {
  ExpiringIdentity,
  RefreshErrorInfo,
  RefreshEvent,
  RefreshingProvider,
  RefreshStats,
} from './RefreshingProvider.js'

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

/** One source call in flight (rule 1: every caller that waits, waits on this one). */
interface Flight<T> {
  /** What `refresh()` gets: the source's identity, or its error. */
  readonly raw: Promise<T>
  /** What callers waiting on this call get, decided when it settles (rules 5–8). */
  readonly answer: Promise<T>
  /** Settles `answer`. */
  readonly settle: { resolve: (identity: T) => void; reject: (error: unknown) => void }
  /** Callers waiting on `answer`, to count stale answers (rule 8). */
  waiters: number
}

/**
 * One engine: the state that {@link decide} reads and writes, and the I/O around it — the source
 * call, the timer, the answers to callers, the counters and the events.
 */
class Engine<T extends ExpiringIdentity> implements Scheduled {
  readonly #source: (props?: IdentityProperties) => Promise<T>
  readonly #clock: Clock
  readonly #random: Random
  readonly #config: Config
  readonly #keyOf: (identity: T) => string | undefined
  readonly #logger: Logger | undefined
  readonly #onEvent: ((event: RefreshEvent) => void) | undefined

  #state: State = INITIAL_STATE
  #identity: T | undefined = undefined
  #key: string | undefined = undefined
  /** Rule 15: while `clock.now() < #hotUntil`, the answer is `#hotPromise` (see `hotUntil`). */
  #hotUntil = Number.NEGATIVE_INFINITY
  #hotPromise: Promise<T> | undefined = undefined
  #flight: Flight<T> | undefined = undefined
  /** The error of the last source call, while the engine backs off after it. */
  #error: unknown = undefined
  /**
   * `ERR_CREDENTIALS_EXPIRED` with `#error` as cause, made once per failed attempt: every caller
   * until the next attempt gets the same error object, as rule 9's callers share the source's.
   */
  #expiredError: CredentialsError | undefined = undefined
  #lastError: RefreshErrorInfo | undefined = undefined
  /** The caller's identity properties, passed on to background refreshes too. */
  #props: IdentityProperties | undefined = undefined
  #closed = false

  /**
   * The engine's place in its clock's scheduler, `-1` while no timer is set: one real timer per
   * clock serves all its engines. Written by the scheduler only.
   */
  slot = -1
  /** The time the scheduler entry is set for, while `slot >= 0`. */
  #timerAt = Number.POSITIVE_INFINITY

  #calls = 0
  #waits = 0
  /** Calls answered at once with an error (rules 7–9): neither hits nor waits. */
  #rejected = 0
  #sourceCalls = 0
  #backgroundRefreshes = 0
  #failures = 0
  #unchanged = 0
  #servedStale = 0

  constructor(source: (props?: IdentityProperties) => Promise<T>, options: RefreshOptions<T>) {
    this.#source = source
    this.#clock = options.clock ?? systemClock
    this.#random = options.random ?? systemRandom
    this.#config = {
      windowMs: options.refreshWindowMs,
      mandatoryMs: options.mandatoryWindowMs ?? DEFAULT_MANDATORY_WINDOW_MS,
      maxBackoffMs: options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
      maxStalenessMs: options.maxStalenessMs ?? DEFAULT_MAX_STALENESS_MS,
    }
    this.#keyOf = options.keyOf ?? defaultKeyOf
    this.#logger = options.logger
    this.#onEvent = options.onEvent
  }

  /** The provider: rule 15's hot path, one clock read and the already-resolved promise. */
  call(props?: IdentityProperties): Promise<T> {
    if (this.#clock.now() < this.#hotUntil) {
      this.#calls++ // a hit: `hits` is derived from `calls`
      return this.#hotPromise!
    }
    return this.#slowCall(props)
  }

  refresh(): Promise<T> {
    const now = this.#clock.now()
    const d = this.#decide(now, { type: 'refresh' })
    if (d === 'start') this.#start('forced', now)
    return this.#flight!.raw
  }

  invalidate(key?: string): void {
    const s = this.#state
    if (!s.hasIdentity) return
    if (key !== undefined && key !== this.#key) return // credentials already replaced
    // Rejected before and answered again by the source: the engine is retrying it already.
    if (s.keyRejected) return
    this.#state = { ...s, invalidated: true }
    this.#hotUntil = hotUntil(this.#state)
  }

  stats(): RefreshStats {
    const s = this.#state
    const stats: RefreshStats = {
      calls: this.#calls,
      hits: this.#calls - this.#waits - this.#rejected,
      waits: this.#waits,
      sourceCalls: this.#sourceCalls,
      backgroundRefreshes: this.#backgroundRefreshes,
      failures: this.#failures,
      unchanged: this.#unchanged,
      servedStale: this.#servedStale,
      refreshing: this.#flight !== undefined,
      closed: this.#closed,
    }
    if (s.hasIdentity && Number.isFinite(s.expiresAt)) stats.expiresAt = new Date(s.expiresAt)
    const next = this.#nextRefreshAt()
    if (next !== undefined) stats.nextRefreshAt = next
    if (s.lifetimeMs > 0) {
      stats.refreshWindowMs = s.windowMs
      stats.mandatoryWindowMs = s.mandatoryMs
    }
    if (this.#lastError !== undefined) stats.lastError = { ...this.#lastError }
    return stats
  }

  close(): void {
    this.#closed = true
    this.#arm(Number.POSITIVE_INFINITY)
  }

  // ---- decisions and their effects -------------------------------------------------------------

  /** Runs {@link decide}, keeps its state, hot-path bound and timer; returns its action. */
  #decide(now: number, event: Event): Action {
    const d = decide(this.#state, now, event, this.#config)
    this.#state = d.state
    this.#hotUntil = hotUntil(d.state)
    this.#arm(d.nextTimerAt)
    return d.action
  }

  #slowCall(props: IdentityProperties | undefined): Promise<T> {
    const now = this.#clock.now()
    this.#calls++
    if (props !== undefined) this.#props = props
    const action = this.#decide(now, { type: 'call' })
    switch (action) {
      case 'serve':
        return this.#hotPromise!
      case 'serveAndStart':
        this.#start('background', now)
        return this.#hotPromise!
      case 'serveStale':
        this.#servedStale++
        return this.#hotPromise!
      case 'start':
        this.#start(
          this.#identity === undefined ? 'initial' : this.#state.invalidated ? 'invalidated' : 'blocking',
          now,
        )
        break
      case 'rejectError':
        this.#rejected++
        return Promise.reject(this.#error)
      case 'rejectExpired':
        this.#rejected++
        return Promise.reject(this.#expired())
      default:
        break // join
    }
    this.#waits++
    this.#flight!.waiters++
    return this.#flight!.answer
  }

  /** The scheduler's callback: the engine's timer fired. */
  fire(): void {
    if (this.#closed || this.#flight !== undefined) return
    const now = this.#clock.now()
    if (this.#decide(now, { type: 'timer', calls: this.#calls }) === 'start') this.#start('background', now)
  }

  /** Calls the source (the decision to do so is made); callers join through `#flight`. */
  #start(trigger: Trigger, now: number): void {
    this.#sourceCalls++
    if (trigger === 'background') this.#backgroundRefreshes++
    const ev = this.#event('start', now)
    ev.trigger = trigger
    this.#emit(ev)
    let answered: Promise<T>
    try {
      answered = Promise.resolve(this.#source(this.#props))
    } catch (thrown) {
      answered = Promise.reject(thrown) // a source that throws synchronously
    }
    let settle!: Flight<T>['settle']
    const answer = new Promise<T>((resolve, reject) => {
      settle = { resolve, reject }
    })
    const raw = answered.then(
      (value) => this.#accept(value, now, flight),
      (thrown: unknown) => {
        const error = asError(thrown)
        this.#fail(error, now, flight)
        throw error
      },
    )
    // Background refreshes may fail with nobody listening; that is reported through stats and
    // events, never as an unhandled rejection.
    raw.catch(noop)
    answer.catch(noop)
    const flight: Flight<T> = { raw, answer, settle, waiters: 0 }
    this.#flight = flight
  }

  /** The source answered: a new identity, the one held (rule 10), or a bad answer (rule 11). */
  #accept(value: T, startedAt: number, flight: Flight<T>): T {
    const now = this.#clock.now()
    const problem = checkIdentity(value, now)
    if (problem !== undefined) {
      this.#fail(problem, startedAt, flight)
      throw problem
    }
    let key: string | undefined
    try {
      key = this.#keyOf(value)
    } catch (thrown) {
      // A throwing keyOf (user code) fails this call and leaves the engine usable.
      const error = asError(thrown)
      this.#fail(error, startedAt, flight)
      throw error
    }
    this.#flight = undefined
    const s = this.#state
    const expiresAt = value.expiration?.getTime() ?? Number.POSITIVE_INFINITY
    const same =
      s.hasIdentity &&
      (key !== undefined ? key === this.#key : value === this.#identity) &&
      expiresAt <= s.expiresAt &&
      now < s.expiresAt
    if (same) {
      this.#unchanged++
      this.#error = undefined
      this.#decide(now, { type: 'unchanged', u: unit(this.#random) })
      const ev = this.#event('unchanged', now)
      ev.durationMs = now - startedAt
      ev.attempt = this.#state.streak
      this.#emit(ev)
      flight.settle.resolve(this.#identity!)
      return this.#identity!
    }
    this.#identity = value
    this.#key = key
    this.#hotPromise = Promise.resolve(value)
    this.#error = undefined
    this.#decide(now, {
      type: 'fetched',
      expiresAt,
      refreshAfter: value.refreshAfter?.getTime(),
      u: unit(this.#random),
    })
    const ev = this.#event('success', now)
    ev.durationMs = now - startedAt
    this.#emit(ev)
    flight.settle.resolve(value)
    return value
  }

  /** The source call failed: back off (rules 6–9) and answer the callers who waited. */
  #fail(error: unknown, startedAt: number, flight: Flight<T>): void {
    const now = this.#clock.now()
    this.#flight = undefined
    this.#failures++
    this.#error = error
    this.#expiredError = undefined
    // The secrets of the identity we hold, so a foreign error that echoes them is scrubbed.
    this.#lastError = describeError(error, now, secretsOf(this.#identity))
    const action = this.#decide(now, {
      type: 'failed',
      retryable: isTransient(error),
      u: unit(this.#random),
      v: unit(this.#random),
    })
    const ev = this.#event('failure', now)
    ev.durationMs = now - startedAt
    ev.attempt = this.#state.streak
    ev.error = this.#lastError
    this.#emit(ev)
    if (action === 'serveStale') {
      const stale = this.#event('stale', now)
      stale.error = this.#lastError
      this.#emit(stale)
      this.#servedStale += flight.waiters
    }
    // Rule 8: the callers who waited get this attempt's outcome, never a second attempt.
    if (action === 'serve' || action === 'serveStale') flight.settle.resolve(this.#identity!)
    else if (action === 'rejectExpired') flight.settle.reject(this.#expired())
    else flight.settle.reject(error)
  }

  #expired(): CredentialsError {
    const cause = this.#error
    this.#expiredError ??= new CredentialsError(
      `credentials expired at ${new Date(this.#state.expiresAt).toISOString()} and the refresh failed` +
        (cause instanceof CredentialsError ? ` (${cause.code})` : ''),
      { code: 'ERR_CREDENTIALS_EXPIRED', retryable: true, cause },
    )
    return this.#expiredError
  }

  // ---- the timer ---------------------------------------------------------------------------

  /** Keeps the engine's scheduler entry at `at`; none when `at` is not finite or after close(). */
  #arm(at: number): void {
    const scheduler = Scheduler.of(this.#clock)
    if (this.#closed || !Number.isFinite(at)) {
      scheduler.remove(this)
      return
    }
    if (this.slot >= 0 && this.#timerAt === at) return
    // The clock's scheduler sets its one timer without keepAlive: the system clock unrefs it, so
    // it never keeps the process alive (rule 4).
    try {
      scheduler.add(this, at)
      this.#timerAt = at
    } catch (error) {
      // An injected clock whose setTimeout threw: no timer for this engine. Nothing is lost for
      // callers: the hot path ends at the refresh point, and the first call after it starts the
      // refresh in the background, as after a timer that fired late (rule 4).
      try {
        this.#logger?.warn?.('podcreds refresh: the clock could not set a timer', {
          error: error instanceof Error ? error.message : String(error),
        })
      } catch {
        // Logging is best effort.
      }
    }
  }

  #nextRefreshAt(): Date | undefined {
    return this.slot >= 0 ? new Date(this.#timerAt) : undefined
  }

  // ---- events ------------------------------------------------------------------------------

  #event(type: RefreshEvent['type'], now: number): RefreshEvent {
    const ev: RefreshEvent = { type, at: new Date(now) }
    const s = this.#state
    // Key ids are shown shortened, and only when the key is an access key id (not a token hash).
    if (this.#key !== undefined && defaultKeyOf(this.#identity) === this.#key)
      ev.keyId = redactKeyId(this.#key)
    if (s.hasIdentity && Number.isFinite(s.expiresAt)) ev.expiresAt = new Date(s.expiresAt)
    const next = this.#nextRefreshAt()
    if (next !== undefined) ev.nextRefreshAt = next
    return ev
  }

  #emit(event: RefreshEvent): void {
    const ch = refreshChannels()[event.type]
    if (ch.hasSubscribers) ch.publish(event)
    if (this.#onEvent !== undefined) {
      try {
        this.#onEvent(event)
      } catch {
        // An observer must not break credential delivery.
      }
    }
    const logger = this.#logger
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
}

/**
 * What is wrong with what the source answered, if anything: not an object, an `expiration` or
 * `refreshAfter` that is not a valid `Date`, or credentials already expired (rule 11). Each is a
 * failed refresh; the cached identity is kept while valid.
 */
function checkIdentity(value: unknown, now: number): CredentialsError | undefined {
  if (typeof value !== 'object' || value === null) {
    return new CredentialsError(
      `the credential source returned ${value === null ? 'null' : typeof value}, not an identity object`,
      { code: 'ERR_RESPONSE_INVALID', retryable: true },
    )
  }
  const { expiration, refreshAfter } = value as { expiration?: unknown; refreshAfter?: unknown }
  if (expiration !== undefined && !isValidDate(expiration)) {
    return new CredentialsError(
      `the credential source returned an invalid expiration (${describeValue(expiration)}): expected a valid Date`,
      { code: 'ERR_RESPONSE_INVALID', retryable: true },
    )
  }
  if (refreshAfter !== undefined && !isValidDate(refreshAfter)) {
    return new CredentialsError(
      `the credential source returned an invalid refreshAfter (${describeValue(refreshAfter)}): expected a valid Date`,
      { code: 'ERR_RESPONSE_INVALID', retryable: true },
    )
  }
  if (expiration instanceof Date && expiration.getTime() <= now) {
    return new CredentialsError(
      `the credential source returned credentials that expired at ${expiration.toISOString()}`,
      { code: 'ERR_CREDENTIALS_EXPIRED', retryable: true },
    )
  }
  return undefined
}

/**
 * What the source threw, as an error callers can read: an `Error` as it is; anything else (a
 * string, `undefined`, a plain object) as a `CredentialsError` naming its kind. Not its value,
 * which may carry a secret.
 */
function asError(thrown: unknown): unknown {
  if (thrown instanceof Error) return thrown
  let kind: string
  if (thrown === null || thrown === undefined) kind = String(thrown)
  else if (Array.isArray(thrown)) kind = 'an array'
  else if (typeof thrown === 'object') kind = 'an object'
  else kind = `a ${typeof thrown}`
  return new CredentialsError(`the credential source threw ${kind}, not an Error`, {
    code: 'ERR_RESPONSE_INVALID',
    retryable: true,
  })
}

function isValidDate(value: unknown): value is Date {
  return value instanceof Date && Number.isFinite(value.getTime())
}

/** A value's kind for an error message: never the value itself, which sits next to secrets. */
function describeValue(value: unknown): string {
  if (value instanceof Date) return 'Invalid Date'
  if (value === null) return 'null'
  return typeof value
}

/**
 * Wraps a source in the podcreds refresh engine: single-flight, refreshed in the background at a
 * jittered point before expiry (the first one phase-spread over most of a lifetime, or at the
 * source's own `refreshAfter` hint), exponential back-off with equal jitter on failure while the
 * cached identity stays valid, recovery within seconds once expired credentials can be renewed,
 * never serving expired credentials unless `maxStalenessMs` allows. See the rules in DESIGN.md
 * "@podcreds/refresh" and the package README.
 *
 * @param source - the provider to cache; called with the caller's identity properties.
 * @param options - see {@link RefreshOptions}.
 * @returns a provider that also has `refresh()`, `invalidate()`, `stats()` and `close()`, which
 * work detached from it (`const { close } = provider`).
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

  // The engine is reachable only through these closures: nothing on the provider (util.inspect
  // with showHidden, say) shows the credentials it holds. Closures, not prototype methods, so
  // each works taken off the provider: `process.on('SIGTERM', provider.close)`.
  const engine = new Engine(source, options)
  const close = (): void => engine.close()
  return Object.assign((props?: IdentityProperties) => engine.call(props), {
    refresh: (): Promise<T> => engine.refresh(),
    invalidate: (key?: string): void => engine.invalidate(key),
    stats: (): RefreshStats => engine.stats(),
    close,
    [Symbol.dispose]: close,
  })
}
