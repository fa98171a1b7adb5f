import type { Env } from '@podcreds/core'
import { CredentialsError, readEnv } from '@podcreds/core'

export const ENV_IMDS_DISABLED = 'AWS_EC2_METADATA_DISABLED'
export const ENV_IMDS_ENDPOINT = 'AWS_EC2_METADATA_SERVICE_ENDPOINT'
export const ENV_IMDS_ENDPOINT_MODE = 'AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE'

/** The two IMDS addresses (@smithy/credential-provider-imds `Endpoint`): IPv4 and, on Nitro, IPv6. */
export const IMDS_ENDPOINTS = { IPv4: 'http://169.254.169.254', IPv6: 'http://[fd00:ec2::254]' } as const
export type EndpointMode = keyof typeof IMDS_ENDPOINTS

/** The options that pick the endpoint. */
export interface ImdsEndpointOptions {
  endpoint?: string | undefined
  endpointMode?: EndpointMode | undefined
}

/** Where IMDS is, and where that came from (for messages and `describe()`). */
export interface ImdsEndpoint {
  url: URL
  origin: string
}

/**
 * Whether IMDS is switched off, read as the AWS SDK for JS reads it
 * (credential-provider-node `remoteProvider`): set, non-empty and not exactly `false`.
 */
export function imdsDisabled(env: Env): boolean {
  const value = env[ENV_IMDS_DISABLED]
  return value !== undefined && value !== '' && value !== 'false'
}

/**
 * The endpoint: `endpoint` option → `AWS_EC2_METADATA_SERVICE_ENDPOINT` → the address of the
 * mode (`endpointMode` option → `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE` → `IPv4`), as the AWS
 * SDK resolves it (`getInstanceMetadataEndpoint`; the shared config file's
 * `ec2_metadata_service_endpoint[_mode]` keys are not read). Throws `ERR_INVALID_CONFIG`.
 */
export function resolveImdsEndpoint(options: ImdsEndpointOptions, env: Env): ImdsEndpoint {
  if (options.endpoint !== undefined)
    return { url: parseEndpoint(options.endpoint, 'option endpoint'), origin: 'option endpoint' }
  const fromEnv = readEnv(env, ENV_IMDS_ENDPOINT)
  if (fromEnv !== undefined)
    return { url: parseEndpoint(fromEnv, ENV_IMDS_ENDPOINT), origin: ENV_IMDS_ENDPOINT }
  if (options.endpointMode !== undefined) {
    return {
      url: new URL(IMDS_ENDPOINTS[options.endpointMode]),
      origin: `option endpointMode ${options.endpointMode}`,
    }
  }
  const mode = readEnv(env, ENV_IMDS_ENDPOINT_MODE)
  if (mode === undefined) return { url: new URL(IMDS_ENDPOINTS.IPv4), origin: 'default (IPv4)' }
  // Exact names, as the AWS SDK for JS compares them (it throws "Unsupported endpoint mode").
  if (mode !== 'IPv4' && mode !== 'IPv6') {
    throw new CredentialsError(`instance metadata: ${ENV_IMDS_ENDPOINT_MODE} must be IPv4 or IPv6`, {
      code: 'ERR_INVALID_CONFIG',
    })
  }
  return { url: new URL(IMDS_ENDPOINTS[mode]), origin: `${ENV_IMDS_ENDPOINT_MODE}=${mode}` }
}

/** An absolute `http:`/`https:` URL without user info; the value is not echoed (it may hold a password). */
export function parseEndpoint(text: string, origin: string): URL {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new CredentialsError(`instance metadata: ${origin} is not an absolute URL`, {
      code: 'ERR_INVALID_CONFIG',
    })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CredentialsError(`instance metadata: ${origin} must be an http: or https: URL`, {
      code: 'ERR_INVALID_CONFIG',
    })
  }
  if (url.username !== '' || url.password !== '') {
    throw new CredentialsError(`instance metadata: ${origin} must not contain user info`, {
      code: 'ERR_INVALID_CONFIG',
    })
  }
  return url
}
