import type { Env } from '@podcreds/core'
import { CredentialsError, readEnv } from '@podcreds/core'
import { CredentialUnavailableError } from '../CredentialUnavailableError.js'

/** The public-cloud authority, as `@azure/identity` defaults to it. */
export const PUBLIC_CLOUD_AUTHORITY = 'https://login.microsoftonline.com/'

/** What the options say; each field beats its environment variable. */
export interface ConfigOptions {
  tenantId?: string | undefined
  clientId?: string | undefined
  tokenFilePath?: string | undefined
  authorityHost?: string | undefined
  env?: Env | undefined
}

/** The configuration of one token request. */
export interface Config {
  tenantId: string
  clientId: string
  tokenFilePath: string
  /** The authority with a trailing slash. */
  authority: URL
  /** `POST` target: `{authority}{tenant}/oauth2/v2.0/token`. */
  tokenUrl: URL
  sources: { tenantId: string; clientId: string; tokenFilePath: string; authorityHost: string }
}

// Entra tenant ids are GUIDs or verified domain names (contoso.onmicrosoft.com); @azure/identity
// checks the same character set (its `checkTenantId`). Anything else would change the URL path.
const TENANT_ID = /^[0-9A-Za-z.-]{1,256}$/
// Application (client) ids are GUIDs; app id URIs are not accepted by the token endpoint either.
// This keeps control characters and whitespace out of the form body and our messages.
const CLIENT_ID = /^[\w.:/-]{1,256}$/
// Same loopback rule as @podcreds/container, after WHATWG normalization.
const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/

export function isTenantId(value: string): boolean {
  return TENANT_ID.test(value)
}

export function isClientId(value: string): boolean {
  return CLIENT_ID.test(value)
}

/**
 * Parses and checks an authority host: `https:` anywhere, `http:` only on loopback (tests and the
 * emulator; issue #12). No user info, query or fragment. Returns it with a trailing slash, so
 * `new URL('<tenant>/oauth2/v2.0/token', authority)` keeps a sovereign cloud's path prefix.
 * Returns a reason string instead when it is not acceptable.
 */
export function parseAuthority(value: string): URL | string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return 'is not an absolute URL'
  }
  if (url.username !== '' || url.password !== '') return 'must not contain user info (user:password@)'
  if (url.search !== '' || url.hash !== '') return 'must not have a query or fragment'
  if (url.protocol === 'http:') {
    if (!(LOOPBACK_V4.test(url.hostname) || url.hostname === '[::1]' || url.hostname === 'localhost')) {
      return 'must use https: (plain http: only on loopback: 127.0.0.0/8, [::1], localhost)'
    }
  } else if (url.protocol !== 'https:') {
    return `must use https:, got ${url.protocol}`
  }
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`
  return url
}

/**
 * Reads the configuration of one call: options first, then `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
 * `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_AUTHORITY_HOST` from `options.env ?? process.env` (per
 * call, never at import time). Missing settings → CredentialUnavailableError naming each one.
 * A malformed value from the environment → ERR_INVALID_CONFIG (options were checked by the factory).
 */
export function resolveConfig(options: ConfigOptions): Config {
  const env = options.env ?? process.env
  const tenantId = options.tenantId ?? readEnv(env, 'AZURE_TENANT_ID')
  const clientId = options.clientId ?? readEnv(env, 'AZURE_CLIENT_ID')
  const tokenFilePath = options.tokenFilePath ?? readEnv(env, 'AZURE_FEDERATED_TOKEN_FILE')
  if (tenantId === undefined || clientId === undefined || tokenFilePath === undefined) {
    const missing: string[] = []
    if (tenantId === undefined) missing.push('tenant id (tenantId option or AZURE_TENANT_ID)')
    if (clientId === undefined) missing.push('client id (clientId option or AZURE_CLIENT_ID)')
    if (tokenFilePath === undefined)
      missing.push('federated token file (tokenFilePath option or AZURE_FEDERATED_TOKEN_FILE)')
    throw new CredentialUnavailableError(
      `Workload ID is not configured: no ${missing.join(', no ')}. On AKS, the workload identity ` +
        'webhook sets these for pods labelled azure.workload.identity/use: "true"',
    )
  }
  if (options.tenantId === undefined && !isTenantId(tenantId)) {
    throw new CredentialsError(
      'AZURE_TENANT_ID must be a tenant GUID or domain name (letters, digits, "-" and "." only)',
      { code: 'ERR_INVALID_CONFIG' },
    )
  }
  if (options.clientId === undefined && !isClientId(clientId)) {
    throw new CredentialsError('AZURE_CLIENT_ID must be an application (client) id such as a GUID', {
      code: 'ERR_INVALID_CONFIG',
    })
  }
  const authorityText =
    options.authorityHost ?? readEnv(env, 'AZURE_AUTHORITY_HOST') ?? PUBLIC_CLOUD_AUTHORITY
  const authority = parseAuthority(authorityText)
  if (typeof authority === 'string') {
    // Not echoed whole: a URL may carry a password.
    throw new CredentialsError(`AZURE_AUTHORITY_HOST ${authority}`, { code: 'ERR_INVALID_CONFIG' })
  }
  return {
    tenantId,
    clientId,
    tokenFilePath,
    authority,
    tokenUrl: new URL(`${encodeURIComponent(tenantId)}/oauth2/v2.0/token`, authority),
    sources: {
      tenantId: options.tenantId === undefined ? 'AZURE_TENANT_ID' : 'tenantId option',
      clientId: options.clientId === undefined ? 'AZURE_CLIENT_ID' : 'clientId option',
      tokenFilePath:
        options.tokenFilePath === undefined ? 'AZURE_FEDERATED_TOKEN_FILE' : 'tokenFilePath option',
      authorityHost:
        options.authorityHost !== undefined
          ? 'authorityHost option'
          : readEnv(env, 'AZURE_AUTHORITY_HOST') !== undefined
            ? 'AZURE_AUTHORITY_HOST'
            : 'default (public cloud)',
    },
  }
}
