import type { Env } from '@podcreds/core'
import { isCredentialsError, readEnv } from '@podcreds/core'
import type { AzureFact } from './DoctorFacts.js'
import { PROBE_BUDGET_MS, PROBE_TIMEOUT_MS } from './probeBudget.js'
import { readRegularFile } from './readRegularFile.js'
import { withDeadline } from './withDeadline.js'

/** The variables the azure-workload-identity webhook injects (issue #12). */
export const AZURE_VARS = ['AZURE_FEDERATED_TOKEN_FILE', 'AZURE_CLIENT_ID', 'AZURE_TENANT_ID'] as const
// The scope doctor asks a token for: Azure Resource Manager, which every workload identity may request.
const AZURE_PROBE_SCOPE = 'https://management.azure.com/.default'

/**
 * Entra Workload ID on AKS, detected from the variables its webhook injects: its configuration
 * and one token request (one attempt, bounded). `undefined` when none of the variables is set.
 */
export async function gatherAzure(env: Env): Promise<AzureFact | undefined> {
  if (!AZURE_VARS.some((name) => readEnv(env, name) !== undefined)) return undefined
  const missing = AZURE_VARS.filter((name) => readEnv(env, name) === undefined)
  const { workloadIdentityCredential } = await import('@podcreds/azure')
  const credential = workloadIdentityCredential({
    env,
    timeoutMs: PROBE_TIMEOUT_MS,
    maxAttempts: 1,
    readFile: readRegularFile,
  })
  try {
    let description: Awaited<ReturnType<typeof credential.describe>>
    try {
      description = await credential.describe()
    } catch (error) {
      const message = isCredentialsError(error) ? error.message : 'cannot read the configuration'
      return { configured: true, reason: message, details: {}, missing, error: message, unreadable: true }
    }
    const fact: AzureFact = {
      configured: description.configured,
      reason: description.reason,
      details: description.details,
      missing,
    }
    if (!description.configured) return fact
    try {
      const answer = await withDeadline(credential.getToken(AZURE_PROBE_SCOPE), PROBE_BUDGET_MS)
      if (!answer.done) {
        fact.timedOutAfterMs = PROBE_BUDGET_MS
        return fact
      }
      fact.token = { expiresAt: new Date(answer.value.expiresOnTimestamp).toISOString() }
      if (answer.value.refreshAfterTimestamp !== undefined) {
        fact.token.refreshAfter = new Date(answer.value.refreshAfterTimestamp).toISOString()
      }
    } catch (error) {
      fact.error = isCredentialsError(error) ? `${error.message} [${error.code}]` : 'token request failed'
      if (isCredentialsError(error)) {
        fact.errorCode = error.code
        if (error.status !== undefined) fact.status = error.status
      }
    }
    return fact
  } finally {
    credential.close()
  }
}
