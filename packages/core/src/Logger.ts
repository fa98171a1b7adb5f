/**
 * An optional structured logger. Any of the methods may be absent. podcreds is silent unless a
 * logger is passed, and never passes a secret in `message` or `fields`.
 *
 * @example
 * ```ts
 * const logger: Logger = { warn: (message, fields) => console.warn(message, fields) }
 * ```
 */
export interface Logger {
  /**
   * Detail for troubleshooting: each request, each refresh decision.
   * @param message - one human sentence, never a secret
   * @param fields - structured context (ids shortened, no secrets)
   */
  debug?(message: string, fields?: Record<string, unknown>): void
  /**
   * Notable events: credentials refreshed, a source chosen.
   * @param message - one human sentence, never a secret
   * @param fields - structured context (ids shortened, no secrets)
   */
  info?(message: string, fields?: Record<string, unknown>): void
  /**
   * Something is off but still served: a failed background refresh, a default region used.
   * @param message - one human sentence, never a secret
   * @param fields - structured context (ids shortened, no secrets)
   */
  warn?(message: string, fields?: Record<string, unknown>): void
  /**
   * A failure the caller will see.
   * @param message - one human sentence, never a secret
   * @param fields - structured context (ids shortened, no secrets)
   */
  error?(message: string, fields?: Record<string, unknown>): void
}
