// Test support, shared by every package's tests and the hardening suite (import it by relative
// path; it is not a package): a deterministic virtual clock implementing core's `Clock`. It drives
// hours of refreshes in milliseconds of real time without `vi.useFakeTimers` or patched globals.
import type { Clock, TimerHandle, TimerOptions } from '@podcreds/core'

/** How {@link FakeClock.advance} lets pending promise callbacks run around each timer it fires. */
export type SettleMode = 'turn' | 'drain'

export interface FakeClockOptions {
  /**
   * `'turn'` (default): one macrotask turn before the first timer and after each one. `'drain'`
   * (the hardening suite): twenty microtask turns and then a macrotask turn, and once more when
   * `advance()` ends, for sources that chain many promises per answer.
   */
  settle?: SettleMode
}

/**
 * A deterministic virtual clock: `now()` is a number you move, and timers sit in a queue that runs
 * only when you `advance()`. Timers run on a monotonic counter, as Node's do; `now()` is that
 * counter plus a wall-clock offset, so the wall clock can be stepped on its own.
 *
 * - `advance(ms)` moves both forward, firing each timer that falls due, in due-time order (ties in
 *   the order they were set), with `now()` equal to its due time, and lets pending promise
 *   callbacks settle after each one — so a source call that a timer starts completes before the
 *   next timer fires.
 * - `sleep(ms)` moves time without firing anything, like a laptop lid closed: timers then fire
 *   late, at the next `advance()` or `fireDue()`.
 * - `jump(ms)` moves only the wall clock, forward or backward (an NTP step): timers keep their
 *   monotonic due time.
 * - `pending()` counts live timers; `keepAliveRequests` counts timers set with `keepAlive`.
 */
export class FakeClock implements Clock {
  #mono = 0
  #offset: number
  #seq = 0
  readonly #settle: SettleMode
  readonly #timers = new Map<number, { at: number; fn: () => void }>()
  /** How many timers were set with `{ keepAlive: true }`. */
  keepAliveRequests = 0
  /** How many timers were set in all. */
  timersSet = 0

  constructor(start = Date.UTC(2026, 0, 1), options: FakeClockOptions = {}) {
    this.#offset = start
    this.#settle = options.settle ?? 'turn'
  }

  now(): number {
    return this.#mono + this.#offset
  }

  setTimeout(fn: () => void, ms: number, options?: TimerOptions): TimerHandle {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`FakeClock.setTimeout: bad delay ${ms}`)
    const id = ++this.#seq
    this.#timers.set(id, { at: this.#mono + ms, fn })
    this.timersSet++
    if (options?.keepAlive === true) this.keepAliveRequests++
    return { id }
  }

  clearTimeout(handle: TimerHandle): void {
    const id = (handle as { id?: unknown } | null)?.id
    if (typeof id === 'number') this.#timers.delete(id)
  }

  /** Live timers. */
  pending(): number {
    return this.#timers.size
  }

  /** Due time (on the wall clock) of the earliest live timer, or `undefined`. */
  nextDue(): number | undefined {
    let min: number | undefined
    for (const t of this.#timers.values()) if (min === undefined || t.at < min) min = t.at
    return min === undefined ? undefined : min + this.#offset
  }

  /** Moves time forward without firing timers (a suspended process): they fire late. */
  sleep(ms: number): void {
    this.#mono += ms
  }

  /** Moves only the wall clock (forward or backward) without running anything. */
  jump(ms: number): void {
    this.#offset += ms
  }

  /** Moves time forward by `ms`, firing due timers in order and settling promises after each. */
  async advance(ms: number): Promise<void> {
    // Callbacks of answers given now settle now, before time moves.
    await settle(this.#settle)
    const end = this.#mono + ms
    for (;;) {
      const next = this.#earliest(end)
      if (next === undefined) break
      this.#timers.delete(next.id)
      this.#mono = Math.max(this.#mono, next.at)
      next.fn()
      await settle(this.#settle)
    }
    this.#mono = end
    if (this.#settle === 'drain') await settle('drain')
  }

  /** Fires every timer already due (late after a `sleep`), in order. */
  async fireDue(): Promise<void> {
    await this.advance(0)
  }

  #earliest(limit: number): { id: number; at: number; fn: () => void } | undefined {
    let best: { id: number; at: number; fn: () => void } | undefined
    // Map order is the order set, so the first of equal due times wins.
    for (const [id, t] of this.#timers) {
      if (t.at > limit) continue
      if (best === undefined || t.at < best.at) best = { id, ...t }
    }
    return best
  }
}

/**
 * Lets every pending promise callback run: a macrotask turn drains the microtask queue (`'turn'`);
 * `'drain'` first spins twenty microtask turns. Uses the real `setImmediate`, which no test replaces.
 */
export async function settle(mode: SettleMode = 'turn'): Promise<void> {
  if (mode === 'drain') for (let i = 0; i < 20; i++) await Promise.resolve()
  await new Promise<void>((resolve) => setImmediate(resolve))
}
