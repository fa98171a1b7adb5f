// Test support, shared by every package's tests and the hardening suite (import it by relative
// path; it is not a package): catching the error a call must end in, so a test can assert on it
// (its code, and that no secret leaked) instead of only that something failed.
import { CredentialsError } from '@podcreds/core'
import { expect } from 'vitest'

/**
 * An error as a test inspects it: the fields of a `CredentialsError` (and of errors that mimic it)
 * readable without a cast, while a cast to a specific error class still type-checks.
 */
export type CaughtError = Error & {
  code?: string
  tryNextLink?: unknown
  retryable?: unknown
  status?: unknown
  stsCode?: unknown
}

/** The rejection of `promise`; fails the test when it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<CaughtError> {
  try {
    await promise
  } catch (error) {
    return error as CaughtError
  }
  throw new Error('expected a rejection, got a value')
}

/** The error `fn` throws; fails the test when it returns. */
export function thrownBy(fn: () => unknown): CaughtError {
  try {
    fn()
  } catch (error) {
    return error as CaughtError
  }
  throw new Error('expected a throw, got a value')
}

/** The rejection of `promise`, which must be a `CredentialsError`; fails the test otherwise. */
export async function credentialsErrorOf(promise: Promise<unknown>): Promise<CredentialsError> {
  const error: unknown = await rejectionOf(promise)
  expect(error).toBeInstanceOf(CredentialsError)
  return error as CredentialsError
}
