import type { GetTokenOptions } from '@azure/core-auth'

/** `@azure/abort-controller`'s `AbortSignalLike`, as `GetTokenOptions` types it. */
export type AbortSignalLike = NonNullable<GetTokenOptions['abortSignal']>

/** Azure SDKs pass any `AbortSignalLike` (`aborted` plus the two listener methods). */
export function isAbortSignalLike(value: unknown): value is AbortSignalLike {
  if (typeof value !== 'object' || value === null) return false
  const signal = value as Partial<Record<keyof AbortSignalLike, unknown>>
  return (
    typeof signal.aborted === 'boolean' &&
    typeof signal.addEventListener === 'function' &&
    typeof signal.removeEventListener === 'function'
  )
}

/**
 * The error an aborted `getToken` rejects with: named `AbortError`, as Azure's pipeline and
 * `@azure/abort-controller` check by name, with the signal's reason as `cause`.
 */
export function abortError(signal: AbortSignalLike): Error {
  const reason = (signal as { reason?: unknown }).reason
  const error = new Error('getToken was aborted', reason === undefined ? undefined : { cause: reason })
  error.name = 'AbortError'
  return error
}

/**
 * Settles like `promise`, or rejects with {@link abortError} as soon as `signal` aborts. The
 * promise itself goes on (it is the shared refresh other callers wait for); only this caller stops
 * waiting.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignalLike | undefined): Promise<T> {
  if (signal === undefined) return promise
  if (signal.aborted) {
    promise.catch(() => {})
    return Promise.reject(abortError(signal))
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
