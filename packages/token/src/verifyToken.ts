import type { Clock, HttpTransport, Milliseconds } from '@podcreds/core'
import {
  CredentialsError,
  httpRequest,
  systemClock,
  validateClock,
  validateFunction,
  validateMilliseconds,
  validateString,
} from '@podcreds/core'
import type { JSONWebKeySet } from 'jose'
import { decodeToken } from './decodeToken.js'
import { isAllowedKeyUrl } from './internal/allowedUrl.js'
import { invalidToken } from './internal/invalidToken.js'
import { loadJose } from './internal/loadJose.js'
import { RemoteKeySet } from './internal/RemoteKeySet.js'
import { toEpochMs } from './internal/toEpochMs.js'
import type { DecodedToken } from './TokenClaims.js'

/** A JSON Web Key Set (RFC 7517 §5): `{ keys: [...] }`. */
export interface JsonWebKeySet {
  /** The keys, as JWK objects. */
  keys: Record<string, unknown>[]
}

/** Options of {@link createTokenVerifier} and {@link verifyToken}. Durations in milliseconds. */
export interface TokenVerifierOptions {
  /**
   * The expected issuer (`iss`), e.g. `https://oidc.eks.eu-west-1.amazonaws.com/id/ABC`. Unless
   * `jwks` is given, the keys are found through `<issuer>/.well-known/openid-configuration` →
   * `jwks_uri`. Must be `https:` (or `http:` on loopback).
   */
  issuer: string
  /** The accepted audience(s): `aud` must contain one of them, e.g. `sts.amazonaws.com`. */
  audience: string | readonly string[]
  /**
   * Where the keys are, skipping discovery: the key set's URL, or the key set itself (no network).
   * @defaultValue discovered from the issuer
   */
  jwks?: string | URL | JsonWebKeySet
  /**
   * Accepted signing algorithms. `none` is never accepted.
   * @defaultValue {@link DEFAULT_ALGORITHMS}: what kube-apiserver signs with (RSA and ECDSA keys)
   */
  algorithms?: readonly string[]
  /** The required subject (`sub`), e.g. `system:serviceaccount:payments:api`. @defaultValue any */
  subject?: string
  /** Accepted clock skew when checking `exp` and `nbf`. @defaultValue 0 */
  clockToleranceMs?: Milliseconds
  /** Whole request timeout of each discovery or key-set fetch. @defaultValue 5000 */
  timeoutMs?: Milliseconds
  /** Connect timeout of each fetch. @defaultValue 1000 */
  connectTimeoutMs?: Milliseconds
  /** No key-set reload for an unknown `kid` within this long of the last load. @defaultValue 30000 */
  cooldownMs?: Milliseconds
  /** A loaded key set is reloaded when older than this. @defaultValue 600000 */
  cacheMaxAgeMs?: Milliseconds
  /** The HTTP seam. @defaultValue `httpRequest` of `@podcreds/core` */
  transport?: HttpTransport
  /** Time for the key-set cache and request timers; also the default `now`. @defaultValue systemClock */
  clock?: Clock
}

/** Per-call options of a {@link TokenVerifier}. */
export interface VerifyCallOptions {
  /** The time to judge `exp`/`nbf` at: a `Date` or epoch ms. @defaultValue `clock.now()` */
  now?: Date | number
}

/** Options of {@link verifyToken}: the verifier's options plus the time to judge at. */
export interface VerifyTokenOptions extends TokenVerifierOptions, VerifyCallOptions {}

/** A reusable verifier for one issuer, holding its cached key set. */
export interface TokenVerifier {
  /** Verifies a token; resolves to its header and claims. See {@link verifyToken}. */
  (jwt: string, options?: VerifyCallOptions): Promise<DecodedToken>
  /** Loads the key set now (single-flight), e.g. to warm the cache or pick up a new key early. */
  reload(): Promise<void>
}

/** `RS256`, `RS384`, `RS512`, `ES256`, `ES384`, `ES512`: the algorithms kube-apiserver signs with. */
export const DEFAULT_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
])
/** @defaultValue 5000 */
export const DEFAULT_VERIFY_TIMEOUT_MS = 5000
/** @defaultValue 30000 — jose's `cooldownDuration` default. */
export const DEFAULT_JWKS_COOLDOWN_MS = 30_000
/** @defaultValue 600000 — jose's `cacheMaxAge` default. */
export const DEFAULT_JWKS_MAX_AGE_MS = 600_000

interface Resolved {
  issuer: string
  audience: string[]
  algorithms: string[]
  subject: string | undefined
  clockToleranceMs: number
  clock: Clock
  keys: { kind: 'remote'; set: RemoteKeySet } | { kind: 'local'; jwks: JsonWebKeySet }
}

function validate(options: TokenVerifierOptions): Omit<Resolved, 'keys'> & { jwksUrl: URL | undefined } {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  validateString('issuer', options.issuer)
  if (options.issuer === undefined) throw new TypeError('issuer is required')
  let issuerUrl: URL
  try {
    issuerUrl = new URL(options.issuer)
  } catch {
    throw new TypeError('issuer must be an absolute URL')
  }
  if (!isAllowedKeyUrl(issuerUrl)) throw new TypeError('issuer must be an https: URL (or http: on loopback)')
  const audience = typeof options.audience === 'string' ? [options.audience] : options.audience
  if (
    !Array.isArray(audience) ||
    audience.length === 0 ||
    audience.some((a) => typeof a !== 'string' || a === '')
  ) {
    throw new TypeError('audience must be a non-empty string or a non-empty array of non-empty strings')
  }
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS
  if (
    !Array.isArray(algorithms) ||
    algorithms.length === 0 ||
    algorithms.some((a) => typeof a !== 'string')
  ) {
    throw new TypeError('algorithms must be a non-empty array of algorithm names')
  }
  if (algorithms.some((a) => a.toLowerCase() === 'none'))
    throw new TypeError('algorithms must not include none')
  validateString('subject', options.subject)
  validateMilliseconds('clockToleranceMs', options.clockToleranceMs)
  validateMilliseconds('timeoutMs', options.timeoutMs, { min: 1 })
  validateMilliseconds('connectTimeoutMs', options.connectTimeoutMs, { min: 1 })
  validateMilliseconds('cooldownMs', options.cooldownMs)
  validateMilliseconds('cacheMaxAgeMs', options.cacheMaxAgeMs)
  validateClock('clock', options.clock)
  validateFunction('transport', options.transport)
  let jwksUrl: URL | undefined
  const { jwks } = options
  if (typeof jwks === 'string' || jwks instanceof URL) {
    try {
      jwksUrl = new URL(jwks)
    } catch {
      throw new TypeError('jwks must be an absolute URL or a JSON Web Key Set')
    }
    if (!isAllowedKeyUrl(jwksUrl)) throw new TypeError('jwks must be an https: URL (or http: on loopback)')
  } else if (jwks !== undefined && (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys))) {
    throw new TypeError('jwks must be an absolute URL or a JSON Web Key Set ({ keys: [...] })')
  }
  return {
    issuer: options.issuer,
    audience: [...audience],
    algorithms: [...algorithms],
    subject: options.subject,
    clockToleranceMs: options.clockToleranceMs ?? 0,
    clock: options.clock ?? systemClock,
    jwksUrl,
  }
}

function keySetSettings(
  options: TokenVerifierOptions,
  base: { issuer: string; clock: Clock; jwksUrl: URL | undefined },
) {
  return {
    issuer: base.issuer,
    jwksUrl: base.jwksUrl,
    clock: base.clock,
    transport: options.transport ?? httpRequest,
    timeoutMs: options.timeoutMs ?? DEFAULT_VERIFY_TIMEOUT_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? 1000,
    cooldownMs: options.cooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS,
    cacheMaxAgeMs: options.cacheMaxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS,
  }
}

function list(values: readonly string[]): string {
  return values.map((value) => JSON.stringify(value)).join(', ')
}

async function verifyWith(
  resolved: Resolved,
  jwt: string,
  call: VerifyCallOptions | undefined,
): Promise<DecodedToken> {
  const now = toEpochMs(call?.now, () => resolved.clock.now())
  const decoded = decodeToken(jwt)
  const { header, claims } = decoded
  // Judged before any network: an unsigned or foreign token never makes us fetch keys.
  if (!resolved.algorithms.includes(header.alg)) {
    throw invalidToken(
      `algorithm ${JSON.stringify(header.alg)} is not accepted (accepted: ${resolved.algorithms.join(', ')})`,
    )
  }
  if (claims.iss !== resolved.issuer) {
    throw invalidToken(
      `issuer ${claims.iss === undefined ? '(none)' : JSON.stringify(claims.iss)} is not the expected ${JSON.stringify(resolved.issuer)}`,
    )
  }
  const { jwtVerify, createLocalJWKSet } = await loadJose()
  const getKey =
    resolved.keys.kind === 'remote'
      ? resolved.keys.set.getKey
      : createLocalJWKSet(resolved.keys.jwks as unknown as JSONWebKeySet)
  try {
    await jwtVerify(jwt, getKey, {
      issuer: resolved.issuer,
      audience: resolved.audience,
      algorithms: resolved.algorithms,
      ...(resolved.subject === undefined ? {} : { subject: resolved.subject }),
      clockTolerance: resolved.clockToleranceMs / 1000,
      currentDate: new Date(now),
      requiredClaims: ['exp'],
    })
  } catch (error) {
    throw toCredentialsError(error, decoded, resolved, now)
  }
  return decoded
}

function toCredentialsError(
  error: unknown,
  { header, claims }: DecodedToken,
  resolved: Resolved,
  now: number,
): Error {
  if (error instanceof CredentialsError) return error
  const { code, claim } = error as { code?: unknown; claim?: unknown }
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new CredentialsError(
        `service-account token expired at ${new Date((claims.exp ?? 0) * 1000).toISOString()} (now ${new Date(now).toISOString()}, tolerance ${resolved.clockToleranceMs} ms)`,
        { code: 'ERR_TOKEN_EXPIRED' },
      )
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'aud') {
        const aud = claims.aud === undefined ? [] : typeof claims.aud === 'string' ? [claims.aud] : claims.aud
        return invalidToken(`audience [${list(aud)}] does not include any of [${list(resolved.audience)}]`)
      }
      if (claim === 'sub') {
        return invalidToken(
          `subject ${JSON.stringify(claims.sub ?? null)} is not the expected ${JSON.stringify(resolved.subject)}`,
        )
      }
      if (claim === 'nbf') {
        return invalidToken(
          `not valid before ${new Date((claims.nbf ?? 0) * 1000).toISOString()} (now ${new Date(now).toISOString()})`,
        )
      }
      if (claim === 'exp') return invalidToken('no "exp" claim: a service-account token must expire')
      return invalidToken(`claim ${JSON.stringify(claim)} failed validation`)
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return invalidToken(
        `no key of issuer ${JSON.stringify(resolved.issuer)} matches kid ${JSON.stringify(header.kid ?? null)} and alg ${header.alg}`,
      )
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return invalidToken('signature verification failed')
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return invalidToken(`algorithm ${JSON.stringify(header.alg)} is not accepted`)
    default:
      // jose's messages are fixed texts, never the token; the error itself (which may carry the
      // payload) is not attached.
      return invalidToken(
        error instanceof Error && typeof code === 'string'
          ? `${error.message} (${code})`
          : 'verification failed',
      )
  }
}

function resolve(
  options: TokenVerifierOptions,
  set: (settings: ReturnType<typeof keySetSettings>) => RemoteKeySet,
): Resolved {
  const base = validate(options)
  const { jwksUrl, ...rest } = base
  const keys: Resolved['keys'] =
    options.jwks !== undefined && jwksUrl === undefined
      ? { kind: 'local', jwks: options.jwks as JsonWebKeySet }
      : { kind: 'remote', set: set(keySetSettings(options, base)) }
  return { ...rest, keys }
}

/**
 * Creates a verifier for one issuer: the options are validated now (a bad one throws a
 * `TypeError` naming it), and the verifier keeps its own cached key set. Prefer it over
 * {@link verifyToken} when verifying many tokens, e.g. in an admission webhook.
 *
 * @param options - issuer, audience, keys and limits
 * @example
 * ```ts
 * const verify = createTokenVerifier({ issuer, audience: 'sts.amazonaws.com' })
 * const { claims } = await verify(jwt)
 * ```
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const resolved = resolve(options, (settings) => new RemoteKeySet(settings))
  const verifier = (jwt: string, call?: VerifyCallOptions): Promise<DecodedToken> =>
    verifyWith(resolved, jwt, call)
  verifier.reload = (): Promise<void> =>
    resolved.keys.kind === 'remote' ? resolved.keys.set.reload() : Promise.resolve()
  return verifier
}

// verifyToken's key sets, per issuer and key source: bounded, oldest first out (DESIGN: a small
// bounded Map, no LRU library on this path).
const MAX_CACHED_KEY_SETS = 32
const keySets = new Map<string, RemoteKeySet>()

function sameSettings(a: RemoteKeySet['settings'], b: RemoteKeySet['settings']): boolean {
  return (
    a.transport === b.transport &&
    a.clock === b.clock &&
    a.timeoutMs === b.timeoutMs &&
    a.connectTimeoutMs === b.connectTimeoutMs &&
    a.cooldownMs === b.cooldownMs &&
    a.cacheMaxAgeMs === b.cacheMaxAgeMs
  )
}

function sharedKeySet(settings: RemoteKeySet['settings']): RemoteKeySet {
  const key = `${settings.issuer}\n${settings.jwksUrl?.href ?? ''}`
  const cached = keySets.get(key)
  keySets.delete(key)
  const set =
    cached !== undefined && sameSettings(cached.settings, settings) ? cached : new RemoteKeySet(settings)
  keySets.set(key, set)
  if (keySets.size > MAX_CACHED_KEY_SETS) {
    const oldest = keySets.keys().next().value
    if (oldest !== undefined) keySets.delete(oldest)
  }
  return set
}

/**
 * Verifies a service-account token against its issuer's keys, found through OIDC discovery
 * (`<issuer>/.well-known/openid-configuration` → `jwks_uri`) unless `jwks` is given, and checks
 * issuer, audience, optional subject, `exp` (required) and `nbf`, with `clockToleranceMs`. Key
 * sets are cached per issuer across calls (reloaded for an unknown `kid` after a cooldown, every
 * load single-flight). jose's verify code is loaded on first use.
 *
 * Rejects with `ERR_TOKEN_EXPIRED` for an expired token, `ERR_TOKEN_INVALID` for a malformed,
 * unsigned (`alg: none`), foreign-issuer, wrong-audience or badly signed token, and with the
 * HTTP codes (`ERR_NETWORK`, `ERR_HTTP_TIMEOUT`, `ERR_HTTP_STATUS`, `ERR_RESPONSE_INVALID`) when
 * the keys cannot be fetched; a bad option rejects with a `TypeError` naming it. The token is
 * never in a message.
 *
 * @param jwt - the token
 * @param options - issuer, audience, and optional keys, time and limits
 * @example
 * ```ts
 * const { claims } = await verifyToken(jwt, {
 *   issuer: 'https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF',
 *   audience: 'sts.amazonaws.com',
 * })
 * ```
 */
export async function verifyToken(jwt: string, options: VerifyTokenOptions): Promise<DecodedToken> {
  const resolved = resolve(options, sharedKeySet)
  return verifyWith(resolved, jwt, options)
}
