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
  debug?(message: string, fields?: Record<string, unknown>): void
  info?(message: string, fields?: Record<string, unknown>): void
  warn?(message: string, fields?: Record<string, unknown>): void
  error?(message: string, fields?: Record<string, unknown>): void
}
