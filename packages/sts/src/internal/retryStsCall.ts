import type { Clock, Logger, Random, TemporaryCredentials } from '@podcreds/core'
import { CredentialsError, redactKeyId, retry } from '@podcreds/core'

/** The seams and labels of {@link retryStsCall}. */
export interface RetryStsCallOptions {
  /** Attempts in all (1 = no retry). */
  maxAttempts: number
  /** Owns the back-off timers. */
  clock: Clock
  /** Back-off jitter. */
  random: Random
  /** Aborts the back-off waits (`ERR_ABORTED`). */
  signal: AbortSignal | undefined
  /** Gets the debug lines; never a secret. */
  logger: Logger | undefined
  /** The client's log prefix: `web-identity`, `assume-role`. */
  label: string
  /** The role assumed, for the success line. */
  roleArn: string
}

/**
 * One STS exchange with the clients' common retry policy (core's `retry`: full-jitter back-off on
 * retryable errors) and their common debug lines: each retry with the error's code, STS code and
 * status (never its message, which may echo a secret), and the assumed role's redacted key id,
 * expiry and account. Shared by `fromWebIdentity` and `fromAssumeRole`; `attempt` holds what
 * differs (the token re-read, the source's key invalidated).
 *
 * @example
 * ```ts
 * const credentials = await retryStsCall(() => exchange(token), {
 *   maxAttempts: 3, clock: systemClock, random: systemRandom, signal: undefined, logger: undefined,
 *   label: 'web-identity', roleArn,
 * })
 * ```
 */
export async function retryStsCall(
  attempt: () => Promise<TemporaryCredentials>,
  options: RetryStsCallOptions,
): Promise<TemporaryCredentials> {
  const { logger, label } = options
  const credentials = await retry(attempt, {
    maxAttempts: options.maxAttempts,
    clock: options.clock,
    random: options.random,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onRetry: (error, attemptNumber, delayMs) => {
      logger?.debug?.(`${label}: retrying STS`, { attempt: attemptNumber, delayMs, ...errorFields(error) })
    },
  })
  logger?.debug?.(`${label}: assumed role`, {
    roleArn: options.roleArn,
    accessKeyId: redactKeyId(credentials.accessKeyId),
    expiration: credentials.expiration.toISOString(),
    ...(credentials.accountId === undefined ? {} : { accountId: credentials.accountId }),
  })
  return credentials
}

function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof CredentialsError)) return {}
  return {
    code: error.code,
    ...(error.stsCode === undefined ? {} : { stsCode: error.stsCode }),
    ...(error.status === undefined ? {} : { status: error.status }),
  }
}
