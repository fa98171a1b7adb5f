export type { Clock, Milliseconds, Random, TimerHandle, TimerOptions } from './Clock.js'
export { systemClock, systemRandom } from './Clock.js'
export type {
  AwsCredentialIdentity,
  AwsCredentialIdentityProvider,
  IdentityProperties,
  TemporaryCredentials,
} from './Credentials.js'
export type { CredentialsErrorCode, CredentialsErrorOptions } from './CredentialsError.js'
export { CredentialsError, isCredentialsError } from './CredentialsError.js'
export type { Env } from './Env.js'
export { readEnv } from './Env.js'
export type { HttpRequest, HttpRequestOptions, HttpResponse, HttpTransport } from './httpRequest.js'
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_TIMEOUT_MS,
  describeUrl,
  httpRequest,
} from './httpRequest.js'
export type { Logger } from './Logger.js'
export { parseRfc3339 } from './parseRfc3339.js'
export { protectCredentials } from './protectCredentials.js'
export type { ProxyEnv } from './readProxyEnv.js'
export {
  describeProxy,
  nodeAgentsSupportProxyEnv,
  proxyRefusedError,
  readProxyEnv,
  validateProxyEnv,
} from './readProxyEnv.js'
export type { RedactedCredentials } from './redact.js'
export { REDACTED, redactCredentials, redactKeyId, scrub } from './redact.js'
export type { RetryOptions } from './retry.js'
export { DEFAULT_MAX_ATTEMPTS, retry, sleep } from './retry.js'
export type { DescribableProvider, SourceDescription } from './SourceDescription.js'
export type { DurationRule } from './validators.js'
export {
  validateClock,
  validateEnv,
  validateFunction,
  validateInteger,
  validateLogger,
  validateMilliseconds,
  validateRandom,
  validateSignal,
  validateString,
} from './validators.js'
