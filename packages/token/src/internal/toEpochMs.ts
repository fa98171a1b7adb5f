/** A `now` option (a `Date` or epoch ms) as epoch ms; `fallback` when absent. A bad one is a `TypeError`. */
export function toEpochMs(now: Date | number | undefined, fallback: () => number): number {
  if (now === undefined) return fallback()
  const ms = now instanceof Date ? now.getTime() : now
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new TypeError('now must be a valid Date or a finite number of epoch milliseconds')
  }
  return ms
}
