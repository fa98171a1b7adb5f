import { createRequire } from 'node:module'
import { isCredentialsError, readEnv, redactKeyId, scrub } from '@podcreds/core'
import { inspectToken, readToken } from '@podcreds/token'
import type { TokenPurpose } from '../tokenReport.js'
import type { ChainFact, DoctorFacts, DoctorOptions, TokenFact } from './DoctorFacts.js'
import { gatherAzure } from './gatherAzure.js'
import { PROBE_BUDGET_MS } from './probeBudget.js'
import { readPod } from './readPod.js'
import { readProfile } from './readProfile.js'
import { readRegularFile } from './readRegularFile.js'
import { withDeadline } from './withDeadline.js'

// Variables worth showing. Secret ones are shown as set/unset only.
const SHOWN_VARS = [
  'KUBERNETES_SERVICE_HOST',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_STS_REGIONAL_ENDPOINTS',
  'AWS_ENDPOINT_URL_STS',
  'AWS_ENDPOINT_URL',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_EC2_METADATA_SERVICE_ENDPOINT',
  'PODCREDS_INSTANCE_METADATA',
  'AZURE_CLIENT_ID',
  'AZURE_TENANT_ID',
  'AZURE_AUTHORITY_HOST',
  'AZURE_FEDERATED_TOKEN_FILE',
] as const
const SECRET_VARS = [
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CONTAINER_AUTHORIZATION_TOKEN',
] as const

/** The token files doctor reads, in the order the chain uses them. */
export const TOKEN_VARIABLES: readonly (readonly [string, TokenPurpose])[] = [
  ['AWS_WEB_IDENTITY_TOKEN_FILE', 'irsa'],
  ['AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', 'pod-identity'],
  ['AZURE_FEDERATED_TOKEN_FILE', 'aks'],
]

/**
 * Learns what doctor's checks look at, each step bounded in time: the environment, the token
 * files (read once), the pod, the selected profile, and one walk of the default chain — the only
 * resolve doctor makes (issue #21), with a single attempt per endpoint (issue #17 part 3).
 */
export async function gatherFacts(options: DoctorOptions): Promise<DoctorFacts> {
  const { env, now } = options
  const tokens: TokenFact[] = []
  for (const [variable, purpose] of TOKEN_VARIABLES) {
    const file = readEnv(env, variable)
    if (file === undefined) continue
    tokens.push(await readTokenFact(variable, purpose, file, now))
  }
  const pod = await readPod(env, options.serviceAccountDir, tokens, now)
  const profileName = readEnv(env, 'AWS_PROFILE')
  const profile = profileName === undefined ? undefined : await readProfile(env, profileName)
  const chain = await walkChain(env)
  const azure = await gatherAzure(env)
  return {
    ...options,
    environment: environmentOf(env),
    tokens,
    pod,
    ...(profile === undefined ? {} : { profile }),
    sdkAvailable: sdkAvailable(),
    chain,
    ...(azure === undefined ? {} : { azure }),
  }
}

async function readTokenFact(
  variable: string,
  purpose: TokenPurpose,
  file: string,
  now: number,
): Promise<TokenFact> {
  try {
    return {
      purpose,
      variable,
      file,
      info: inspectToken(await readToken(file, { readFile: readRegularFile }), { now }),
    }
  } catch (error) {
    return {
      purpose,
      variable,
      file,
      error: isCredentialsError(error)
        ? { code: error.code, message: error.message }
        : { code: 'ERR_TOKEN_FILE', message: `cannot read ${file}` },
    }
  }
}

async function walkChain(env: DoctorOptions['env']): Promise<ChainFact> {
  const { explain } = await import('@podcreds/chain')
  // One attempt per endpoint, each with a short timeout: doctor reports what it meets, quickly,
  // on a node without an agent or without egress (issue #17 part 3; the chain's own defaults retry).
  // The deadline covers the rest (the AWS SDK fallback, a profile's credential_process).
  try {
    const walked = await withDeadline(
      explain({
        env,
        container: { maxAttempts: 1, timeoutMs: 2_000, connectTimeoutMs: 1_000, readFile: readRegularFile },
        webIdentity: { maxAttempts: 1, timeoutMs: 3_000, connectTimeoutMs: 1_000, readFile: readRegularFile },
      }),
      PROBE_BUDGET_MS,
    )
    return walked.done ? { explanation: walked.value } : { timedOutAfterMs: PROBE_BUDGET_MS }
  } catch (error) {
    return { error: scrub(error instanceof Error ? error.message : String(error), [], 300) }
  }
}

/**
 * Whether the AWS SDK fallback can load, decided the way the chain loads it: resolving
 * `@aws-sdk/credential-provider-node` from `@podcreds/chain`'s own folder (an optional peer).
 */
function sdkAvailable(): boolean {
  try {
    createRequire(import.meta.resolve('@podcreds/chain')).resolve('@aws-sdk/credential-provider-node')
    return true
  } catch {
    return false
  }
}

function environmentOf(env: DoctorOptions['env']): Record<string, string> {
  const environment: Record<string, string> = {}
  for (const name of SHOWN_VARS) {
    const value = readEnv(env, name)
    if (value !== undefined) environment[name] = scrub(withoutUserInfo(value), [], 512)
  }
  const keyId = readEnv(env, 'AWS_ACCESS_KEY_ID')
  if (keyId !== undefined) environment.AWS_ACCESS_KEY_ID = redactKeyId(keyId)
  for (const name of SECRET_VARS) {
    if (readEnv(env, name) !== undefined) environment[name] = '(set, hidden)'
  }
  return environment
}

// A URL variable (AWS_CONTAINER_CREDENTIALS_FULL_URI, AWS_ENDPOINT_URL_STS, …) may carry
// `user:password@`; doctor prints the rest of it and never the user info (DESIGN "Secrets never
// leave"). A regex rather than `new URL()`, so a URL too broken to parse is masked as well.
const USER_INFO = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i

/** `value` with any `user:password@` of a URL replaced by `***@`. */
export function withoutUserInfo(value: string): string {
  return value.replace(USER_INFO, '$1***@')
}
