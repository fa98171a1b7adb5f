import { decodeToken } from './decodeToken.js'
import { toEpochMs } from './internal/toEpochMs.js'
import type { ServiceAccountRef } from './parseServiceAccountSubject.js'
import { parseServiceAccountSubject } from './parseServiceAccountSubject.js'
import type { KubernetesObjectRef, TokenClaims, TokenHeader } from './TokenClaims.js'

/** The service account a token was issued for. */
export interface TokenServiceAccount extends ServiceAccountRef {
  /** The service account's UID, from the `kubernetes.io` claim (absent when only `sub` told). */
  uid?: string
}

/** Options of {@link inspectToken}. */
export interface InspectTokenOptions {
  /** The time to judge the token at: a `Date` or epoch milliseconds. @defaultValue `Date.now()` */
  now?: Date | number
}

/** What {@link inspectToken} tells about a token. Durations in milliseconds. */
export interface TokenInspection {
  /** The decoded protected header. */
  header: TokenHeader
  /** The decoded claims. */
  claims: TokenClaims
  /** `iss`. */
  issuer?: string
  /** `sub`. */
  subject?: string
  /** `aud` as a list (empty when absent). */
  audiences: string[]
  /** `iat` as a date. */
  issuedAt?: Date
  /** `nbf` as a date. */
  notBefore?: Date
  /** `exp` as a date. */
  expiresAt?: Date
  /** `exp − iat`, in ms, when both are present. */
  lifetimeMs?: number
  /** `exp − now`, in ms (negative once expired), when `exp` is present. */
  remainingMs?: number
  /**
   * When kubelet replaces this token in a projected volume: `iat + min(80 % of the lifetime, 24 h)`
   * (kubelet's token manager refreshes at 80 % of the TTL or after 24 h, whichever comes first),
   * when `iat` and `exp` are present. Kubelet adds up to 10 s of jitter.
   */
  rotationDueAt?: Date
  /**
   * `now` is past {@link TokenInspection.rotationDueAt} by more than a minute: kubelet should have
   * written a new token by now (a stale mount, or a token copied out of the pod).
   */
  rotationOverdue: boolean
  /** `now` is at or after `exp` (RFC 7519 §4.1.4). */
  expired: boolean
  /** `now` is before `nbf`. */
  notYetValid: boolean
  /**
   * `kubernetes.io.warnafter` as a date: the API server extended this token's lifetime, and warns
   * when it is used after this time.
   */
  warnAfter?: Date
  /** The service account, from the `kubernetes.io` claim or else from a `system:serviceaccount:` subject. */
  serviceAccount?: TokenServiceAccount
  /** The pod the token is bound to. */
  pod?: KubernetesObjectRef
  /** The node the pod runs on. */
  node?: KubernetesObjectRef
}

// kubelet pkg/kubelet/token/token_manager.go: maxTTL = 24 h, refresh in the last 20 % of the TTL.
const MAX_ROTATION_MS = 24 * 60 * 60 * 1000
const ROTATION_FRACTION = 0.8
// kubelet's maxJitter is 10 s and its sync loop runs every minute or so: grace before "overdue".
const ROTATION_GRACE_MS = 60_000

/**
 * Decodes a token (no verification, see {@link decodeToken}) and tells its issuer, subject,
 * audiences, lifetime, remaining time and when kubelet rotates it, judged at `now`. Throws
 * `ERR_TOKEN_INVALID` for a malformed token, and a `TypeError` for a bad `now`.
 *
 * @param jwt - the token
 * @param options - the time to judge at
 * @example
 * ```ts
 * const info = inspectToken(jwt, { now: Date.now() })
 * if (info.expired) console.error(`token expired at ${info.expiresAt?.toISOString()}`)
 * ```
 */
export function inspectToken(jwt: string, options?: InspectTokenOptions): TokenInspection {
  const now = toEpochMs(options?.now, Date.now)
  const { header, claims } = decodeToken(jwt)
  const k8s = claims['kubernetes.io']
  const iat = claims.iat === undefined ? undefined : claims.iat * 1000
  const exp = claims.exp === undefined ? undefined : claims.exp * 1000
  const nbf = claims.nbf === undefined ? undefined : claims.nbf * 1000
  const info: TokenInspection = {
    header,
    claims,
    audiences:
      claims.aud === undefined ? [] : typeof claims.aud === 'string' ? [claims.aud] : [...claims.aud],
    rotationOverdue: false,
    expired: exp !== undefined && now >= exp,
    notYetValid: nbf !== undefined && now < nbf,
  }
  if (claims.iss !== undefined) info.issuer = claims.iss
  if (claims.sub !== undefined) info.subject = claims.sub
  if (iat !== undefined) info.issuedAt = new Date(iat)
  if (nbf !== undefined) info.notBefore = new Date(nbf)
  if (exp !== undefined) {
    info.expiresAt = new Date(exp)
    info.remainingMs = exp - now
  }
  if (iat !== undefined && exp !== undefined) {
    const lifetimeMs = exp - iat
    info.lifetimeMs = lifetimeMs
    const due = iat + Math.min(Math.max(0, lifetimeMs) * ROTATION_FRACTION, MAX_ROTATION_MS)
    info.rotationDueAt = new Date(due)
    info.rotationOverdue = now > due + ROTATION_GRACE_MS
  }
  if (k8s !== undefined) {
    info.serviceAccount = {
      namespace: k8s.namespace,
      name: k8s.serviceaccount.name,
      uid: k8s.serviceaccount.uid,
    }
    if (k8s.pod !== undefined) info.pod = { name: k8s.pod.name, uid: k8s.pod.uid }
    if (k8s.node !== undefined) info.node = { name: k8s.node.name, uid: k8s.node.uid }
    if (k8s.warnafter !== undefined) info.warnAfter = new Date(k8s.warnafter * 1000)
  } else if (claims.sub?.startsWith('system:serviceaccount:')) {
    try {
      info.serviceAccount = parseServiceAccountSubject(claims.sub)
    } catch {
      // A malformed subject leaves serviceAccount unset: inspection reports, it does not judge.
    }
  }
  return info
}
