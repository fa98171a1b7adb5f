import type {
  AwsCredentialIdentity,
  Clock,
  DescribableProvider,
  Env,
  SourceDescription,
} from '@podcreds/core'
import {
  CredentialsError,
  parseRfc3339,
  protectCredentials,
  readEnv,
  redactKeyId,
  systemClock,
  validateClock,
  validateEnv,
} from '@podcreds/core'

/** Options of {@link fromEnv}. */
export interface FromEnvOptions {
  /**
   * The environment to read `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
   * `AWS_CREDENTIAL_EXPIRATION` and `AWS_ACCOUNT_ID` from, per call. Empty values count as unset.
   * @defaultValue `process.env`
   */
  env?: Env
  /**
   * The clock that decides whether `AWS_CREDENTIAL_EXPIRATION` is already past.
   * @defaultValue `systemClock`
   */
  clock?: Clock
}

const ENV_KEY = 'AWS_ACCESS_KEY_ID'
const ENV_SECRET = 'AWS_SECRET_ACCESS_KEY'
const ENV_SESSION = 'AWS_SESSION_TOKEN'
const ENV_EXPIRATION = 'AWS_CREDENTIAL_EXPIRATION'
const ENV_ACCOUNT_ID = 'AWS_ACCOUNT_ID'
const SOURCE = 'env'

/**
 * Static credentials from the environment: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, with
 * `AWS_SESSION_TOKEN`, `AWS_CREDENTIAL_EXPIRATION` (RFC 3339) and `AWS_ACCOUNT_ID` when set — the
 * variables the AWS SDK's `fromEnv` reads. The environment is read on every call.
 *
 * Neither key set → `ERR_NOT_CONFIGURED` (`tryNextLink`: a chain moves on). Only one of the two
 * set, or an unparsable expiration → `ERR_INVALID_CONFIG`, which stops a chain: a half-configured
 * source is a mistake to report, not a reason to pick another identity silently (the AWS SDK
 * moves on here). An expiration already past → `ERR_CREDENTIALS_EXPIRED`. Messages name the
 * variable, never a value.
 *
 * The credentials returned print redacted (`util.inspect`, `JSON.stringify`).
 *
 * @param options - the environment and clock seams
 * @returns a provider with `describe()` (configuration only)
 * @throws TypeError when an option is malformed
 * @example
 * ```ts
 * import { fromEnv } from '@podcreds/chain'
 *
 * const credentials = await fromEnv()()
 * ```
 */
export function fromEnv(options: FromEnvOptions = {}): DescribableProvider<AwsCredentialIdentity> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  validateEnv('env', options.env)
  validateClock('clock', options.clock)
  const clock = options.clock ?? systemClock

  const read = (): AwsCredentialIdentity => {
    const env = options.env ?? process.env
    const accessKeyId = readEnv(env, ENV_KEY)
    const secretAccessKey = readEnv(env, ENV_SECRET)
    if (accessKeyId === undefined && secretAccessKey === undefined) {
      throw new CredentialsError(`${SOURCE}: neither ${ENV_KEY} nor ${ENV_SECRET} is set`, {
        code: 'ERR_NOT_CONFIGURED',
      })
    }
    if (accessKeyId === undefined || secretAccessKey === undefined) {
      const [set, missing] = accessKeyId === undefined ? [ENV_SECRET, ENV_KEY] : [ENV_KEY, ENV_SECRET]
      throw new CredentialsError(`${SOURCE}: ${set} is set but ${missing} is not`, {
        code: 'ERR_INVALID_CONFIG',
      })
    }
    const credentials: { -readonly [K in keyof AwsCredentialIdentity]: AwsCredentialIdentity[K] } = {
      accessKeyId,
      secretAccessKey,
    }
    const sessionToken = readEnv(env, ENV_SESSION)
    if (sessionToken !== undefined) credentials.sessionToken = sessionToken
    const expirationText = readEnv(env, ENV_EXPIRATION)
    if (expirationText !== undefined) {
      // Strict: 2026-02-30 is an error, not March 2 (Date would roll it over).
      const expiration = parseRfc3339(expirationText)
      if (expiration === undefined) {
        throw new CredentialsError(`${SOURCE}: ${ENV_EXPIRATION} is not an RFC 3339 date-time`, {
          code: 'ERR_INVALID_CONFIG',
        })
      }
      if (expiration.getTime() <= clock.now()) {
        throw new CredentialsError(
          `${SOURCE}: the credentials expired at ${expiration.toISOString()} (${ENV_EXPIRATION})`,
          { code: 'ERR_CREDENTIALS_EXPIRED' },
        )
      }
      credentials.expiration = expiration
    }
    const accountId = readEnv(env, ENV_ACCOUNT_ID)
    if (accountId !== undefined) credentials.accountId = accountId
    return credentials
  }

  const provider = async (_identityProperties?: Record<string, unknown>): Promise<AwsCredentialIdentity> =>
    protectCredentials(read())

  const describe = async (): Promise<SourceDescription> => {
    let credentials: AwsCredentialIdentity
    try {
      credentials = read()
    } catch (error) {
      if (error instanceof CredentialsError && error.code === 'ERR_NOT_CONFIGURED') {
        return { configured: false, reason: error.message, details: {} }
      }
      throw error
    }
    const details: Record<string, string> = {
      accessKeyId: redactKeyId(credentials.accessKeyId),
      sessionToken: credentials.sessionToken === undefined ? 'not set' : 'set',
    }
    if (credentials.expiration !== undefined) details['expiration'] = credentials.expiration.toISOString()
    if (credentials.accountId !== undefined) details['accountId'] = credentials.accountId
    const kind = credentials.sessionToken === undefined ? 'long-term' : 'temporary'
    return {
      configured: true,
      reason: `${kind} keys from ${ENV_KEY} / ${ENV_SECRET} (${details['accessKeyId']})`,
      details,
    }
  }

  return Object.assign(provider, { describe })
}
