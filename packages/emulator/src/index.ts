export type { Emulator, EmulatorStats, MintTokenOptions, TokenKind } from './Emulator.js'
export type {
  EmulatorAssociation,
  EmulatorOptions,
  EmulatorRole,
  TrustPolicyContext,
} from './EmulatorOptions.js'
export type { EmulatorFaults, FaultSettings, FaultSpec } from './Faults.js'
export type { GenerateTrustPolicyOptions } from './generateTrustPolicy.js'
export { ACCOUNT_ID_PLACEHOLDER, generateTrustPolicy } from './generateTrustPolicy.js'
export type {
  LintTrustPolicyOptions,
  TrustPolicyFinding,
  TrustPolicyFindingCode,
} from './lintTrustPolicy.js'
export { lintTrustPolicy } from './lintTrustPolicy.js'
export {
  DEFAULT_ACCOUNT_ID,
  DEFAULT_CREDENTIAL_LIFETIME_MS,
  DEFAULT_TOKEN_LIFETIME_MS,
  startEmulator,
} from './startEmulator.js'
export type {
  EntraEndpoint,
  EntraEndpointOptions,
  EntraFaults,
  EntraFederatedCredential,
  EntraIssuedToken,
  EntraJsonWebKeySet,
  EntraTokenRequest,
} from './startEntraEndpoint.js'
export {
  DEFAULT_ENTRA_TOKEN_LIFETIME_MS,
  ENTRA_TOKEN_EXCHANGE_AUDIENCE,
  startEntraEndpoint,
} from './startEntraEndpoint.js'
export type { TrustPolicy, TrustPolicyStatement } from './TrustPolicy.js'
