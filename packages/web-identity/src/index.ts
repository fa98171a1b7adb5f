export type { FromWebIdentityOptions, PolicyDescriptor } from './fromWebIdentity.js'
export {
  DEFAULT_STS_CONNECT_TIMEOUT_MS,
  DEFAULT_STS_MAX_ATTEMPTS,
  DEFAULT_STS_TIMEOUT_MS,
  fromWebIdentity,
} from './fromWebIdentity.js'
export type { ResolveStsEndpointInput, StsEndpoint } from './resolveStsEndpoint.js'
export { DEFAULT_STS_REGION, resolveStsEndpoint } from './resolveStsEndpoint.js'
