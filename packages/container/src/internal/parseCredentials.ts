import type { TemporaryCredentials } from '@podcreds/core'
import { CredentialsError, parseRfc3339 } from '@podcreds/core'

/**
 * Turns the agent's JSON body into credentials. Errors name the field, never its value: the
 * values are secrets, and a hostile or broken agent may put a secret in any field.
 */
export function parseCredentials(body: string, where: string, now: number): TemporaryCredentials {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    // Retryable: both AWS SDKs retry an answer they cannot parse (issue 17).
    throw new CredentialsError(`response from ${where} is not JSON`, {
      code: 'ERR_RESPONSE_INVALID',
      retryable: true,
    })
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
