// The engine's rules, one row each, as decisions of the pure function in src/internal/decide.ts
// (DESIGN.md "@podcreds/refresh", rules 1–16 and the ★ items). Internal, so imported by path: the
// public behaviour of each rule is tested through refreshing() in the other files of this folder.
import { describe, expect, it } from 'vitest'
import type { Action, Config, Event, State } from '../src/internal/decide.js'
import { decide, hotUntil, INITIAL_STATE, validityAt } from '../src/internal/decide.js'
import { HOUR, MINUTE, SECOND } from './helpers.js'

const config: Config = {
  windowMs: undefined,
  mandatoryMs: MINUTE,
  maxBackoffMs: 60 * SECOND,
  maxStalenessMs: 0,
}

/** 1 h credentials fetched at 0 (not the first fetch): W = 15 min, M = 1 min, refresh point at 50 min. */
const fresh: State = {
  ...INITIAL_STATE,
  phase: 'fresh',
  hasIdentity: true,
  expiresAt: HOUR,
  lifetimeMs: HOUR,
  windowMs: 15 * MINUTE,
  mandatoryMs: MINUTE,
  fetched: true,
  nextAttemptAt: 50 * MINUTE,
  usedAt: 0,
}
const refreshing: State = { ...fresh, phase: 'refreshing' }
/** After a retryable failure at `at`: back-off until `retryAt`, callers may retry from `at + 2 s`. */
const failed = (at: number, retryAt: number, setback: State['setback'] = 'retryable'): State => ({
  ...fresh,
  phase: 'backingOff',
  setback,
  streak: 8,
  nextAttemptAt: retryAt,
  callerRetryAt: setback === 'retryable' ? at + 2 * SECOND : Number.POSITIVE_INFINITY,
})
const call: Event = { type: 'call' }
const fetched = (expiresAt: number, u: number, refreshAfter?: number): Event => ({
  type: 'fetched',
  expiresAt,
  refreshAfter,
  u,
})
const failure = (retryable: boolean, u = 0, v = 0): Event => ({ type: 'failed', retryable, u, v })

interface Row {
  rule: string
  state: State
  now: number
  event: Event
  config?: Config
  action: Action
  nextTimerAt?: number
  after?: Partial<State>
}

const rows: Row[] = [
  // 1. Single flight.
  {
    rule: '1: a caller with nothing cached joins the call in flight',
    state: { ...INITIAL_STATE, phase: 'refreshing' },
    now: 0,
    event: call,
    action: 'join',
  },
  {
    rule: '1: refresh() joins the call in flight',
    state: refreshing,
    now: 10 * MINUTE,
    event: { type: 'refresh' },
    action: 'join',
  },
  {
    rule: '1: the first caller starts the only source call, and no timer runs while it is in flight',
    state: INITIAL_STATE,
    now: 0,
    event: call,
    action: 'start',
    nextTimerAt: Infinity,
    after: { phase: 'refreshing' },
  },
  // 2. Windows from the lifetime.
  {
    rule: '2: 1 h credentials: W = 15 min, M = 1 min',
    state: INITIAL_STATE,
    now: 0,
    event: fetched(HOUR, 0.5),
    action: 'serve',
    after: { windowMs: 15 * MINUTE, mandatoryMs: MINUTE },
  },
  {
    rule: '2: 10 min credentials: W = 5 min',
    state: INITIAL_STATE,
    now: 0,
    event: fetched(10 * MINUTE, 0.5),
    action: 'serve',
    after: { windowMs: 5 * MINUTE },
  },
  {
    rule: '2: refreshWindowMs overrides the table, clamped to the lifetime; M clamped to W/2',
    state: INITIAL_STATE,
    now: 0,
    event: fetched(HOUR, 0.5),
    config: { ...config, windowMs: 2 * HOUR, mandatoryMs: 40 * MINUTE },
    action: 'serve',
    after: { windowMs: HOUR, mandatoryMs: 30 * MINUTE },
  },
  // 3. Jittered refresh points, phase spreading.
  {
    rule: '3: the refresh point is jittered in [expiry − W, expiry − W/2] (low end)',
    state: fresh,
    now: 2 * HOUR,
    event: fetched(3 * HOUR, 0),
    action: 'serve',
    nextTimerAt: 3 * HOUR - 15 * MINUTE,
  },
  {
    rule: '3: the refresh point is jittered in [expiry − W, expiry − W/2] (high end)',
    state: fresh,
    now: 2 * HOUR,
    event: fetched(3 * HOUR, 1),
    action: 'serve',
    nextTimerAt: 3 * HOUR - 7.5 * MINUTE,
  },
  {
    rule: '3 ★ phase spreading: the first refresh is spread from fetch + L/4',
    state: INITIAL_STATE,
    now: 0,
    event: fetched(HOUR, 0),
    action: 'serve',
    nextTimerAt: 15 * MINUTE,
  },
  // 4. Background refresh.
  {
    rule: '4 ★ outside M a caller is served and the timer stays at the refresh point',
    state: fresh,
    now: 10 * MINUTE,
    event: call,
    action: 'serve',
    nextTimerAt: 50 * MINUTE,
  },
  {
    rule: '4 ★ the timer starts the refresh in the background at its point',
    state: fresh,
    now: 50 * MINUTE,
    event: { type: 'timer', calls: 5 },
    action: 'start',
  },
  {
    rule: '4: a timer that fires early re-arms',
    state: fresh,
    now: 49 * MINUTE,
    event: { type: 'timer', calls: 5 },
    action: 'none',
    nextTimerAt: 50 * MINUTE,
  },
  {
    rule: '4: a point passed without its timer (laptop sleep) starts the refresh in the background; the caller is served',
    state: fresh,
    now: 55 * MINUTE,
    event: call,
    action: 'serveAndStart',
  },
  {
    rule: '4: a call outside M during a refresh in flight is served',
    state: refreshing,
    now: 55 * MINUTE,
    event: call,
    action: 'serve',
  },
  // 5. The mandatory window waits.
  {
    rule: '5: inside M a caller waits for a refresh it starts',
    state: fresh,
    now: HOUR - 30 * SECOND,
    event: call,
    action: 'start',
  },
  {
    rule: '5: inside M a caller joins the refresh in flight',
    state: refreshing,
    now: HOUR - 30 * SECOND,
    event: call,
    action: 'join',
  },
  {
    rule: '5: past expiry a caller waits for a refresh it starts',
    state: fresh,
    now: HOUR + SECOND,
    event: call,
    action: 'start',
  },
  // 6. Back-off with equal jitter while valid.
  {
    rule: '6 ★ the n-th delay is uniform in [d/2, d], d = 1 s · 2ⁿ⁻¹ (3rd failure, low end: 2 s)',
    state: { ...refreshing, streak: 2 },
    now: 52 * MINUTE,
    event: failure(true, 0),
    action: 'serve',
    nextTimerAt: 52 * MINUTE + 2 * SECOND,
    after: { streak: 3, setback: 'retryable' },
  },
  {
    rule: '6 ★ capped at maxBackoffMs (high end: 60 s)',
    state: { ...refreshing, streak: 12 },
    now: 52 * MINUTE,
    event: failure(true, 1),
    action: 'serve',
    nextTimerAt: 52 * MINUTE + 60 * SECOND,
  },
  {
    rule: '6: during the back-off, valid credentials are served',
    state: failed(52 * MINUTE, 53 * MINUTE),
    now: 52 * MINUTE + 10 * SECOND,
    event: call,
    action: 'serve',
  },
  // 7. Non-recoverable errors.
  {
    rule: '7 ★ a non-recoverable failure while valid: served, retried at the back-off cap',
    state: refreshing,
    now: 52 * MINUTE,
    event: failure(false, 0),
    action: 'serve',
    nextTimerAt: 52 * MINUTE + 30 * SECOND,
    after: { setback: 'nonRecoverable', callerRetryAt: Infinity },
  },
  {
    rule: '7 ★ … raised inside M',
    state: failed(HOUR - 50 * SECOND, HOUR, 'nonRecoverable'),
    now: HOUR - 40 * SECOND,
    event: call,
    action: 'rejectError',
  },
  // 8. Expired and a dead source.
  {
    rule: '8: expired within the recovery gap: ERR_CREDENTIALS_EXPIRED at once',
    state: failed(HOUR + 10 * SECOND, HOUR + 70 * SECOND),
    now: HOUR + 11 * SECOND,
    event: call,
    action: 'rejectExpired',
  },
  {
    rule: '8 ★ expired after a retryable failure, the gap passed: the caller starts an attempt (not the back-off timer)',
    state: failed(HOUR + 10 * SECOND, HOUR + 70 * SECOND),
    now: HOUR + 12 * SECOND,
    event: call,
    action: 'start',
  },
  {
    rule: '8 ★ inside M after a retryable failure, the gap passed: the caller starts an attempt',
    state: failed(HOUR - 50 * SECOND, HOUR + 10 * SECOND),
    now: HOUR - 40 * SECOND,
    event: call,
    action: 'start',
  },
  {
    rule: '8 ★ the recovery gap after a failure is jittered in 2–3 s',
    state: { ...refreshing, streak: 8 },
    now: HOUR + 10 * SECOND,
    event: failure(true, 0.5, 1),
    action: 'rejectExpired',
    after: { callerRetryAt: HOUR + 13 * SECOND },
  },
  {
    rule: '8 ★ non-recoverable failures stay at the back-off cap, expired or not',
    state: failed(HOUR + 10 * SECOND, HOUR + 50 * SECOND, 'nonRecoverable'),
    now: HOUR + 40 * SECOND,
    event: call,
    action: 'rejectExpired',
  },
  {
    rule: '8: a caller never waits longer than one attempt: the waiters of a failed attempt get its answer',
    state: { ...refreshing, streak: 8 },
    now: HOUR + 10 * SECOND,
    event: failure(true),
    action: 'rejectExpired',
  },
  {
    rule: '8: maxStalenessMs allows serving expired credentials',
    state: failed(HOUR + 10 * SECOND, HOUR + 70 * SECOND),
    now: HOUR + 11 * SECOND,
    event: call,
    config: { ...config, maxStalenessMs: 5 * MINUTE },
    action: 'serveStale',
  },
  // 9. Initial failure.
  {
    rule: '9: an initial failure is cached for a jittered 1–5 s, with no timer',
    state: { ...INITIAL_STATE, phase: 'refreshing' },
    now: 0,
    event: failure(true, 0),
    action: 'rejectError',
    nextTimerAt: Infinity,
    after: { nextAttemptAt: SECOND },
  },
  {
    rule: '9: … callers get the cached error meanwhile',
    state: { ...INITIAL_STATE, phase: 'backingOff', setback: 'retryable', nextAttemptAt: 3 * SECOND },
    now: 2 * SECOND,
    event: call,
    action: 'rejectError',
  },
  {
    rule: '9: … and the first caller after it fetches',
    state: { ...INITIAL_STATE, phase: 'backingOff', setback: 'retryable', nextAttemptAt: 3 * SECOND },
    now: 3 * SECOND,
    event: call,
    action: 'start',
  },
  // 10. The same credentials again.
  {
    rule: '10 ★ unchanged: keep them, retry halfway to the latest refresh point',
    state: { ...refreshing, streak: 0 },
    now: 20 * MINUTE,
    event: { type: 'unchanged', u: 0.5 },
    action: 'serve',
    nextTimerAt: 20 * MINUTE + 0.5 * (52.5 - 20) * MINUTE,
    after: { setback: 'unchanged', streak: 1 },
  },
  {
    rule: '10 ★ past the latest point, halfway to the mandatory window (never sooner than the back-off)',
    state: { ...refreshing, streak: 1 },
    now: 55 * MINUTE,
    event: { type: 'unchanged', u: 0 },
    action: 'serve',
    nextTimerAt: 55 * MINUTE + 0.4 * 4 * MINUTE,
  },
  // 11. Already-expired credentials from the source (checked by the engine, decided as a failure).
  {
    rule: '11: a failed refresh keeps the still-valid credentials',
    state: refreshing,
    now: 51 * MINUTE,
    event: failure(true),
    action: 'serve',
    after: { hasIdentity: true, expiresAt: HOUR },
  },
  // 12. invalidate().
  {
    rule: '12: after invalidate(), the next caller waits for a fresh fetch',
    state: { ...fresh, invalidated: true },
    now: 10 * MINUTE,
    event: call,
    action: 'start',
  },
  {
    rule: '12: invalidate() lifts a rule-10 back-off once',
    state: { ...failed(10 * MINUTE, 30 * MINUTE, 'unchanged'), invalidated: true },
    now: 11 * MINUTE,
    event: call,
    action: 'start',
  },
  {
    rule: '12 with 10 ★ a rejected key the source answers again is retried on the back-off, callers served',
    state: { ...refreshing, invalidated: true, streak: 1 },
    now: 20 * MINUTE,
    event: { type: 'unchanged', u: 1 },
    action: 'serve',
    nextTimerAt: 20 * MINUTE + 2 * SECOND,
    after: { invalidated: false, keyRejected: true, rejectedRetries: 1 },
  },
  // 13. stats(): the event's `attempt` is the streak.
  {
    rule: '13 ★ consecutive failures are counted for stats and events',
    state: { ...refreshing, streak: 4 },
    now: 52 * MINUTE,
    event: failure(true),
    action: 'serve',
    after: { streak: 5 },
  },
  // 14. Injected random: the draws decide the jitter, nothing else.
  {
    rule: '14: the injected random draws place the point (u = 0.5: the middle of the interval)',
    state: fresh,
    now: 2 * HOUR,
    event: fetched(3 * HOUR, 0.5),
    action: 'serve',
    nextTimerAt: 3 * HOUR - 11.25 * MINUTE,
  },
  // 15. The hot path: see also the `hotUntil` test below.
  {
    rule: '15: a valid identity before its refresh point is served with nothing to start',
    state: fresh,
    now: 50 * MINUTE - 1,
    event: call,
    action: 'serve',
  },
  // 16. sharedProvider: an evicted engine is closed; the engine does not care, its next call works.
  {
    rule: '16: an engine closed by sharedProvider (no timer) refreshes on demand at its next call',
    state: fresh,
    now: 51 * MINUTE,
    event: call,
    action: 'serveAndStart',
  },
  // ★ beyond the numbered rules.
  {
    rule: '★ refreshAfter: the source hint becomes the refresh point, jittered forward in L/20',
    state: INITIAL_STATE,
    now: 0,
    event: fetched(4 * HOUR, 1, 2 * HOUR),
    action: 'serve',
    nextTimerAt: 2 * HOUR + 12 * MINUTE,
  },
  {
    rule: '★ refreshAfter in the past is clamped to fetch + L/4',
    state: INITIAL_STATE,
    now: HOUR,
    event: fetched(5 * HOUR, 0, 0),
    action: 'serve',
    nextTimerAt: 2 * HOUR,
  },
  {
    rule: '★ refreshAfter absurdly far is clamped to expiry − W/2 (before the mandatory window)',
    state: INITIAL_STATE,
    now: 0,
    event: fetched(HOUR, 0.5, 1e15),
    action: 'serve',
    nextTimerAt: HOUR - 7.5 * MINUTE,
  },
  {
    rule: '★ an engine nobody called for two lifetimes stops its timer',
    state: { ...fresh, callsSeen: 3, usedAt: 0, nextAttemptAt: 2 * HOUR + MINUTE },
    now: 2 * HOUR + MINUTE,
    event: { type: 'timer', calls: 3 },
    action: 'none',
    nextTimerAt: Infinity,
  },
  {
    rule: '★ credentials for a month are refreshed within the 7-day horizon',
    state: INITIAL_STATE,
    now: 0,
    event: fetched(30 * 24 * HOUR, 1),
    action: 'serve',
    after: { lifetimeMs: 7 * 24 * HOUR, nextAttemptAt: 7 * 24 * HOUR - 30 * MINUTE },
  },
  {
    rule: '★ identities without expiry are cached with no timer',
    state: INITIAL_STATE,
    now: 0,
    event: fetched(Infinity, 0.5),
    action: 'serve',
    nextTimerAt: Infinity,
  },
]

describe('decide(): one row per rule of DESIGN.md', () => {
  for (const row of rows) {
    it(`rule ${row.rule}`, () => {
      const d = decide(row.state, row.now, row.event, row.config ?? config)
      expect(d.action).toBe(row.action)
      if (row.nextTimerAt !== undefined) expect(d.nextTimerAt).toBe(row.nextTimerAt)
      if (row.after !== undefined) expect(d.state).toMatchObject(row.after)
    })
  }

  it('covers every rule from 1 to 16', () => {
    const numbered = new Set(rows.map((r) => /^(\d+)/.exec(r.rule)?.[1]).filter((n) => n !== undefined))
    expect([...numbered].map(Number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 16 }, (_, i) => i + 1),
    )
  })

  it('is pure: the same arguments give the same decision, and the state is not mutated', () => {
    const state = Object.freeze({ ...fresh })
    const a = decide(state, 55 * MINUTE, call, config)
    const b = decide(state, 55 * MINUTE, call, config)
    expect(a).toEqual(b)
    expect(state).toEqual(fresh)
  })
})

describe('hotUntil() (rule 15): the hot path answers exactly while decide() would serve', () => {
  const states: [string, State][] = [
    ['fresh', fresh],
    ['refreshing', refreshing],
    ['backing off (retryable)', failed(52 * MINUTE, 53 * MINUTE)],
    ['backing off (unchanged)', failed(20 * MINUTE, 40 * MINUTE, 'unchanged')],
    ['invalidated', { ...fresh, invalidated: true }],
    ['empty', INITIAL_STATE],
  ]
  for (const [name, state] of states) {
    it(name, () => {
      const until = hotUntil(state)
      for (let t = 0; t <= HOUR + MINUTE; t += 10 * SECOND) {
        const served = decide(state, t, call, config).action === 'serve'
        if (t < until) expect(served).toBe(true)
        if (served) expect(validityAt(state, t, config)).toMatch(/valid|mandatory/)
      }
    })
  }
})
