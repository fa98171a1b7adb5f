// Virtual time for the long scenarios (day, fleet, outage, same-credentials).
//
// One event queue (a binary heap) holds everything that happens at a virtual instant: the
// callers' calls, the fake sources' answers (a source call takes `latencyMs` of virtual time),
// and — for podcreds — the engine's own timers, through the `Clock` object handed to
// `refreshing({ clock })`. After each instant the microtask queue is drained (a real
// `setImmediate` turn), so promise continuations of that instant run before time moves on.
//
// The AWS SDK takes no clock: its caches read `Date.now()`. For the SDK side the scenario runs in
// its own child process where `@sinonjs/fake-timers` fakes `Date` (and `setTimeout`/
// `clearTimeout`), and `onAdvance` moves that fake clock to each instant before it runs.
import { createRequire } from 'node:module'
import { median, seededRandom } from './util.mjs'

const require = createRequire(import.meta.url)

export const MINUTE = 60_000
export const HOUR = 60 * MINUTE

export class VirtualTime {
  constructor(start) {
    this.now = start
    this.heap = []
    this.seq = 0
    this.onAdvance = null
  }

  /** Schedules `fn` at virtual time `t`; returns a handle for `cancel`. */
  at(t, fn) {
    const ev = { t: Math.max(t, this.now), seq: this.seq++, fn, cancelled: false }
    const h = this.heap
    h.push(ev)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (less(h[p], ev)) break
      h[i] = h[p]
      i = p
    }
    h[i] = ev
    return ev
  }

  cancel(ev) {
    if (ev && typeof ev === 'object') ev.cancelled = true
  }

  pop() {
    const h = this.heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0) {
      let i = 0
      const n = h.length
      for (;;) {
        const l = 2 * i + 1
        if (l >= n) break
        const r = l + 1
        const c = r < n && less(h[r], h[l]) ? r : l
        if (less(last, h[c])) break
        h[i] = h[c]
        i = c
      }
      h[i] = last
    }
    return top
  }

  /** A podcreds `Clock` (now/setTimeout/clearTimeout) on this virtual time. */
  clock() {
    return {
      now: () => this.now,
      setTimeout: (fn, ms) => this.at(this.now + Math.max(0, Number(ms) || 0), fn),
      clearTimeout: (handle) => this.cancel(handle),
    }
  }

  /** Runs every event up to and including `until`, draining microtasks after each instant. */
  async run(until) {
    const h = this.heap
    while (h.length > 0 && h[0].t <= until) {
      const t = h[0].t
      if (t !== this.now) {
        this.now = t
        this.onAdvance?.(t)
      }
      while (h.length > 0 && h[0].t === t) {
        const ev = this.pop()
        if (!ev.cancelled) ev.fn()
      }
      await drain()
    }
    if (until > this.now) {
      this.now = until
      this.onAdvance?.(until)
    }
    await drain()
  }
}

function less(a, b) {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq)
}

/** Runs every pending microtask (and promise continuation chain) before returning. */
export const drain = () => new Promise((resolve) => setImmediate(resolve))

/**
 * For the SDK side: fakes `Date`, `setTimeout` and `clearTimeout` with @sinonjs/fake-timers at
 * `start`, and keeps the fake clock on the virtual time. Call only in a child process that runs
 * nothing but the SDK side of a scenario.
 */
export function installSdkTime(vt) {
  const FakeTimers = require('@sinonjs/fake-timers')
  const clock = FakeTimers.withGlobal(globalThis).install({
    now: vt.now,
    toFake: ['Date', 'setTimeout', 'clearTimeout'],
  })
  vt.onAdvance = (t) => {
    // tick (not setSystemTime) so a timer the SDK set would fire on time.
    if (t > clock.now) clock.tick(t - clock.now)
  }
  return clock
}

/** Source-call counts per minute of virtual time, from `start`. */
export class PerMinute {
  constructor(start, minutes) {
    this.start = start
    this.counts = new Array(minutes).fill(0)
  }

  add(t, n = 1) {
    const i = Math.floor((t - this.start) / MINUTE)
    if (i >= 0 && i < this.counts.length) this.counts[i] += n
  }

  /**
   * Peak and mean over minutes [from, to), counted in bins of `binMinutes` (a last partial bin is
   * dropped); `herd` is peak ÷ mean bin.
   */
  binned(binMinutes, fromMinute, toMinute = this.counts.length) {
    const bins = []
    for (let i = fromMinute; i + binMinutes <= toMinute; i += binMinutes) {
      let c = 0
      for (let j = i; j < i + binMinutes; j++) c += this.counts[j] ?? 0
      bins.push(c)
    }
    const total = bins.reduce((a, b) => a + b, 0)
    const peak = Math.max(0, ...bins)
    return {
      bins: bins.length,
      peak,
      total,
      mean: total / Math.max(1, bins.length),
      herd: total === 0 ? 0 : peak / (total / bins.length),
    }
  }
}

let keySeq = 0
/** A credentials object of `lifetimeMs` from `now` (new key id each time unless `same`). */
export function makeCredentials(now, lifetimeMs, id = keySeq++) {
  return {
    accessKeyId: `ASIABENCH${String(id).padStart(11, '0')}`,
    secretAccessKey: 'bench-secret-not-real',
    sessionToken: 'bench-session-not-real',
    expiration: new Date(now + lifetimeMs),
  }
}

/**
 * The herd factor of no herd at all: `total` calls each at a uniformly random time over `bins`
 * equal bins (a Poisson process at the same rate), median over `runs` seeded draws. The busiest
 * bin of a random process is above the mean by chance alone, the more so the fewer calls a bin
 * holds; this is the floor any fleet of independent processes can reach at that rate.
 */
export function randomHerd(total, bins, { runs = 31, seed = 7 } = {}) {
  if (total === 0 || bins === 0) return 0
  const random = seededRandom(seed)
  const herds = []
  const counts = new Array(bins)
  for (let r = 0; r < runs; r++) {
    counts.fill(0)
    for (let i = 0; i < total; i++) counts[Math.floor(random() * bins)]++
    herds.push(Math.max(...counts) / (total / bins))
  }
  return median(herds)
}
