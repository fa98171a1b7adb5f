import type { Env } from '@podcreds/core'
import { readEnv } from '@podcreds/core'

/** IRSA is (at least half) set up: a role ARN or a web identity token file. */
export function irsaConfigured(env: Env): boolean {
  return (
    readEnv(env, 'AWS_ROLE_ARN') !== undefined || readEnv(env, 'AWS_WEB_IDENTITY_TOKEN_FILE') !== undefined
  )
}

/** EKS Pod Identity (or ECS) is set up: a container credentials URI. */
export function podIdentityConfigured(env: Env): boolean {
  return (
    readEnv(env, 'AWS_CONTAINER_CREDENTIALS_FULL_URI') !== undefined ||
    readEnv(env, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI') !== undefined
  )
}
