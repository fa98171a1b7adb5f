import type { CredentialsErrorOptions } from '@podcreds/core'
import { CredentialsError } from '@podcreds/core'

const BRAND: unique symbol = Symbol.for('podcreds.CredentialUnavailableError')

/**
 * Workload ID is not set up here: no tenant id, client id or federated token file. Its `name` is
 * `'CredentialUnavailableError'`, the name `@azure/identity`'s `ChainedTokenCredential` (and
 * `DefaultAzureCredential`) looks for to move on to its next credential, so a
 * {@link workloadIdentityCredential} fits into those chains like Azure's own credentials.
 *
 * It is a `CredentialsError` with `code: 'ERR_NOT_CONFIGURED'` and `tryNextLink: true`, so podcreds
 * chains treat it the same way.
 *
 * @example
 * ```ts
 * try {
 *   await credential.getToken('https://vault.azure.net/.default')
 * } catch (err) {
 *   if (err instanceof CredentialUnavailableError) console.error(`not on AKS with Workload ID: ${err.message}`)
 * }
 * ```
 */
export class CredentialUnavailableError extends CredentialsError {
  /**
   * @param message - which settings are missing (never a secret)
   * @param options - `cause` only; the code is always `ERR_NOT_CONFIGURED`
   */
  constructor(message: string, options: Pick<CredentialsErrorOptions, 'cause'> = {}) {
    super(message, { code: 'ERR_NOT_CONFIGURED', tryNextLink: true, cause: options.cause })
    Object.defineProperty(this, BRAND, { value: true })
  }

  /**
   * `instanceof` that survives two copies of this package in one process. Overrides the base
   * class's check, which would accept every `CredentialsError`.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }
}
