import type { Clock, Env, HttpTransport, Logger, Milliseconds, Random } from '@podcreds/core'
import {
  httpRequest,
  systemClock,
  systemRandom,
  validateClock,
  validateEnv,
  validateFunction,
  validateInteger,
  validateLogger,
  validateMilliseconds,
  validateRandom,
  validateSignal,
} from '@podcreds/core'
import type { InstanceMetadataOptions } from '../fromInstanceMetadata.js'
import { DEFAULT_IMDS_TIMEOUT_MS, DEFAULT_IMDS_TOKEN_TTL_SECONDS } from '../fromInstanceMetadata.js'
import type { ImdsCall } from './imdsClient.js'
import type { EndpointMode, ImdsEndpointOptions } from './imdsEndpoint.js'
import { imdsDisabled, parseEndpoint, resolveImdsEndpoint } from './imdsEndpoint.js'

/** The resolved limits and seams shared by the provider and the probe. */
export interface ResolvedImdsOptions {
  endpoint: ImdsEndpointOptions
  env: Env | undefined
  timeoutMs: Milliseconds
  connectTimeoutMs: Milliseconds
  maxAttempts: number
  tokenTtlSeconds: number
  clock: Clock
  random: Random
  logger: Logger | undefined
  signal: AbortSignal | undefined
  transport: HttpTransport
}

/** Validates and defaults the options (one data path, STYLE 17).*/
export function resolveImdsOptions(
  options: InstanceMetadataOptions,
  defaults: { maxAttempts: number },
): ResolvedImdsOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  if (options.endpoint !== undefined) {
    if (typeof options.endpoint !== 'string')
      throw new TypeError('endpoint must be an absolute http: or https: URL')
    try {
      parseEndpoint(options.endpoint, 'endpoint')
    } catch (error) {
      throw new TypeError((error as Error).message.replace(/^instance metadata: /, ''), { cause: error })
    }
  }
  const mode = options.endpointMode
  if (mode !== undefined && mode !== 'IPv4' && mode !== 'IPv6') {
    throw new TypeError("endpointMode must be 'IPv4' or 'IPv6'")
  }
  validateEnv('env', options.env)
  validateMilliseconds('timeoutMs', options.timeoutMs, { min: 1 })
  validateMilliseconds('connectTimeoutMs', options.connectTimeoutMs, { min: 1 })
  validateInteger('maxAttempts', options.maxAttempts, 1, 10)
  validateInteger('tokenTtlSeconds', options.tokenTtlSeconds, 1, 21_600)
  validateClock('clock', options.clock)
  validateRandom('random', options.random)
  validateLogger('logger', options.logger)
  validateSignal('signal', options.signal)
  validateFunction('transport', options.transport, '(request, options) => Promise<HttpResponse>')
  return {
    endpoint: { endpoint: options.endpoint, endpointMode: mode as EndpointMode | undefined },
    env: options.env,
    timeoutMs: options.timeoutMs ?? DEFAULT_IMDS_TIMEOUT_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_IMDS_TIMEOUT_MS,
    maxAttempts: options.maxAttempts ?? defaults.maxAttempts,
    tokenTtlSeconds: options.tokenTtlSeconds ?? DEFAULT_IMDS_TOKEN_TTL_SECONDS,
    clock: options.clock ?? systemClock,
    random: options.random ?? systemRandom,
    logger: options.logger,
    signal: options.signal,
    transport: options.transport ?? httpRequest,
  }
}

/** The call record for this moment's environment; `undefined` when IMDS is disabled.*/
export function imdsCallFor(resolved: ResolvedImdsOptions): ImdsCall | undefined {
  const env = resolved.env ?? process.env
  if (imdsDisabled(env)) return undefined
  return {
    endpoint: resolveImdsEndpoint(resolved.endpoint, env),
    transport: resolved.transport,
    timeoutMs: resolved.timeoutMs,
    connectTimeoutMs: resolved.connectTimeoutMs,
    maxAttempts: resolved.maxAttempts,
    clock: resolved.clock,
    random: resolved.random,
    signal: resolved.signal,
  }
}
