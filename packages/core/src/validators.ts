import type { Clock, Random } from './Clock.js'
import type { Env } from './Env.js'
import type { Logger } from './Logger.js'

/**
 * Option validators shared by every podcreds factory. Each throws a `TypeError` that names the
 * option; options are checked when a factory is called, never later.
 */

/** Options of {@link validateMilliseconds}. */
export interface DurationRule {
  /** Smallest accepted value. @defaultValue 0 */
  min?: number
  /** Largest accepted value. @defaultValue Number.MAX_SAFE_INTEGER */
  max?: number
}

/**
 * Checks a duration in milliseconds: a finite number in `[min, max]`. `undefined` passes (the
 * option was not given).
 *
 * @example
 * ```ts
 * validateMilliseconds('timeoutMs', options.timeoutMs, { min: 1 })
 * ```
 */
export function validateMilliseconds(name: string, value: unknown, rule: DurationRule = {}): void {
  if (value === undefined) return
  const min = rule.min ?? 0
  const max = rule.max ?? Number.MAX_SAFE_INTEGER
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new TypeError(
      `${name} must be a finite number of milliseconds in [${min}, ${max}], got ${describe(value)}`,
    )
  }
}

/**
 * Checks an integer in `[min, max]`. `undefined` passes.
 *
 * @example
 * ```ts
 * validateInteger('maxAttempts', options.maxAttempts, 1, 10)
 * ```
 */
export function validateInteger(name: string, value: unknown, min: number, max: number): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer in [${min}, ${max}], got ${describe(value)}`)
  }
}

/**
 * Checks a non-empty string. `undefined` passes. The value is not echoed: it may be a secret.
 *
 * @example
 * ```ts
 * validateString('roleArn', options.roleArn)
 * ```
 */
export function validateString(name: string, value: unknown): void {
  if (value === undefined) return
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(
      `${name} must be a non-empty string, got ${typeof value === 'string' ? 'an empty string' : typeof value}`,
    )
  }
}

/**
 * Checks a {@link Clock}: `now`, `setTimeout` and `clearTimeout` functions. `undefined` passes.
 *
 * @example
 * ```ts
 * validateClock('clock', options.clock)
 * ```
 */
export function validateClock(name: string, value: unknown): asserts value is Clock | undefined {
  if (value === undefined) return
  const clock = value as Partial<Record<keyof Clock, unknown>>
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw new TypeError(`${name} must be a Clock: { now(), setTimeout(fn, ms), clearTimeout(handle) }`)
  }
}

/**
 * Checks a {@link Random}: a function. `undefined` passes.
 *
 * @example
 * ```ts
 * validateRandom('random', options.random)
 * ```
 */
export function validateRandom(name: string, value: unknown): asserts value is Random | undefined {
  if (value === undefined) return
  if (typeof value !== 'function')
    throw new TypeError(`${name} must be a function returning a number in [0, 1)`)
}

/**
 * Checks a {@link Logger}: an object whose present members are functions. `undefined` passes.
 *
 * @example
 * ```ts
 * validateLogger('logger', options.logger)
 * ```
 */
export function validateLogger(name: string, value: unknown): asserts value is Logger | undefined {
  if (value === undefined) return
  if (typeof value !== 'object' || value === null) throw new TypeError(`${name} must be an object`)
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    const fn = (value as Record<string, unknown>)[level]
    if (fn !== undefined && typeof fn !== 'function')
      throw new TypeError(`${name}.${level} must be a function`)
  }
}

/**
 * Checks an `AbortSignal`. `undefined` passes.
 *
 * @example
 * ```ts
 * validateSignal('signal', options.signal)
 * ```
 */
export function validateSignal(name: string, value: unknown): asserts value is AbortSignal | undefined {
  if (value === undefined) return
  if (!(value instanceof AbortSignal)) throw new TypeError(`${name} must be an AbortSignal`)
}

/**
 * Checks an `env` option: an object of environment variables (a record of strings, as
 * `process.env`). `undefined` passes (the factory reads `process.env` per call). The values are not
 * checked or echoed: they may hold secrets, and an unset variable may be `undefined`.
 *
 * @example
 * ```ts
 * validateEnv('env', options.env)
 * ```
 */
export function validateEnv(name: string, value: unknown): asserts value is Env | undefined {
  if (value === undefined) return
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${name} must be an object of environment variables, got ${describe(value)}`)
  }
}

/**
 * Checks an injected function such as a `transport` or `readFile` option. `undefined` passes.
 *
 * @param name - the option's name, for the message
 * @param value - the option's value
 * @param signature - how the function is called, e.g. `(path) => Promise<Uint8Array>`, appended
 *   to the message
 * @example
 * ```ts
 * validateFunction('readFile', options.readFile, '(path) => Promise<Uint8Array>')
 * ```
 */
export function validateFunction(name: string, value: unknown, signature?: string): void {
  if (value === undefined) return
  if (typeof value !== 'function') {
    throw new TypeError(
      `${name} must be a function${signature === undefined ? '' : ` ${signature}`}, got ${describe(value)}`,
    )
  }
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') return 'a string'
  return value === null ? 'null' : typeof value
}
