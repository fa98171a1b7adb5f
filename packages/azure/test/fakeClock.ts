import type { Clock, TimerHandle, TimerOptions } from '@podcreds/core'

/**
 * A deterministic virtual clock for tests: `now()` is a number you move, and timers sit in a
 * queue that runs only when you `advance()`. Copy this idea into other packages' tests: it drives
 * hours of refreshes in milliseconds of real time, without `vi.useFakeTimers` or patched globals.
 *
 * - `advance(ms)` moves time forward, firing each timer that falls due, in due-time order (ties in
 *   the order they were set), with `now()` equal to its due time, and lets pending promise
 *   callbacks settle after each one — so a source call that a timer starts completes before the
 *   next timer fires.
 * - `sleep(ms)` moves the wall clock without firing anything, like a laptop lid closed: timers
 *   then fire late, at the next `advance()` or `fireDue()`.
 * - `pending()` counts live timers; `keepAliveRequests` counts timers set with `keepAlive`.
 */
export class FakeClock implements Clock {
  #now: number
  #seq = 0
  #timers = new Map<number, { at: number; seq: number; fn: () => void }>()
  /** How many timers were set with `{ keepAlive: true }`. */
  keepAliveRequests = 0
  /** How many timers were set in all. */
  timersSet = 0

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.#now = start
  }

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.setTimeout: bad delay ${ms}`)
    const id = ++this.#seq
    this.#timers.set(id, { at: this.#now + ms, seq: id, fn })
    this.timersSet++
    if (options?.keepAlive === true) this.keepAliveRequests++
    return { id }
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'object' && handle !== null && 'id' in handle)
      this.#timers.delete(handle.id as number)
  }

  /** Live timers. */
  pending(): number {
    return this.#timers.size
  }

  /** Due time of the earliest live timer, or `undefined`. */
  nextDue(): number | undefined {
    let min: number | undefined
    for (const t of this.#timers.values()) if (min === undefined || t.at < min) min = t.at
    return min
  }

  /** Moves the wall clock without firing timers (simulated sleep). */
  sleep(ms: number): void {
    this.#now += ms
  }

  /** Moves time forward by `ms`, firing due timers in order and settling promises after each. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms
    await settle()
    for (;;) {
      const next = this.#earliest(end)
      if (next === undefined) break
      this.#timers.delete(next.id)
      if (next.at > this.#now) this.#now = next.at
      next.fn()
      await settle()
    }
    this.#now = end
  }

  /** Fires every timer already due at `now()` (late after a `sleep`), in order. */
  async fireDue(): Promise<void> {
    await this.advance(0)
  }

  #earliest(limit: number): { id: number; at: number; fn: () => void } | undefined {
    let best: { id: number; at: number; seq: number; fn: () => void } | undefined
    for (const [id, t] of this.#timers) {
      if (t.at > limit) continue
      if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = { id, ...t }
    }
    return best
  }
}

/**
 * Lets every pending promise callback run: a macrotask turn drains the microtask queue. Uses the
 * real `setImmediate`, which no test replaces.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
