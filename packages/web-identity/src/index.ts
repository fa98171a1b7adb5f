// STS moved to @podcreds/sts (issue 19); these stay here for the code and docs that name them.
export type { ResolveStsEndpointInput, StsEndpoint } from '@podcreds/sts'
export {
  DEFAULT_STS_CONNECT_TIMEOUT_MS,
  DEFAULT_STS_MAX_ATTEMPTS,
  DEFAULT_STS_REGION,
  DEFAULT_STS_TIMEOUT_MS,
  resolveStsEndpoint,
} from '@podcreds/sts'
export type { FromWebIdentityOptions, PolicyDescriptor } from './fromWebIdentity.js'
export { fromWebIdentity } from './fromWebIdentity.js'
