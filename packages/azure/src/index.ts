export { CredentialUnavailableError } from './CredentialUnavailableError.js'
export type {
  WorkloadIdentityCredential,
  WorkloadIdentityCredentialOptions,
  WorkloadIdentityRefreshOptions,
} from './workloadIdentityCredential.js'
export {
  AZURE_TOKEN_EXCHANGE_AUDIENCE,
  DEFAULT_AUTHORITY_HOST,
  DEFAULT_ENTRA_MAX_ATTEMPTS,
  DEFAULT_ENTRA_TIMEOUT_MS,
  workloadIdentityCredential,
} from './workloadIdentityCredential.js'
