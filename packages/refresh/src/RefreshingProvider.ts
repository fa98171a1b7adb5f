import type { CredentialsErrorCode, IdentityProperties } from '@podcreds/core'

/**
 * A cached, self-refreshing provider, as returned by {@link refreshing}. Call it like any
 * `AwsCredentialIdentityProvider`: when `T` is AWS credentials it is one, so it goes straight
 * into an AWS SDK v3 client's `credentials`.
 *
 * @typeParam T - the identity: anything with an optional `expiration` (AWS credentials, an
 * Azure access token, …).
 * @example
 * ```ts
 * const credentials = refreshing(fromContainer())
 * const s3 = new S3Client({ credentials })
 * process.on('SIGTERM', () => credentials.close())
 * ```
 */
export interface RefreshingProvider<T> {
  /**
   * The cached identity. Answers at once while it is outside the mandatory window; callers wait
   * only for the first fetch, inside the mandatory window, after expiry, or after
   * {@link RefreshingProvider.invalidate}.
   *
   * @param props - identity properties from the AWS SDK; passed through to the source.
   */
  (props?: IdentityProperties): Promise<T>
  /**
   * Calls the source now, whatever the cache holds (single-flight: joins a refresh already in
   * flight). Resolves to what the source returned, rejects with the source's error.
   */
  refresh(): Promise<T>
  /**
   * Marks the cached identity as rejected (e.g. AWS answered `ExpiredToken`), so the next call
   * waits for a fresh one. With a `key`, only when it matches `keyOf` of the cached identity
   * (by default its `accessKeyId`): a late rejection of credentials already replaced is ignored.
   */
  invalidate(key?: string): void
  /** A snapshot of the counters and the state. Contains no secret. */
  stats(): RefreshStats
  /**
   * Stops the background timer. Calls keep working afterwards, refreshing on demand only.
   * Idempotent.
   */
  close(): void
  /** Same as {@link RefreshingProvider.close}, for `using`. */
  [Symbol.dispose](): void
}

/**
 * What the engine can cache: any identity with an optional expiry (AWS credentials, an Azure
 * access token, …). Without `expiration`, it is cached until `invalidate()`.
 */
export interface ExpiringIdentity {
  /** When the identity stops being valid. */
  expiration?: Date
  /**
   * When the source wants this identity refreshed in the background (Azure's `refresh_in`): the
   * engine's refresh point becomes this time, jittered forward over 5 % of the lifetime and
   * clamped to `[fetch + lifetime/4, expiry − W/2]`, so before the mandatory window. Absent: the
   * point of rule 3. Not a valid `Date`: the answer is a failed refresh (`ERR_RESPONSE_INVALID`).
   */
  refreshAfter?: Date
}

/** The secret-free summary of a source error, as `stats().lastError` and events carry it. */
export interface RefreshErrorInfo {
  /** The error's `name`. */
  name: string
  /** The podcreds error code, when the source threw a `CredentialsError`. */
  code?: CredentialsErrorCode
  /** HTTP status, when the source received one. */
  status?: number
  /** STS error code, when STS answered with one. */
  stsCode?: string
  /** The message, scrubbed of secrets and capped at 300 characters. */
  message: string
  /** Whether the engine treats it as transient (rule 6) or non-recoverable (rule 7). */
  retryable: boolean
  /** When the failure was seen (clock time). */
  at: Date
}

/** Counters and state of a {@link RefreshingProvider}, from `stats()`. */
export interface RefreshStats {
  /** Calls of the provider. */
  calls: number
  /** Calls answered at once from the cache (stale answers included). */
  hits: number
  /** Calls that waited for a source call. */
  waits: number
  /** Calls of the source function, all causes. */
  sourceCalls: number
  /** Source calls started in the background, no caller waiting. */
  backgroundRefreshes: number
  /** Source calls that failed (an error, or already-expired credentials). */
  failures: number
  /** Source calls that returned the identity we already held (rule 10). */
  unchanged: number
  /** Answers with expired credentials, allowed by `maxStalenessMs`. */
  servedStale: number
  /** Whether a source call is in flight. */
  refreshing: boolean
  /** Whether `close()` was called. */
  closed: boolean
  /** Expiry of the cached identity; absent when nothing is cached or it never expires. */
  expiresAt?: Date
  /** When the engine will next call the source on its own; absent when it will not. */
  nextRefreshAt?: Date
  /** The advisory window chosen at the last fetch, in milliseconds (rule 2). */
  refreshWindowMs?: number
  /** The mandatory window chosen at the last fetch, in milliseconds (rule 2). */
  mandatoryWindowMs?: number
  /** The last source failure, redacted. */
  lastError?: RefreshErrorInfo
}

/**
 * One engine event: what the `podcreds:refresh:<type>` diagnostics channels publish and what the
 * `onEvent` option receives. Contains no secret: key ids are shortened (`ASIA…WXYZ`), errors
 * summarised.
 */
export interface RefreshEvent {
  /** `start` (a source call begins), `success`, `unchanged` (rule 10), `failure`, `stale` (rule 8). */
  type: 'start' | 'success' | 'unchanged' | 'failure' | 'stale'
  /** Clock time of the event. */
  at: Date
  /**
   * Why the source was called (on `start`): the first fetch, a background refresh, a caller that
   * must wait (mandatory window, expiry), an invalidation, or `refresh()`.
   */
  trigger?: 'initial' | 'background' | 'blocking' | 'invalidated' | 'forced'
  /** The shortened access key id of the identity concerned, when it has one. */
  keyId?: string
  /** Expiry of the identity now cached. */
  expiresAt?: Date
  /** When the engine will next call the source on its own. */
  nextRefreshAt?: Date
  /** Duration of the source call (`success`, `unchanged`, `failure`), in milliseconds. */
  durationMs?: number
  /** Consecutive failed or unchanged source calls, this one included. */
  attempt?: number
  /** The failure (`failure`, `stale`). */
  error?: RefreshErrorInfo
}
