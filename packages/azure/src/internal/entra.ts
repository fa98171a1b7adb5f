import { CredentialsError, scrub } from '@podcreds/core'

/** RFC 7523 §2.2: a JWT used as client authentication. */
export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** The form of the client-credentials request with a federated assertion (issue #12). */
export function tokenRequestBody(clientId: string, scope: string, assertion: string): string {
  return new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: clientId,
    scope,
    client_assertion_type: JWT_BEARER_ASSERTION,
    client_assertion: assertion,
  }).toString()
}

/** A parsed success answer; times in milliseconds. */
export interface TokenAnswer {
  accessToken: string
  expiresInMs: number
  /** When Entra asks the client to refresh, relative to the request; absent when it does not say. */
  refreshInMs?: number
}

// Hints for the AADSTS codes a Workload ID setup meets; the server's own description follows.
const HINTS: Readonly<Record<string, string>> = {
  AADSTS700211:
    "no federated identity credential has the token's issuer: add one with the cluster's OIDC issuer URL " +
    '(az aks show --query oidcIssuerProfile.issuerUrl)',
  AADSTS700212:
    "no federated identity credential has the token's audience: the credential's audience must be " +
    'api://AzureADTokenExchange, and the projected token is minted for it by the webhook',
  AADSTS700213:
    "no federated identity credential has the token's subject: its subject must be " +
    'system:serviceaccount:<namespace>:<service account> of this pod',
  AADSTS700024:
    'the federated token (client assertion) is expired or not yet valid: is kubelet rotating the ' +
    'token file, and is the node clock right?',
  AADSTS700016:
    'no application with this client id in the tenant: check azure.workload.identity/client-id ' +
    'on the service account and the tenant id',
  AADSTS90002: 'the tenant does not exist: check AZURE_TENANT_ID and the authority host (sovereign cloud?)',
  AADSTS70011: 'the scope is invalid: client credentials need "<resource>/.default"',
  AADSTS1002012: 'the scope is invalid: client credentials need "<resource>/.default"',
  AADSTS700027: "the token's signature does not verify against the issuer's published keys",
  AADSTS50027: 'the federated token is not a valid JWT',
}

/** Reads the `AADSTSnnn` code of an Entra error, from `error_codes` or the description. */
function aadstsCode(body: Record<string, unknown>): string | undefined {
  const codes = body.error_codes
  if (Array.isArray(codes) && typeof codes[0] === 'number' && Number.isInteger(codes[0]))
    return `AADSTS${codes[0]}`
  const description = body.error_description
  if (typeof description === 'string') {
    const match = /\bAADSTS(\d{4,9})\b/.exec(description)
    if (match) return `AADSTS${match[1]}`
  }
  return undefined
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

// OAuth numbers: Entra v2 sends numbers, the v1 endpoint and some proxies strings.
function seconds(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined
}

/**
 * Judges the token endpoint's answer. 200 with a Bearer token → the token; an Entra error →
 * ERR_STS with the AADSTS code in `stsCode` and the message; anything else → ERR_HTTP_STATUS or
 * ERR_RESPONSE_INVALID. 429 and 5xx are retryable; other errors are not (the federated credential
 * will not fix itself in the next second). Text from the server is scrubbed of `secrets` (the
 * assertion; Entra echoes parts of requests in descriptions).
 */
export function readTokenResponse(
  status: number,
  bodyText: string,
  where: string,
  who: string,
  secrets: readonly string[],
): TokenAnswer {
  const body = parseJson(bodyText)
  const retryable = status === 429 || status >= 500
  if (status !== 200) {
    if (body !== undefined && typeof body.error === 'string') {
      const code = aadstsCode(body)
      const description =
        typeof body.error_description === 'string' ? scrub(body.error_description, secrets, 400) : ''
      const hint = code === undefined ? undefined : HINTS[code]
      const error = scrub(body.error, secrets, 80)
      const lead = `Entra ID refused the token for ${who} (HTTP ${status} ${error}${code === undefined ? '' : `, ${code}`})`
      const head = `${lead}${hint === undefined ? '' : `: ${hint}`}`
      const message =
        description === '' ? head : `${head}${/[.?!]$/.test(head) ? ' ' : '. '}Entra says: ${description}`
      return throwing(
        new CredentialsError(message, {
          code: 'ERR_STS',
          status,
          retryable,
          ...(code === undefined ? {} : { stsCode: code }),
        }),
      )
    }
    const excerpt = scrub(bodyText, secrets, 200)
    return throwing(
      new CredentialsError(
        `token endpoint ${where} answered HTTP ${status}${excerpt.trim() === '' ? '' : `: ${excerpt}`}`,
        { code: 'ERR_HTTP_STATUS', status, retryable },
      ),
    )
  }
  if (body === undefined) {
    return throwing(
      new CredentialsError(`token endpoint ${where} answered HTTP 200 without a JSON object`, {
        code: 'ERR_RESPONSE_INVALID',
        status,
        retryable: true,
      }),
    )
  }
  const invalid = (field: string): CredentialsError =>
    new CredentialsError(`token endpoint ${where} answered without a valid ${field}`, {
      code: 'ERR_RESPONSE_INVALID',
      status,
      retryable: true,
    })
  if (typeof body.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer')
    return throwing(invalid('token_type (Bearer)'))
  const accessToken = body.access_token
  // RFC 6750 b64token: it goes into an Authorization header as it is, so nothing else is accepted.
  if (typeof accessToken !== 'string' || !/^[\w.~+/-]+=*$/.test(accessToken))
    return throwing(invalid('access_token'))
  const expiresIn = seconds(body.expires_in)
  if (expiresIn === undefined || expiresIn <= 0) return throwing(invalid('expires_in'))
  const answer: TokenAnswer = { accessToken, expiresInMs: expiresIn * 1000 }
  // refresh_in: Entra's hint to refresh early (sent for tokens of 2 h or more). Ignored when it
  // makes no sense (not before expiry).
  const refreshIn = seconds(body.refresh_in)
  if (refreshIn !== undefined && refreshIn > 0 && refreshIn < expiresIn) answer.refreshInMs = refreshIn * 1000
  return answer
}

function throwing(error: CredentialsError): never {
  throw error
}

/** Whether the error is Entra's "the assertion is expired or not yet valid". */
export function isExpiredAssertion(error: unknown): boolean {
  return error instanceof CredentialsError && error.stsCode === 'AADSTS700024'
}
