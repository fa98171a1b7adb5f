import type { Env } from '@podcreds/core'
import { CredentialsError, readEnv } from '@podcreds/core'
import { isRegion } from './validate.js'

/** A region read from the environment. */
export interface EnvRegion {
  /** The region code. */
  region: string
  /** The variable it came from. */
  name: string
}

/**
 * The region from `AWS_REGION`, then `AWS_DEFAULT_REGION`; a malformed one is ERR_INVALID_CONFIG.
 */
export function envRegion(env: Env): EnvRegion | undefined {
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION']) {
    const value = readEnv(env, name)
    if (value === undefined) continue
    if (!isRegion(value)) {
      throw new CredentialsError(`${name} must be a region code such as us-east-1, got ${quote(value)}`, {
        code: 'ERR_INVALID_CONFIG',
      })
    }
    return { region: value, name }
  }
  return undefined
}

// The AWS SDKs accept exactly "true" and "false" (any case) and reject anything else.
export function readBoolean(env: Env, name: string): boolean | undefined {
  const value = readEnv(env, name)?.toLowerCase()
  if (value === undefined) return undefined
  if (value === 'true') return true
  if (value === 'false') return false
  throw new CredentialsError(`${name} must be "true" or "false", got ${quote(value)}`, {
    code: 'ERR_INVALID_CONFIG',
  })
}

/**
 * A configuration value, quoted and capped: not a secret, but it may be long or odd.
 */
export function quote(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value)
}
