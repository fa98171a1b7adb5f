/**
 * An environment: `process.env` or a plain record standing in for it. podcreds reads it per call,
 * never at import time.
 */
export type Env = Readonly<Record<string, string | undefined>>

/**
 * Reads `name` from `env`, treating an empty or whitespace-only value as unset (as the AWS SDKs
 * do). The value is returned trimmed.
 *
 * @example
 * ```ts
 * const region = readEnv(process.env, 'AWS_REGION')
 * ```
 */
export function readEnv(env: Env, name: string): string | undefined {
  const value = env[name]
  if (value === undefined) return undefined
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}
