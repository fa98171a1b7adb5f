import type { Env } from '@podcreds/core'
import { CredentialsError, readEnv } from '@podcreds/core'
import type { ReadFile } from '@podcreds/token/read'
import { readToken } from '@podcreds/token/read'
import { checkEndpoint } from '../checkEndpoint.js'

/** The ECS/EKS environment variables, as the AWS SDKs name them. */
export const ENV_FULL_URI = 'AWS_CONTAINER_CREDENTIALS_FULL_URI'
export const ENV_RELATIVE_URI = 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI'
export const ENV_TOKEN_FILE = 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE'
export const ENV_TOKEN = 'AWS_CONTAINER_AUTHORIZATION_TOKEN'

/** Where a relative URI points: the ECS agent's link-local address. */
export const RELATIVE_URI_HOST = 'http://169.254.170.2'

/** The explicit options that name the endpoint and token (the rest are limits and seams). */
export interface SourceOptions {
  fullUri?: string | undefined
  relativeUri?: string | undefined
  authorizationToken?: string | undefined
  authorizationTokenFile?: string | undefined
}

/** Where the endpoint came from, for `describe()` and log lines. */
export interface Endpoint {
  url: URL
  /** `option fullUri`, `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, … */
  origin: string
}

/** Where the token comes from; the inline value is a secret and stays in here. */
export type TokenSource =
  | { kind: 'file'; path: string; origin: string }
  | { kind: 'inline'; value: string; origin: string }
  | { kind: 'none' }

/**
 * The endpoint, or `undefined` when neither URI is set. Explicit options beat the environment as
 * a group; within a group the relative URI wins over the full one, as in the AWS SDK.
 */
export function resolveEndpoint(options: SourceOptions, env: Env): Endpoint | undefined {
  if (options.relativeUri !== undefined) return relativeEndpoint(options.relativeUri, 'option relativeUri')
  if (options.fullUri !== undefined) return { url: checkEndpoint(options.fullUri), origin: 'option fullUri' }
  const rel = readEnv(env, ENV_RELATIVE_URI)
  if (rel !== undefined) return relativeEndpoint(rel, ENV_RELATIVE_URI)
  const full = readEnv(env, ENV_FULL_URI)
  if (full !== undefined) return { url: checkEndpoint(full), origin: ENV_FULL_URI }
  return undefined
}

/** `http://169.254.170.2` + `path`, checked. */
export function relativeEndpoint(path: string, origin: string): Endpoint {
  // Without the leading slash, `@evil.example/x` or `.evil.example` would turn the ECS address into
  // user info or a DNS label of another host.
  if (!path.startsWith('/')) {
    throw new CredentialsError(`${origin} must be a path starting with "/"`, {
      code: 'ERR_ENDPOINT_NOT_ALLOWED',
    })
  }
  return { url: checkEndpoint(`${RELATIVE_URI_HOST}${path}`), origin }
}

/** The token source: options beat the environment as a group; the file beats the inline token. */
export function resolveTokenSource(options: SourceOptions, env: Env): TokenSource {
  if (options.authorizationTokenFile !== undefined) {
    return { kind: 'file', path: options.authorizationTokenFile, origin: 'option authorizationTokenFile' }
  }
  if (options.authorizationToken !== undefined) {
    return { kind: 'inline', value: options.authorizationToken, origin: 'option authorizationToken' }
  }
  const file = readEnv(env, ENV_TOKEN_FILE)
  if (file !== undefined) return { kind: 'file', path: file, origin: ENV_TOKEN_FILE }
  const inline = readEnv(env, ENV_TOKEN)
  if (inline !== undefined) return { kind: 'inline', value: inline, origin: ENV_TOKEN }
  return { kind: 'none' }
}

/**
 * The token to send, read now (kubelet rotates the file: DESIGN "@podcreds/container"), or
 * `undefined` when none is configured. Rejects with `ERR_TOKEN_FILE` or `ERR_TOKEN_INVALID`.
 */
export async function loadToken(
  source: TokenSource,
  readFile: ReadFile | undefined,
): Promise<string | undefined> {
  if (source.kind === 'none') return undefined
  const token =
    source.kind === 'file'
      ? await readToken(source.path, readFile === undefined ? {} : { readFile })
      : source.value.trimEnd()
  checkHeaderValue(token, source.kind === 'file' ? `token file ${source.path}` : source.origin)
  return token
}

// A header value is visible ASCII, space or tab (RFC 9110 5.5, without obs-text). CR or LF would
// let the token inject headers; Node would throw on them mid-request with a less helpful error.
const HEADER_VALUE = /^[\t\x20-\x7e]*$/

/** Throws `ERR_TOKEN_INVALID` (never echoing the token) when it cannot be an HTTP header value. */
export function checkHeaderValue(token: string, where: string): void {
  if (token === '') throw new CredentialsError(`${where}: the token is empty`, { code: 'ERR_TOKEN_INVALID' })
  if (HEADER_VALUE.test(token)) return
  const what = /[\r\n]/.test(token) ? 'a CR or LF' : 'a control or non-ASCII character'
  throw new CredentialsError(`${where}: the token contains ${what}, which an HTTP header cannot carry`, {
    code: 'ERR_TOKEN_INVALID',
  })
}
