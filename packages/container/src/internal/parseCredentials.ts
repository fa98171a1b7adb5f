import type { TemporaryCredentials } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'

// RFC 3339 date-time (section 5.6), with the offset optional: the ECS and Pod Identity agents
// send `Z`, but a bare time is read as UTC (DESIGN "@podcreds/container"), not as local time,
// which is what `Date.parse` would do.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/

/**
 * Parses an RFC 3339 timestamp strictly: out-of-range fields (Feb 30, hour 24) are rejected
 * instead of rolled over as `Date` does. Returns `undefined` when invalid.
 */
export function parseRfc3339(text: string): Date | undefined {
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
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate()
  // second 60 is a leap second (RFC 3339 5.7); Date.UTC carries it into the next minute.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined
  if (hour > 23 || minute > 59 || second > 60) return undefined
  let offsetMinutes = 0
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10])
    const offsetMins = Number(m[11])
    if (offsetHours > 23 || offsetMins > 59) return undefined
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins)
  }
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000
  const date = new Date(utc)
  return Number.isNaN(date.getTime()) ? undefined : date
}

/**
 * Turns the agent's JSON body into credentials. Errors name the field, never its value: the
 * values are secrets, and a hostile or broken agent may put a secret in any field.
 */
export function parseCredentials(body: string, where: string, now: number): TemporaryCredentials {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    throw invalid(`response from ${where} is not JSON`)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalid(`response from ${where} is not a JSON object`)
  }
  const record = json as Record<string, unknown>
  const field = (name: string): string => {
    const value = record[name]
    if (typeof value !== 'string' || value === '') {
      throw invalid(
        `response from ${where} has no ${name}: the field is ${value === undefined ? 'missing' : value === '' ? 'empty' : `a ${value === null ? 'null' : typeof value}, not a string`}`,
      )
    }
    return value
  }
  const accessKeyId = field('AccessKeyId')
  const secretAccessKey = field('SecretAccessKey')
  const sessionToken = field('Token')
  const expiration = parseRfc3339(field('Expiration'))
  if (expiration === undefined) {
    throw invalid(`response from ${where} has an invalid Expiration: not an RFC 3339 date-time`)
  }
  if (expiration.getTime() <= now) {
    // The parsed date, not the raw field, is printed: it is normalized and cannot carry a secret.
    throw invalid(
      `response from ${where} has an Expiration in the past (${expiration.toISOString()}, now ${new Date(now).toISOString()})`,
    )
  }
  // AccountId is optional (the ECS agent omits it); the AWS SDK drops it, we keep it.
  const accountId = record['AccountId']
  if (accountId === undefined || accountId === null) {
    return { accessKeyId, secretAccessKey, sessionToken, expiration }
  }
  if (typeof accountId !== 'string' || accountId === '') {
    throw invalid(`response from ${where} has an invalid AccountId: not a non-empty string`)
  }
  return { accessKeyId, secretAccessKey, sessionToken, expiration, accountId }
}

function invalid(message: string): CredentialsError {
  return new CredentialsError(message, { code: 'ERR_RESPONSE_INVALID' })
}
