import type { Env } from '@podcreds/core'
import { readEnv } from '@podcreds/core'

/** The profile a caller selected, and where the selection came from. */
export interface SelectedProfile {
  name: string
  /** `option profile` or `AWS_PROFILE`. */
  origin: string
}

/**
 * `defaultChain({ profile })`, else `AWS_PROFILE` (read now), as the AWS SDK's
 * `fromNodeProviderChain({ profile })` / `process.env.AWS_PROFILE`; `undefined` when neither.
 */
export function selectedProfile(option: string | undefined, env: Env): SelectedProfile | undefined {
  if (option !== undefined) return { name: option, origin: 'option profile' }
  const name = readEnv(env, 'AWS_PROFILE')
  return name === undefined ? undefined : { name, origin: 'AWS_PROFILE' }
}
