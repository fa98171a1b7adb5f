import type { Clock, TimerHandle } from '@podcreds/core'

/** Something a {@link Scheduler} runs at a due time: an engine's refresh point or back-off end. */
export interface Scheduled {
  /** Its index in the scheduler's heap, `-1` while not scheduled. Only the scheduler writes it. */
  slot: number
  /** Runs when its due time has come on `clock.now()`; it may schedule itself again. */
  fire(): void
}

/**
 * One scheduler per `Clock` object, made on first use: engines made with the same clock share it,
 * engines with different clocks (a test's fake clocks) never do.
 */
const schedulers = new WeakMap<Clock, Scheduler>()

/**
 * The timers of every engine on one clock, behind one real timer (benchmarks scenario 8: a Node
 * timer per engine cost ~240 B, since jittered delays are all different and each got its own Node
 * timer list). A binary min-heap of due times; the clock's timer is always set for the earliest
 * one, without `keepAlive`, so the system clock unrefs it and it never holds the process open
 * (rule 4).
 *
 * A timer may fire early (the system clock caps delays at 2³¹−1 ms) or late (laptop sleep), and
 * the wall clock may be stepped: when it fires, the scheduler reads `clock.now()`, takes every
 * entry due by then out of the heap, sets the timer for the next one, and runs those it took, in
 * due-time order. An entry stays in the heap, and so reachable, only while it is scheduled, as a
 * pending timer held its engine.
 */
export class Scheduler {
  readonly #clock: Clock
  /** The heap: `#items[i]` is due at `#due[i]`, parents before children. */
  readonly #items: Scheduled[] = []
  readonly #due: number[] = []
  #timer: TimerHandle = undefined
  /** The due time the clock's timer is set for; `+Infinity` when none is set. */
  #timerAt = Number.POSITIVE_INFINITY
  readonly #onTimer = (): void => this.#run()

  private constructor(clock: Clock) {
    this.#clock = clock
  }

  /** The scheduler of `clock`, made on the first call with it. */
  static of(clock: Clock): Scheduler {
    let s = schedulers.get(clock)
    if (s === undefined) {
      s = new Scheduler(clock)
      schedulers.set(clock, s)
    }
    return s
  }

  /** Schedules `item` at `at` (epoch ms on the clock), moving it if it was scheduled already. */
  add(item: Scheduled, at: number): void {
    const i = item.slot
    if (i < 0) {
      const n = this.#items.length
      this.#items.push(item)
      this.#due.push(at)
      item.slot = n
      this.#up(n)
    } else {
      const was = this.#due[i]!
      this.#due[i] = at
      if (at < was) this.#up(i)
      else this.#down(i)
    }
    try {
      this.#sync()
    } catch (error) {
      // A clock whose setTimeout throws: the entry must not look scheduled (its engine's
      // `nextRefreshAt`) when no timer will run it. The timer set before stays (see #sync), due
      // no later than every other entry, whose run sets it again.
      if (item.slot >= 0) this.#take(item.slot)
      throw error
    }
  }

  /** Unschedules `item`; nothing happens when it is not scheduled. */
  remove(item: Scheduled): void {
    const i = item.slot
    if (i < 0) return
    this.#take(i)
    try {
      this.#sync()
    } catch {
      // A clock whose setTimeout throws: the timer set before stays (see #sync); it fires no later
      // than the entries left, and its run sets the timer again. Removing never fails.
    }
  }

  /** Takes the entry at `i` out of the heap. */
  #take(i: number): Scheduled {
    const items = this.#items
    const due = this.#due
    const item = items[i]!
    const lastItem = items.pop()!
    const lastDue = due.pop()!
    item.slot = -1
    if (i < items.length) {
      items[i] = lastItem
      due[i] = lastDue
      lastItem.slot = i
      if (i > 0 && lastDue < due[(i - 1) >> 1]!) this.#up(i)
      else this.#down(i)
    }
    return item
  }

  #up(i: number): void {
    const items = this.#items
    const due = this.#due
    const item = items[i]!
    const at = due[i]!
    while (i > 0) {
      const p = (i - 1) >> 1
      const pAt = due[p]!
      if (pAt <= at) break
      const parent = items[p]!
      items[i] = parent
      due[i] = pAt
      parent.slot = i
      i = p
    }
    items[i] = item
    due[i] = at
    item.slot = i
  }

  #down(i: number): void {
    const items = this.#items
    const due = this.#due
    const n = items.length
    const item = items[i]!
    const at = due[i]!
    for (;;) {
      let c = 2 * i + 1
      if (c >= n) break
      if (c + 1 < n && due[c + 1]! < due[c]!) c++
      const cAt = due[c]!
      if (at <= cAt) break
      const child = items[c]!
      items[i] = child
      due[i] = cAt
      child.slot = i
      i = c
    }
    items[i] = item
    due[i] = at
    item.slot = i
  }

  /** Keeps the clock's one timer set for the earliest due time, and none when nothing is due. */
  #sync(): void {
    const next = this.#items.length === 0 ? Number.POSITIVE_INFINITY : this.#due[0]!
    if (next === this.#timerAt) return
    // The new timer first, then the old one cleared: a clock whose setTimeout throws leaves the
    // timer that was set, which fires no later than any entry still waiting (an entry only
    // leaves or moves later without making the timer earlier), and whose run sets it again.
    // No keepAlive: the system clock unrefs the timer (rule 4).
    const timer =
      next === Number.POSITIVE_INFINITY
        ? undefined
        : this.#clock.setTimeout(this.#onTimer, Math.max(0, next - this.#clock.now()))
    if (this.#timerAt !== Number.POSITIVE_INFINITY) this.#clock.clearTimeout(this.#timer)
    this.#timer = timer
    this.#timerAt = next
  }

  #run(): void {
    this.#timer = undefined
    this.#timerAt = Number.POSITIVE_INFINITY
    // Rule 4: trust the wall clock, not the timer. Everything due by now runs; what an entry
    // schedules while it runs waits for the next timer, even when due at once.
    const now = this.#clock.now()
    const ready: Scheduled[] = []
    while (this.#items.length > 0 && this.#due[0]! <= now) ready.push(this.#take(0))
    let failed = false
    let failure: unknown
    try {
      for (const item of ready) {
        // Scheduled again since (by another entry's run): it runs at its new time instead.
        if (item.slot >= 0) continue
        try {
          item.fire()
        } catch (error) {
          // One entry's fault must not stop the others; the first is rethrown, as a timer's was.
          if (!failed) failure = error
          failed = true
        }
      }
    } finally {
      // The timer for what is left, set after the runs: were it set before them, a clock whose
      // setTimeout throws would keep the entries taken out above from ever running.
      this.#sync()
    }
    if (failed) throw failure
  }
}
