import { randomBytes } from 'node:crypto'
import type { Context, Exchange } from './context.js'
import { send } from './context.js'
import type { IssuedCredentials } from './credentialStore.js'
import { rfc3339 } from './ids.js'

// EC2 IMDSv2 (docs "Use the Instance Metadata Service to access instance metadata", "Configure the
// instance metadata options"): a session token from `PUT /latest/api/token` with
// `X-aws-ec2-metadata-token-ttl-seconds` in [1, 21600], then `GET`s carrying it in
// `X-aws-ec2-metadata-token`. With `HttpTokens=required` (IMDSv2 only) a `GET` without a valid
// token is 401. A `PUT` carrying `X-Forwarded-For` is refused (403): IMDSv2's guard against open
// proxies. Instance-role credentials last about 6 h and are rotated well before expiry; the same
// set is served until then (`LastUpdated`).
const TOKEN_PATH = '/latest/api/token'
const CREDENTIALS_PATH = '/latest/meta-data/iam/security-credentials/'
const TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds'
const TOKEN_HEADER = 'x-aws-ec2-metadata-token'
const MAX_TTL_SECONDS = 21_600
export const INSTANCE_CREDENTIAL_LIFETIME_MS: number = 6 * 3_600_000
const INSTANCE_ROTATE_AFTER_MS = 3_600_000

/** The IMDS stand-in's state: its session tokens and the node role's current credentials. */
export interface ImdsState {
  roleArn: string
  tokens: Map<string, number>
  current?: { credentials: IssuedCredentials; issuedAt: number }
}

export function roleNameOf(roleArn: string): string {
  return roleArn.slice(roleArn.lastIndexOf('/') + 1)
}

export async function handleImds(context: Context, exchange: Exchange, state: ImdsState): Promise<void> {
  const { req, res, url } = exchange
  const text = (status: number, body: string): void => send(res, status, 'text/plain', body)
  const now = context.clock.now()
  if (url.pathname === TOKEN_PATH) {
    if (req.method !== 'PUT') return text(405, 'Method Not Allowed')
    if (req.headers['x-forwarded-for'] !== undefined) return text(403, 'Forbidden')
    const ttlText = req.headers[TTL_HEADER]
    const ttl = typeof ttlText === 'string' && /^\d{1,5}$/.test(ttlText) ? Number(ttlText) : Number.NaN
    if (!(ttl >= 1 && ttl <= MAX_TTL_SECONDS)) return text(400, 'Bad Request')
    for (const [token, expiresAt] of state.tokens) if (expiresAt <= now) state.tokens.delete(token)
    const token = randomBytes(42).toString('base64')
    state.tokens.set(token, now + ttl * 1000)
    return send(res, 200, 'text/plain', token, { [TTL_HEADER]: String(ttl) })
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'Method Not Allowed')
  const token = req.headers[TOKEN_HEADER]
  const expiresAt = typeof token === 'string' ? state.tokens.get(token) : undefined
  if (expiresAt === undefined || expiresAt <= now) return text(401, 'Unauthorized')
  const roleName = roleNameOf(state.roleArn)
  if (url.pathname === CREDENTIALS_PATH || url.pathname === CREDENTIALS_PATH.slice(0, -1)) {
    return text(200, roleName)
  }
  if (url.pathname === `${CREDENTIALS_PATH}${roleName}`) {
    if (state.current === undefined || now - state.current.issuedAt >= INSTANCE_ROTATE_AFTER_MS) {
      state.current = {
        credentials: context.store.issue(
          state.roleArn,
          `i-0${hexId()}`,
          INSTANCE_CREDENTIAL_LIFETIME_MS,
          now,
        ),
        issuedAt: now,
      }
    }
    const { credentials, issuedAt } = state.current
    // IMDS pretty-prints this document, with `Code`, `LastUpdated` and `Type` before the keys.
    const body = JSON.stringify(
      {
        Code: 'Success',
        LastUpdated: rfc3339(issuedAt),
        Type: 'AWS-HMAC',
        AccessKeyId: credentials.accessKeyId,
        SecretAccessKey: credentials.secretAccessKey,
        Token: credentials.sessionToken,
        Expiration: rfc3339(credentials.expiresAt),
      },
      null,
      2,
    )
    return text(200, body)
  }
  return send(
    res,
    404,
    'text/html',
    '<?xml version="1.0" encoding="iso-8859-1"?>\n<title>404 - Not Found</title>\n',
  )
}

function hexId(): string {
  return randomBytes(8).toString('hex').slice(0, 16)
}
