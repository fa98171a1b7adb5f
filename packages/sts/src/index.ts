export type {
  AssumeRoleSource,
  FromAssumeRoleOptions,
  SessionTag,
} from './fromAssumeRole.js'
export { fromAssumeRole, ROLE_CHAINING_MAX_DURATION_SECONDS } from './fromAssumeRole.js'
// The building blocks of podcreds' STS clients (@podcreds/web-identity uses them): the form,
// the answer, the transport and the value formats, each the one place they are defined.
export { callerRegionOf, generateSessionName } from './internal/caller.js'
export type { EnvRegion } from './internal/config.js'
export { envRegion, quote } from './internal/config.js'
export type { RetryStsCallOptions } from './internal/retryStsCall.js'
export { retryStsCall } from './internal/retryStsCall.js'
export type { AssumeRoleParams, StsAction, StsPolicyDescriptor } from './internal/sts.js'
export { formBody, isInvalidIdentityToken, readStsResponse } from './internal/sts.js'
export type { StsTransportOptions, UndiciDispatcher } from './internal/transport.js'
export { describeStsProxy, stsTransport } from './internal/transport.js'
export { isPolicyArn, isRegion, isRoleArn, isSessionName, parseEndpoint } from './internal/validate.js'
export type { ResolveStsEndpointInput, StsEndpoint } from './resolveStsEndpoint.js'
export { DEFAULT_STS_REGION, resolveStsEndpoint } from './resolveStsEndpoint.js'
export {
  DEFAULT_STS_CONNECT_TIMEOUT_MS,
  DEFAULT_STS_MAX_ATTEMPTS,
  DEFAULT_STS_TIMEOUT_MS,
} from './stsDefaults.js'
