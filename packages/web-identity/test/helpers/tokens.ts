import type { Clock } from '@podcreds/core'
import { systemClock } from '@podcreds/core'

/** Epoch ms the fake clock reports: 2026-11-23T12:00:00Z. */
export const NOW = Date.UTC(2026, 10, 23, 12, 0, 0)

/** A clock that reports a fixed time but runs real (unref'd) timers for timeouts and back-off. */
export function fixedClock(now = NOW): Clock {
  return {
    now: () => now,
    setTimeout: (fn, ms, options) => systemClock.setTimeout(fn, ms, options),
    clearTimeout: (handle) => systemClock.clearTimeout(handle),
  }
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** An unsigned-looking projected service-account token with the given claims. */
export function makeJwt(claims: Record<string, unknown> = {}): string {
  const payload = {
    iss: 'https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE',
    sub: 'system:serviceaccount:default:app',
    aud: ['sts.amazonaws.com'],
    iat: Math.floor(NOW / 1000) - 60,
    exp: Math.floor(NOW / 1000) + 3600,
    'kubernetes.io': { namespace: 'default', serviceaccount: { name: 'app', uid: 'uid-1' } },
    canary: 'SECRETCANARYtokenpayload',
    ...claims,
  }
  return `${b64({ alg: 'RS256', kid: 'key-1' })}.${b64(payload)}.U0VDUkVUQ0FOQVJZc2lnbmF0dXJl`
}
