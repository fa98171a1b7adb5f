import type { AccessToken } from '@azure/core-auth'
import { REDACTED } from '@podcreds/core'

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

function redacted(token: AccessToken): Record<string, unknown> {
  const out: Record<string, unknown> = {
    token: REDACTED,
    expiresOnTimestamp: token.expiresOnTimestamp,
    expiresOn: new Date(token.expiresOnTimestamp).toISOString(),
  }
  if (token.refreshAfterTimestamp !== undefined) out.refreshAfterTimestamp = token.refreshAfterTimestamp
  if (token.tokenType !== undefined) out.tokenType = token.tokenType
  return out
}

/**
 * `util.inspect`, `console.log` and `JSON.stringify` of the returned access token print
 * `token: '[redacted]'`; the field itself stays intact for the Azure pipeline. The added members
 * are non-enumerable, so a spread copy is a plain `AccessToken` (as with `protectCredentials`).
 */
export function protectAccessToken(token: AccessToken): AccessToken {
  const copy = { ...token }
  Object.defineProperty(copy, INSPECT, { value: (): unknown => redacted(copy) })
  Object.defineProperty(copy, 'toJSON', { value: (): unknown => redacted(copy) })
  return copy
}
