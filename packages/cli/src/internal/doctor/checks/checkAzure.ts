import type { Check } from '../Check.js'
import type { Finding } from '../Finding.js'

const EGRESS_FIX =
  'check egress to AZURE_AUTHORITY_HOST (login.microsoftonline.com), proxies and network policies'

/** Entra Workload ID on AKS (issue #12): set up whole, its token file sound, a token to be had. */
export const checkAzure: Check = {
  name: 'azure',
  run({ azure }) {
    if (azure === undefined) return []
    const finding = (severity: Finding['severity'], message: string, fix?: string): Finding =>
      fix === undefined ? { check: 'azure', severity, message } : { check: 'azure', severity, message, fix }
    if (azure.unreadable === true) {
      return [
        finding(
          'error',
          `Azure workload identity: ${azure.reason}`,
          'check the azure-identity-token projected volume',
        ),
      ]
    }
    if (!azure.configured) {
      return [
        finding(
          'error',
          `Azure workload identity is half set up: ${azure.missing.join(', ')} missing`,
          'label the pod azure.workload.identity/use: "true" and annotate its service account with azure.workload.identity/client-id, so the webhook injects all of AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE',
        ),
      ]
    }
    if (azure.timedOutAfterMs !== undefined) {
      return [
        finding(
          'error',
          `Azure workload identity: the Entra token endpoint gave no answer within ${azure.timedOutAfterMs / 1000} s`,
          EGRESS_FIX,
        ),
      ]
    }
    // One cause, one fix (issue 21), chosen by the error's code and status, never by its text: an
    // endpoint that hangs or resets is the network's; a 429 or 5xx is Entra's (or a proxy's) side;
    // only Entra's refusal of the assertion is about the federated identity credential.
    if (azure.errorCode === 'ERR_HTTP_TIMEOUT' || azure.errorCode === 'ERR_NETWORK') {
      return [
        finding(
          'error',
          `Azure workload identity: the Entra token endpoint did not answer: ${azure.error}`,
          EGRESS_FIX,
        ),
      ]
    }
    if (azure.status !== undefined && (azure.status === 429 || azure.status >= 500)) {
      return [
        finding(
          'error',
          `Azure workload identity: the Entra token endpoint could not issue a token now (HTTP ${azure.status}): ${azure.error}`,
          `a transient failure on Entra's side (or of a proxy on the way): the credential retries ${azure.status === 429 ? '429' : '5xx'} answers with back-off, so run doctor again in a minute; if it persists, check the Azure status page and any proxy between the pod and AZURE_AUTHORITY_HOST`,
        ),
      ]
    }
    if (azure.error !== undefined) {
      return [
        finding(
          'error',
          `Azure workload identity cannot get a token: ${azure.error}`,
          "check the federated identity credential of the app registration / managed identity: its issuer must be the cluster's OIDC issuer URL and its subject system:serviceaccount:<namespace>:<name>",
        ),
      ]
    }
    const refresh =
      azure.token?.refreshAfter === undefined ? '' : `, refresh after ${azure.token.refreshAfter}`
    return [
      finding('ok', `Azure workload identity: an Entra token, expires ${azure.token?.expiresAt}${refresh}`),
    ]
  },
}
