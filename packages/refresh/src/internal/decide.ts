// The refresh engine's rules as one pure function: `decide(state, now, event, config)` returns
// what to do and the state after it. The engine (`refreshing.ts`) does the I/O around it: it calls
// the source, sets the timer at `nextTimerAt`, answers callers, counts and reports. Every rule of
// DESIGN.md "@podcreds/refresh" that concerns timing or answers lives here, cited by number; the
// table test `test/decide.test.ts` has one row per rule.
import { advisoryWindowFor } from '../advisoryWindowFor.js'

/**
 * What the engine is doing.
 * - `empty`: nothing fetched, nothing tried yet.
 * - `fresh`: an identity is cached; the next background refresh is at `nextAttemptAt`.
 * - `refreshing`: a source call is in flight (rule 1: the only one).
 * - `backingOff`: the last source call failed or answered the identity already held
 *   (`setback`); the next attempt of the engine's own is at `nextAttemptAt`.
 *
 * Expiry is not a phase: it is a matter of time, see {@link validityAt}.
 */
export type Phase = 'empty' | 'fresh' | 'refreshing' | 'backingOff'

/** Why the engine backs off: a retryable failure (rule 6), a non-recoverable one (7), or rule 10. */
export type Setback = 'retryable' | 'nonRecoverable' | 'unchanged'

/**
 * Where `now` stands in the cached identity's life: `valid` (before the mandatory window),
 * `mandatory` (inside it, still valid), `stale` (expired, but `maxStalenessMs` allows serving it),
 * `expired`; `none` when nothing is cached.
 */
export type Validity = 'none' | 'valid' | 'mandatory' | 'stale' | 'expired'

/** The engine's state. Times are epoch ms on the engine's clock; `Infinity` means never. */
export interface State {
  readonly phase: Phase
  /** In `backingOff`: why. */
  readonly setback: Setback | undefined
  /** An identity is cached. */
  readonly hasIdentity: boolean
  /** Expiry of the cached identity; `Infinity` when it has none (or none is cached). */
  readonly expiresAt: number
  /** The lifetime at the last fetch, capped at the scheduling horizon; 0 without a finite expiry. */
  readonly lifetimeMs: number
  /** Rule 2: the advisory window W chosen at the last fetch (0 without a finite expiry). */
  readonly windowMs: number
  /** Rule 2: the mandatory window M chosen at the last fetch (0 without a finite expiry). */
  readonly mandatoryMs: number
  /** The source has answered with an identity before (rule 3: only the first refresh is spread). */
  readonly fetched: boolean
  /** Rule 12: the cached identity was rejected and not replaced yet. */
  readonly invalidated: boolean
  /** Rule 12 with rule 10: the key that was rejected came back from the source; further rejections are known. */
  readonly keyRejected: boolean
  /** How many quick retries of a rejected key have been made. */
  readonly rejectedRetries: number
  /** Consecutive failed or unchanged source calls: the exponent of the rule-6 back-off. */
  readonly streak: number
  /** When the engine calls the source on its own next: the refresh point or the end of a back-off. */
  readonly nextAttemptAt: number
  /** ★ Rule 8: from then on, a caller that would wait may start an attempt (retryable setbacks only). */
  readonly callerRetryAt: number
  /** The engine's call counter as the last timer saw it. */
  readonly callsSeen: number
  /** When a timer last saw the call counter move, or the first fetch: for idle engines. */
  readonly usedAt: number
}

/** The options `decide` reads (validated by `refreshing()`). */
export interface Config {
  /** `refreshWindowMs`; `undefined`: the lifetime table of rule 2. */
  readonly windowMs: number | undefined
  readonly mandatoryMs: number
  readonly maxBackoffMs: number
  readonly maxStalenessMs: number
}

/** What happened. `u` and `v` are uniform draws in [0, 1) from the injected `random` (rule 14). */
export type Event =
  /** A caller, off the hot path. */
  | { readonly type: 'call' }
  /** The engine's timer fired; `calls` is its call counter. */
  | { readonly type: 'timer'; readonly calls: number }
  /** `refresh()`. */
  | { readonly type: 'refresh' }
  /** The source answered a new identity (already checked by the engine). `refreshAfter`: its hint. */
  | {
      readonly type: 'fetched'
      readonly expiresAt: number
      readonly refreshAfter: number | undefined
      readonly u: number
    }
  /** The source answered the identity already held (rule 10). */
  | { readonly type: 'unchanged'; readonly u: number }
  /** The source call failed (rule 11: already-expired identities included). */
  | { readonly type: 'failed'; readonly retryable: boolean; readonly u: number; readonly v: number }

/**
 * What to do. For `call`: `serve` the cached identity, `serveStale` (expired, allowed by
 * `maxStalenessMs`), `serveAndStart` (serve, and start a source call in the background), `start`
 * (a source call the caller waits for), `join` (wait for the call in flight), `rejectError` (the
 * last source error), `rejectExpired` (`ERR_CREDENTIALS_EXPIRED`, the last source error as cause).
 * For `timer` and `refresh`: `start`, `join` or `none`. For the answers of the source (`fetched`,
 * `unchanged`, `failed`): what the callers waiting for it get, one of the serve/reject actions.
 */
export type Action =
  | 'serve'
  | 'serveStale'
  | 'serveAndStart'
  | 'start'
  | 'join'
  | 'rejectError'
  | 'rejectExpired'
  | 'none'

/** The result of {@link decide}. */
export interface Decision {
  readonly action: Action
  /** The state after the action (`start`, `serveAndStart`: `refreshing`). */
  readonly state: State
  /** When the engine's timer should fire next; `Infinity`: no timer. */
  readonly nextTimerAt: number
}

/** Rule 6: the first back-off delay cap; delays are uniform in `[d/2, d]`, `d = 1 s · 2ⁿ`. */
export const BASE_BACKOFF_MS: number = 1_000
/** Rule 9: an initial failure is cached for a jittered 1–5 s. */
export const ERROR_CACHE_MS: readonly [number, number] = [1_000, 5_000]
/**
 * ★ Rule 8: after a retryable failure, a caller who would wait (mandatory window, expiry,
 * invalidated) may start a new attempt once 2–3 s (jittered) have passed since the last one
 * settled. At least 2 s apart: ≤ 30 source calls a minute; a caller every 100 ms then sees fresh
 * credentials a median ~1.3 s, at most ~3.1 s, after the source is back (test/recovery.test.ts).
 */
export const RECOVERY_GAP_MS: readonly [number, number] = [2_000, 3_000]
/** The farthest ahead a refresh is ever scheduled: 7 days (issue #11). */
export const SCHEDULING_HORIZON_MS: number = 7 * 86_400_000
/** An engine whose timer saw no call for this many lifetimes stops its timer. */
export const IDLE_LIFETIMES: number = 2
/** Rule 12 with rule 10: quick retries (rule-6 back-off) of a rejected key the source answers again. */
export const REJECTED_KEY_RETRIES: number = 6
/** A refresh hint (`refreshAfter`) is jittered forward over this fraction of the lifetime. */
export const HINT_BAND: number = 1 / 20

/** The state of a new engine. */
export const INITIAL_STATE: State = {
  phase: 'empty',
  setback: undefined,
  hasIdentity: false,
  expiresAt: Number.POSITIVE_INFINITY,
  lifetimeMs: 0,
  windowMs: 0,
  mandatoryMs: 0,
  fetched: false,
  invalidated: false,
  keyRejected: false,
  rejectedRetries: 0,
  streak: 0,
  nextAttemptAt: Number.NEGATIVE_INFINITY,
  callerRetryAt: Number.POSITIVE_INFINITY,
  callsSeen: 0,
  usedAt: Number.NEGATIVE_INFINITY,
}

/** The next action and state. Pure: the same arguments give the same decision. */
export function decide(state: State, now: number, event: Event, config: Config): Decision {
  switch (event.type) {
    case 'call':
      return onCall(state, now, config)
    case 'timer':
      return onTimer(state, now, event.calls)
    case 'refresh':
      return state.phase === 'refreshing' ? stay(state, 'join') : start(state, 'start')
    case 'fetched':
      return onFetched(state, now, event, config)
    case 'unchanged':
      return onUnchanged(state, now, event.u, config)
    case 'failed':
      return onFailed(state, now, event, config)
  }
}

/** Where `now` stands in the life of the cached identity. */
export function validityAt(state: State, now: number, config: Config): Validity {
  if (!state.hasIdentity) return 'none'
  if (now < state.expiresAt - state.mandatoryMs) return 'valid'
  if (now < state.expiresAt) return 'mandatory'
  if (now < state.expiresAt + config.maxStalenessMs) return 'stale'
  return 'expired'
}

/**
 * Rule 15: until this time, `decide(state, t, { type: 'call' })` is `serve` with nothing to start,
 * so the engine answers with the cached promise after one clock read. `-Infinity`: never.
 */
export function hotUntil(state: State): number {
  if (!state.hasIdentity || state.invalidated) return Number.NEGATIVE_INFINITY
  const mandatoryAt = state.expiresAt - state.mandatoryMs
  if (state.phase === 'refreshing') return mandatoryAt
  return Math.min(state.nextAttemptAt, mandatoryAt)
}

/** When the timer should fire for `state`: only with an identity that expires (DESIGN.md), never in flight. */
function timerAt(state: State): number {
  if (state.phase === 'refreshing' || !state.hasIdentity || !Number.isFinite(state.expiresAt)) {
    return Number.POSITIVE_INFINITY
  }
  return state.nextAttemptAt
}

function stay(state: State, action: Action): Decision {
  return { action, state, nextTimerAt: timerAt(state) }
}

function start(state: State, action: 'start' | 'serveAndStart'): Decision {
  const next: State = { ...state, phase: 'refreshing', setback: undefined }
  return { action, state: next, nextTimerAt: Number.POSITIVE_INFINITY }
}

function onCall(state: State, now: number, config: Config): Decision {
  const validity = validityAt(state, now, config)
  if (state.phase === 'refreshing') {
    // Rule 4: outside the mandatory window nobody waits; rules 1 and 5: otherwise wait for the
    // source call in flight, never for a timer.
    return stay(state, validity === 'valid' && !state.invalidated ? 'serve' : 'join')
  }
  if (!state.hasIdentity) {
    // Rule 9: an initial failure is answered again until its jittered 1–5 s have passed.
    if (state.phase === 'backingOff' && now < state.nextAttemptAt) return stay(state, 'rejectError')
    return start(state, 'start')
  }
  if (validity === 'valid' && !state.invalidated) {
    // Rule 4: a refresh point that passed without its timer firing (a late timer, a closed or idle
    // engine) starts the refresh in the background; the caller still gets the cached identity.
    return now >= state.nextAttemptAt ? start(state, 'serveAndStart') : stay(state, 'serve')
  }
  // Inside the mandatory window, past expiry, or invalidated: rules 5 and 12 say wait for a fresh
  // identity, unless a back-off bounds the load on the source (rules 6–10).
  if (state.phase !== 'backingOff' || now >= state.nextAttemptAt) return start(state, 'start')
  switch (state.setback) {
    case 'unchanged':
      // Rule 10's back-off holds only while the held identity is good to serve; a first
      // invalidation of the key (rule 12) or its expiry needs the source's answer.
      if (state.invalidated || validity === 'stale' || validity === 'expired') return start(state, 'start')
      return stay(state, 'serve')
    case 'retryable':
      // ★ Rule 8: after a retryable failure, a caller who would wait starts a new attempt once
      // the short recovery gap has passed, rather than waiting for the back-off timer: recovery
      // within seconds of the source's return, ≤ 30 source calls a minute while it is down.
      if (now >= state.callerRetryAt) return start(state, 'start')
      return stay(state, failureAnswer(validity, 'retryable'))
    default:
      // Rule 7: a non-recoverable failure stays at the back-off cap (a broken trust policy must
      // not turn a fleet into a storm on STS).
      return stay(state, failureAnswer(validity, 'nonRecoverable'))
  }
}

/**
 * The answer while the last source call failed (rules 6–9): the cached identity while it is valid
 * (a non-recoverable error is raised inside the mandatory window, rule 7), stale within
 * `maxStalenessMs`, then `ERR_CREDENTIALS_EXPIRED` (rule 8); the error itself with nothing cached.
 */
function failureAnswer(validity: Validity, kind: 'retryable' | 'nonRecoverable'): Action {
  switch (validity) {
    case 'none':
      return 'rejectError'
    case 'valid':
      return 'serve'
    case 'mandatory':
      return kind === 'nonRecoverable' ? 'rejectError' : 'serve'
    case 'stale':
      return 'serveStale'
    case 'expired':
      return 'rejectExpired'
  }
}

function onTimer(state: State, now: number, calls: number): Decision {
  if (state.phase === 'refreshing' || !state.hasIdentity) return stay(state, 'none')
  // An engine nobody calls any more (made per request and dropped, say) must not refresh, or
  // retry a dead source, forever: after two lifetimes without a call its timer stops. The next
  // call finds the refresh point passed and starts a refresh (rule 4).
  const used = calls !== state.callsSeen
  const next: State = used ? { ...state, callsSeen: calls, usedAt: now } : state
  // Rule 4: a timer may fire early (the system clock caps delays at 2³¹−1 ms) or late (laptop
  // sleep): trust the wall clock, not the timer.
  if (now < next.nextAttemptAt) return stay(next, 'none')
  if (now - next.usedAt > IDLE_LIFETIMES * next.lifetimeMs) {
    return { action: 'none', state: next, nextTimerAt: Number.POSITIVE_INFINITY }
  }
  return start(next, 'start')
}

function onFetched(
  state: State,
  now: number,
  event: Extract<Event, { type: 'fetched' }>,
  config: Config,
): Decision {
  const fresh: State = {
    ...state,
    phase: 'fresh',
    setback: undefined,
    hasIdentity: true,
    expiresAt: event.expiresAt,
    fetched: true,
    invalidated: false,
    keyRejected: false,
    rejectedRetries: 0,
    streak: 0,
    callerRetryAt: Number.POSITIVE_INFINITY,
    // The idle clock starts at the first fetch.
    usedAt: state.fetched ? state.usedAt : now,
  }
  if (!Number.isFinite(event.expiresAt)) {
    // Identities without expiry are cached until invalidate(), with no timer (DESIGN.md).
    const next = {
      ...fresh,
      lifetimeMs: 0,
      windowMs: 0,
      mandatoryMs: 0,
      nextAttemptAt: Number.POSITIVE_INFINITY,
    }
    return stay(next, 'serve')
  }
  // Scheduling looks at most 7 days ahead: credentials claiming to last for years (a misconfigured
  // source, a clock far off) are refreshed within a week (issue #11).
  const horizon = Math.min(event.expiresAt, now + SCHEDULING_HORIZON_MS)
  const lifetimeMs = horizon - now
  // Rule 2: W from the lifetime (or refreshWindowMs), clamped to it; M inside the second half of
  // W, so every refresh point comes before the mandatory window.
  const windowMs = Math.min(config.windowMs ?? advisoryWindowFor(lifetimeMs), lifetimeMs)
  const mandatoryMs = Math.min(config.mandatoryMs, windowMs / 2)
  const latest = horizon - windowMs / 2
  // Never before a quarter of the lifetime: a window as long as the lifetime, or a hint in the
  // past, would otherwise refresh right after the fetch.
  const earliest = now + lifetimeMs / 4
  let point: number
  if (event.refreshAfter !== undefined) {
    // The source's hint (Azure's refresh_in): that point, jittered forward in a small band,
    // clamped to [fetch + L/4, expiry − W/2] (before the mandatory window).
    const hint = Math.min(Math.max(event.refreshAfter, earliest), latest)
    point = lerp(hint, Math.min(hint + lifetimeMs * HINT_BAND, latest), event.u)
  } else {
    // Rule 3: jittered per fetch in [expiry − W, expiry − W/2]; the first refresh of an engine
    // spread over [fetch + L/4, expiry − W/2], so a fleet started together never phase-locks.
    point = lerp(Math.max(state.fetched ? horizon - windowMs : earliest, earliest), latest, event.u)
  }
  const next: State = { ...fresh, lifetimeMs, windowMs, mandatoryMs, nextAttemptAt: Math.round(point) }
  return stay(next, 'serve')
}

function onUnchanged(state: State, now: number, u: number, config: Config): Decision {
  // Rule 10: "refreshed" but the same identity (the Pod Identity agent caches per token). Keep it;
  // try again halfway to the latest refresh point, once that is past halfway to the mandatory
  // window, so calls thin out towards it (an agent that renews 15 min before expiry: ~9 calls in
  // that hour, not ~30), and never sooner than the rule-6 back-off.
  const streak = state.streak + 1
  // Rule 12 with 10: a key AWS rejected that the source answers again is all there is: serve it
  // without making callers wait, retry it a few times on the back-off, and take further
  // invalidations of it as known.
  const keyRejected = state.keyRejected || state.invalidated
  const retries = state.invalidated ? 0 : state.rejectedRetries
  const quick = keyRejected && retries < REJECTED_KEY_RETRIES
  const latest = Math.min(state.expiresAt - state.windowMs / 2, now + SCHEDULING_HORIZON_MS)
  const target = quick ? now : now < latest ? latest : state.expiresAt - state.mandatoryMs
  const delay = Math.max(lerp(0.4, 0.6, u) * (target - now), backoffDelay(streak, u, config))
  const next: State = {
    ...state,
    phase: 'backingOff',
    setback: 'unchanged',
    invalidated: false,
    keyRejected,
    rejectedRetries: quick ? retries + 1 : retries,
    streak,
    nextAttemptAt: now + Math.round(delay),
    callerRetryAt: Number.POSITIVE_INFINITY,
  }
  return stay(next, 'serve')
}

function onFailed(
  state: State,
  now: number,
  event: Extract<Event, { type: 'failed' }>,
  config: Config,
): Decision {
  const streak = state.streak + 1
  let delay: number
  if (!state.hasIdentity)
    delay = lerp(ERROR_CACHE_MS[0], ERROR_CACHE_MS[1], event.u) // rule 9
  else if (event.retryable)
    delay = backoffDelay(streak, event.u, config) // rule 6
  else delay = lerp(config.maxBackoffMs / 2, config.maxBackoffMs, event.u) // rule 7: at the cap
  const next: State = {
    ...state,
    phase: 'backingOff',
    setback: event.retryable ? 'retryable' : 'nonRecoverable',
    streak,
    nextAttemptAt: now + Math.round(delay),
    callerRetryAt:
      event.retryable && state.hasIdentity
        ? now + Math.round(lerp(RECOVERY_GAP_MS[0], RECOVERY_GAP_MS[1], event.v))
        : Number.POSITIVE_INFINITY,
  }
  // Rule 8: the callers who waited for this attempt get its outcome, never a second attempt.
  const kind = event.retryable ? 'retryable' : 'nonRecoverable'
  return stay(next, failureAnswer(validityAt(next, now, config), kind))
}

/** Rule 6: the n-th delay (n from 1) is uniform in [d/2, d], d = min(maxBackoffMs, 1 s · 2ⁿ⁻¹). */
function backoffDelay(streak: number, u: number, config: Config): number {
  const d = Math.min(config.maxBackoffMs, BASE_BACKOFF_MS * 2 ** Math.min(streak - 1, 40))
  return lerp(d / 2, d, u)
}

/** `lo + (hi − lo)·u`, for a draw `u` in [0, 1]. */
function lerp(lo: number, hi: number, u: number): number {
  return lo + (hi - lo) * u
}
