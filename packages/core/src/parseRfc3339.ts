// RFC 3339 date-time (section 5.6), with the offset optional: the ECS and Pod Identity agents
// send `Z`, but a bare time is read as UTC (DESIGN "@podcreds/container"), not as local time,
// which is what `Date.parse` would do. `T`, `t` or a space between date and time (section 5.6,
// NOTE); `Z` or `z`.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/

/**
 * Parses an RFC 3339 date-time strictly, e.g. a credentials `Expiration`. Returns `undefined`
 * for anything else: out-of-range fields (February 30, February 29 of a common year, hour 24,
 * minute 60, an offset over 23:59) are rejected instead of rolled over as `Date` does. A time
 * without an offset is read as UTC; fractional seconds are kept to the millisecond (truncated);
 * second 60 (a leap second, section 5.7) is carried into the next minute.
 *
 * @param text - the date-time, e.g. `2026-11-24T13:00:00Z` or `2026-11-24T15:00:00.5+02:00`
 * @returns the instant, or `undefined` when `text` is not a valid RFC 3339 date-time
 * @example
 * ```ts
 * parseRfc3339('2026-11-24T15:00:00+02:00')?.toISOString() // '2026-11-24T13:00:00.000Z'
 * parseRfc3339('2026-02-30T00:00:00Z') // undefined
 * ```
 */
export function parseRfc3339(text: string): Date | undefined {
  if (typeof text !== 'string') return undefined
  const m = RFC3339.exec(text)
  if (m === null) return undefined
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'))
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 60) return undefined
  let offsetMinutes = 0
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10])
    const offsetMins = Number(m[11])
    if (offsetHours > 23 || offsetMins > 59) return undefined
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins)
  }
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, millis)
  const utc = date.getTime() - offsetMinutes * 60_000
  return Number.isNaN(utc) ? undefined : new Date(utc)
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}
