import type {
  Clock,
  HttpResponse,
  HttpTransport,
  Milliseconds,
  Random,
  TemporaryCredentials,
} from '@podcreds/core'
import { CredentialsError, describeUrl, scrub } from '@podcreds/core'
import type { ImdsEndpoint } from './imdsEndpoint.js'
import { parseCredentials } from './parseCredentials.js'
import { retryWithin } from './retryWithin.js'

// IMDSv2 (EC2 docs; @smithy/credential-provider-imds `getMetadataToken`, `getProfile`,
// `getCredentialsFromProfile`): a session token from `PUT /latest/api/token` with its TTL in
// `x-aws-ec2-metadata-token-ttl-seconds` (the SDKs ask for 21600 s), then the role name and its
// credentials with the token in `x-aws-ec2-metadata-token`.
export const TOKEN_PATH = '/latest/api/token'
export const CREDENTIALS_PATH = '/latest/meta-data/iam/security-credentials/'
export const TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds'
export const TOKEN_HEADER = 'x-aws-ec2-metadata-token'
export const SOURCE = 'instance metadata'

// IAM role names: up to 64 of [\w+=,.@-].
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/
// An IMDS token is base64 text; anything else cannot go into a header safely.
const TOKEN_TEXT = /^[\x21-\x7e]{1,512}$/

/** Limits and seams of one IMDS exchange. */
export interface ImdsCall {
  endpoint: ImdsEndpoint
  transport: HttpTransport
  timeoutMs: Milliseconds
  connectTimeoutMs: Milliseconds
  maxAttempts: number
  clock: Clock
  random: Random
  signal?: AbortSignal | undefined
}

async function send(
  call: ImdsCall,
  path: string,
  method: 'GET' | 'PUT',
  headers: Record<string, string>,
  secret: string | undefined,
): Promise<HttpResponse> {
  const url = new URL(path, call.endpoint.url)
  return await retryWithin(
    async (attempt) => {
      const res = await call.transport(
        { url, method, headers },
        {
          timeoutMs: call.timeoutMs,
          connectTimeoutMs: call.connectTimeoutMs,
          clock: call.clock,
          ...(call.signal === undefined ? {} : { signal: call.signal }),
        },
      )
      if (res.status < 200 || res.status > 299) {
        throw statusError(
          res,
          url,
          secret,
          attempt,
          path.startsWith(CREDENTIALS_PATH) && path !== CREDENTIALS_PATH,
        )
      }
      return res
    },
    {
      maxAttempts: call.maxAttempts,
      retryWindowMs: 0,
      clock: call.clock,
      random: call.random,
      signal: call.signal,
      exhausted: (last) => last,
    },
  )
}

/**
 * The session token. No answer at all (refused, unreachable, timed out: no IMDS here, or a
 * hop limit of 1 dropping the answer before it reaches a pod) is `ERR_NOT_CONFIGURED`, so the
 * chain moves on as the AWS SDK's does; an answer that is not a token is an error.
 */
export async function fetchToken(call: ImdsCall, ttlSeconds: number): Promise<string> {
  let res: HttpResponse
  try {
    res = await send(call, TOKEN_PATH, 'PUT', { [TTL_HEADER]: String(ttlSeconds) }, undefined)
  } catch (error) {
    if (
      error instanceof CredentialsError &&
      (error.code === 'ERR_NETWORK' || error.code === 'ERR_HTTP_TIMEOUT')
    ) {
      throw new CredentialsError(
        `${SOURCE}: no IMDS answered at ${describeUrl(call.endpoint.url)} (${call.endpoint.origin}): ${error.message}`,
        { code: 'ERR_NOT_CONFIGURED', cause: error },
      )
    }
    throw error
  }
  const token = res.body.trim()
  if (!TOKEN_TEXT.test(token)) {
    throw new CredentialsError(
      `${SOURCE}: the IMDSv2 token answer of ${describeUrl(call.endpoint.url)} is not a token`,
      {
        code: 'ERR_RESPONSE_INVALID',
      },
    )
  }
  return token
}

/** The instance role's name; 404 (no instance profile attached) is `ERR_NOT_CONFIGURED`. */
export async function fetchRoleName(call: ImdsCall, token: string): Promise<string> {
  let res: HttpResponse
  try {
    res = await send(call, CREDENTIALS_PATH, 'GET', { [TOKEN_HEADER]: token }, token)
  } catch (error) {
    if (error instanceof CredentialsError && error.status === 404) {
      throw new CredentialsError(
        `${SOURCE}: ${describeUrl(call.endpoint.url)} has no instance role (404 on ${CREDENTIALS_PATH}: no IAM instance profile attached)`,
        { code: 'ERR_NOT_CONFIGURED', status: 404, cause: error },
      )
    }
    throw error
  }
  // IMDS lists one role per line; an instance profile holds exactly one.
  const name = res.body.split('\n')[0]?.trim() ?? ''
  if (!ROLE_NAME.test(name)) {
    throw new CredentialsError(
      `${SOURCE}: the role list of ${describeUrl(call.endpoint.url)} does not name an IAM role`,
      { code: 'ERR_RESPONSE_INVALID' },
    )
  }
  return name
}

/** The role's credentials; errors name the field, never a value. */
export async function fetchCredentials(
  call: ImdsCall,
  token: string,
  roleName: string,
): Promise<TemporaryCredentials> {
  const path = `${CREDENTIALS_PATH}${roleName}`
  const res = await send(call, path, 'GET', { [TOKEN_HEADER]: token }, token)
  const where = describeUrl(new URL(path, call.endpoint.url))
  // IMDS answers `Code: "Success"` (or e.g. `AssumeRoleUnauthorizedAccess` when the instance
  // profile's role cannot be assumed); only `Code` is echoed, capped and scrubbed.
  let code: unknown
  try {
    code = (JSON.parse(res.body) as { Code?: unknown } | null)?.Code
  } catch {
    code = undefined
  }
  if (code !== undefined && code !== 'Success') {
    throw new CredentialsError(
      `${SOURCE}: ${where} answered Code ${typeof code === 'string' ? scrub(code, [token], 64) : `(a ${typeof code})`}, not Success`,
      { code: 'ERR_RESPONSE_INVALID' },
    )
  }
  return parseCredentials(res.body, where, call.clock.now())
}

function statusError(
  res: HttpResponse,
  url: URL,
  secret: string | undefined,
  attempt: number,
  credentialsPath: boolean,
): CredentialsError {
  const status = res.status
  const where = describeUrl(url)
  // The body of an error on the credentials path is never echoed: it may be the node's secret
  // (a broken or hostile IMDS answering the credentials with an error status; hardening test).
  const text = credentialsPath ? '' : scrub(res.body.trim(), [secret], 256)
  const what =
    status >= 300 && status < 400
      ? `redirected with ${status} (redirects are not followed)`
      : status === 401
        ? 'answered 401: the IMDSv2 token was refused'
        : status === 403 && url.pathname === TOKEN_PATH
          ? 'answered 403 to the IMDSv2 token request (IMDS is off for this instance, or the request carried X-Forwarded-For)'
          : (status === 404 || status === 405) && url.pathname === TOKEN_PATH
            ? `answered ${status} to the IMDSv2 token request: this IMDS speaks IMDSv1 only, which podcreds does not use`
            : `answered ${status}${text === '' ? '' : `: ${text}`}`
  return new CredentialsError(`${SOURCE}: ${where} ${what}${attempt > 1 ? ` (attempt ${attempt})` : ''}`, {
    code: 'ERR_HTTP_STATUS',
    status,
    retryable: status === 429 || status >= 500,
  })
}
