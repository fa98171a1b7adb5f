import { randomBytes, randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Clock, Milliseconds, Random, TimerHandle } from '@podcreds/core'
import {
  systemClock,
  systemRandom,
  validateClock,
  validateMilliseconds,
  validateRandom,
} from '@podcreds/core'
import type { FaultSpec } from './Faults.js'
import { hit, isDown, validateSpec } from './internal/faultState.js'
import { listenLoopback } from './internal/server.js'

/** The audience Entra expects in a federated token (`api://AzureADTokenExchange`). */
export const ENTRA_TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange'

/**
 * Lifetime of the access tokens the emulated Entra endpoint issues, in milliseconds.
 * @defaultValue 3 600 000 (1 h, like Entra's default for client credentials)
 */
export const DEFAULT_ENTRA_TOKEN_LIFETIME_MS: Milliseconds = 3_600_000

/**
 * A federated identity credential, as configured on a user-assigned managed identity or an app
 * registration: Entra trusts tokens of `issuer` for `subject` and `audience` as client assertions
 * of `clientId` in `tenantId`.
 */
export interface EntraFederatedCredential {
  /** The application (client) id the credential belongs to. */
  clientId: string
  /** The tenant (directory) id. */
  tenantId: string
  /** The cluster's OIDC issuer URL (`iss`), compared exactly. */
  issuer: string
  /** `system:serviceaccount:<namespace>:<service account>` (`sub`), compared exactly. */
  subject: string
  /** The audience the token must carry. @defaultValue `'api://AzureADTokenExchange'` */
  audience?: string
}

/** A JSON Web Key Set, `{ keys: [...] }`. */
export interface EntraJsonWebKeySet {
  /** The public keys. */
  keys: Record<string, unknown>[]
}

/** Options of {@link startEntraEndpoint}. */
export interface EntraEndpointOptions {
  /**
   * The issuer's public keys that sign the projected tokens, or a function returning them (read
   * per request, so a key rotation is seen).
   */
  jwks: EntraJsonWebKeySet | (() => EntraJsonWebKeySet | Promise<EntraJsonWebKeySet>)
  /** The federated identity credentials Entra knows. */
  federatedCredentials: readonly EntraFederatedCredential[]
  /**
   * Lifetime of issued access tokens (`expires_in`), in milliseconds, at least 1 s.
   * @defaultValue {@link DEFAULT_ENTRA_TOKEN_LIFETIME_MS}
   */
  tokenLifetimeMs?: Milliseconds
  /**
   * `refresh_in` of issued tokens, in milliseconds; `false` to leave it out.
   * @defaultValue half the lifetime when the lifetime is 2 h or more (as Entra does), else none
   */
  refreshInMs?: Milliseconds | false
  /** Time for token validity and issuance, and the timers of a `latencyMs` fault. @defaultValue systemClock */
  clock?: Clock
  /** Draws for fault fractions (`rate`, `throttle`). @defaultValue systemRandom */
  random?: Random
}

/**
 * The fault switch of an Entra endpoint, as the emulator's `faults` for one endpoint: `down`,
 * `latencyMs`, `throttle` and `status`/`rate` (see `FaultSettings.entra`).
 */
export interface EntraFaults {
  /** Replaces the faults; a bad value throws a `TypeError` naming it (`faults.entra.rate`). */
  set(spec: FaultSpec): void
  /** Back to healthy. */
  clear(): void
  /** The faults in force. */
  current(): FaultSpec
}

/** One token request the endpoint received (the assertion itself is not kept: it is a secret). */
export interface EntraTokenRequest {
  /** The tenant in the path. */
  tenantId: string
  /** `client_id`. */
  clientId: string | undefined
  /** `scope`. */
  scope: string | undefined
  /** `grant_type`. */
  grantType: string | undefined
  /** `client_assertion_type`. */
  clientAssertionType: string | undefined
  /** `iss`, `sub` and `aud` of the assertion, when it decodes. */
  assertionClaims?: {
    /** `iss`: the issuer. */
    iss?: unknown
    /** `sub`: `system:serviceaccount:<namespace>:<service account>`. */
    sub?: unknown
    /** `aud`: a string or a list. */
    aud?: unknown
  }
  /**
   * The `AADSTS` code of the answer, or `undefined` when a token was issued or no answer was
   * given (a `down` or `latencyMs` fault held or dropped the request).
   */
  errorCode: string | undefined
}

/** What {@link EntraEndpoint.introspect} knows about an access token it issued. */
export interface EntraIssuedToken {
  /** The client the token was issued to. */
  clientId: string
  /** The tenant. */
  tenantId: string
  /** The requested scope. */
  scope: string
  /** The assertion's subject (`system:serviceaccount:<ns>:<sa>`). */
  subject: string
  /** Expiry, epoch milliseconds. */
  expiresAt: number
}

/** A running emulated Entra token endpoint, from {@link startEntraEndpoint}. */
export interface EntraEndpoint {
  /**
   * The authority host, `http://127.0.0.1:<port>/`: what `AZURE_AUTHORITY_HOST` points at. Token
   * requests go to `<url><tenant>/oauth2/v2.0/token`.
   */
  readonly url: string
  /** The env a Workload ID pod would get for `credential`, its token file aside. */
  envFor(credential: EntraFederatedCredential): Record<string, string>
  /**
   * The issued token's facts when `accessToken` was issued here and has not expired, else
   * `undefined`: how an emulated resource server checks a bearer token.
   */
  introspect(accessToken: string): EntraIssuedToken | undefined
  /** Every token request so far, oldest first (faulted ones included). */
  requests(): readonly EntraTokenRequest[]
  /**
   * Faults of this endpoint (the emulator's `faults.set({ entra })` drives the same switch).
   * Applied in this order to each token request, as the emulator's: `down`, `latencyMs`, `throttle`,
   * `status`/`rate`.
   */
  readonly faults: EntraFaults
  /** Stops the server; idempotent. */
  close(): Promise<void>
}

interface EntraError {
  status: number
  error: string
  code: number
  description: string
}

const MAX_BODY_BYTES = 64 * 1024
const MAX_ISSUED = 10_000

/**
 * Starts an emulated Microsoft Entra token endpoint on `127.0.0.1` (ephemeral port) for Workload
 * ID: `POST /{tenant}/oauth2/v2.0/token` with a client-credentials grant whose
 * `client_assertion` is a projected service-account token. It checks the assertion as Entra does
 * against the configured federated identity credentials — the client and tenant
 * (`AADSTS700016`, `AADSTS90002`), the issuer (`AADSTS700211`), the signature against the issuer's
 * JWKS (`AADSTS700027`), the time range (`AADSTS700024`), the subject (`AADSTS700213`), the
 * audience (`AADSTS700212`) and the scope (`<resource>/.default`, `AADSTS1002012`) — and answers
 * `{ token_type: 'Bearer', access_token, expires_in, ext_expires_in, refresh_in? }` or an
 * Entra-shaped error `{ error, error_description: 'AADSTSnnn: …', error_codes: [nnn], … }`.
 *
 * @param options - see {@link EntraEndpointOptions}
 * @example
 * ```ts
 * const entra = await startEntraEndpoint({
 *   jwks: () => issuer.jwks(),
 *   federatedCredentials: [{ clientId, tenantId, issuer: issuerUrl, subject: 'system:serviceaccount:default:app' }],
 * })
 * // AZURE_AUTHORITY_HOST=entra.url
 * ```
 */
export async function startEntraEndpoint(options: EntraEndpointOptions): Promise<EntraEndpoint> {
  validate(options)
  const clock = options.clock ?? systemClock
  const lifetimeMs = options.tokenLifetimeMs ?? DEFAULT_ENTRA_TOKEN_LIFETIME_MS
  const refreshInMs =
    options.refreshInMs === false
      ? undefined
      : (options.refreshInMs ?? (lifetimeMs >= 7_200_000 ? lifetimeMs / 2 : undefined))
  const credentials = options.federatedCredentials.map((c) => ({
    ...c,
    audience: c.audience ?? ENTRA_TOKEN_EXCHANGE_AUDIENCE,
  }))
  // jose loads when the endpoint starts, never at import time (DESIGN "Cold-start budget").
  const jose = await import('jose')
  const issued = new Map<string, EntraIssuedToken>()
  const log: EntraTokenRequest[] = []
  const random = options.random ?? systemRandom
  let faults: FaultSpec = {}
  let closed = false
  const pending = new Set<TimerHandle>()

  const keySet = async (): Promise<ReturnType<typeof jose.createLocalJWKSet>> => {
    const jwks = typeof options.jwks === 'function' ? await options.jwks() : options.jwks
    return jose.createLocalJWKSet(jwks as Parameters<typeof jose.createLocalJWKSet>[0])
  }

  const handle = async (req: IncomingMessage, res: ServerResponse, body: string): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const match = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname)
    if (match === null) return sendJson(res, 404, { error: 'not_found' })
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'method_not_allowed' })
    const tenantId = decodeURIComponent(match[1]!)
    const form = new URLSearchParams(body)
    const entry: EntraTokenRequest = {
      tenantId,
      clientId: form.get('client_id') ?? undefined,
      scope: form.get('scope') ?? undefined,
      grantType: form.get('grant_type') ?? undefined,
      clientAssertionType: form.get('client_assertion_type') ?? undefined,
      errorCode: undefined,
    }
    log.push(entry)
    const fail = (error: EntraError, headers: Record<string, string> = {}): void => {
      entry.errorCode = `AADSTS${error.code}`
      sendEntraError(res, error, clock.now(), headers)
    }
    // Faults, in the emulator's order (issue 21: doctor's row for a hanging Entra endpoint).
    const spec = faults
    if (isDown(spec, clock.now())) {
      req.socket.destroy()
      return
    }
    if (spec.latencyMs !== undefined && spec.latencyMs > 0) {
      await new Promise<void>((resolve) => {
        const handle = clock.setTimeout(() => {
          pending.delete(handle)
          resolve()
        }, spec.latencyMs!)
        pending.add(handle)
      })
      if (closed) return
    }
    // Entra throttles with 429 and Retry-After (MSAL honours it before asking again).
    if (hit(spec.throttle, random)) return fail(injectedError(429), { 'retry-after': '60' })
    if (spec.status !== undefined && hit(spec.rate ?? 1, random)) return fail(injectedError(spec.status))
    const result = await judge(tenantId, form, entry)
    if ('status' in result) return fail(result)
    const now = clock.now()
    const accessToken = `${randomBytes(24).toString('base64url')}.${randomBytes(24).toString('base64url')}`
    if (issued.size >= MAX_ISSUED) {
      for (const [token, facts] of issued) if (facts.expiresAt <= now) issued.delete(token)
    }
    issued.set(accessToken, { ...result, expiresAt: now + lifetimeMs })
    const expiresIn = Math.floor(lifetimeMs / 1000)
    sendJson(res, 200, {
      token_type: 'Bearer',
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      ...(refreshInMs === undefined ? {} : { refresh_in: Math.floor(refreshInMs / 1000) }),
      access_token: accessToken,
    })
  }

  const judge = async (
    tenantId: string,
    form: URLSearchParams,
    entry: EntraTokenRequest,
  ): Promise<EntraError | Omit<EntraIssuedToken, 'expiresAt'>> => {
    for (const name of ['grant_type', 'client_id', 'scope', 'client_assertion_type', 'client_assertion']) {
      if (!form.get(name)) {
        return {
          status: 400,
          error: 'invalid_request',
          code: 900144,
          description: `The request body must contain the following parameter: '${name}'.`,
        }
      }
    }
    if (form.get('grant_type') !== 'client_credentials') {
      return {
        status: 400,
        error: 'unsupported_grant_type',
        code: 70003,
        description: 'The app requested an unsupported grant type.',
      }
    }
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      return {
        status: 400,
        error: 'invalid_request',
        code: 50027,
        description: 'client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer.',
      }
    }
    const clientId = form.get('client_id')!
    const scope = form.get('scope')!
    const assertion = form.get('client_assertion')!
    if (!credentials.some((c) => c.tenantId === tenantId)) {
      return {
        status: 400,
        error: 'invalid_request',
        code: 90002,
        description: `Tenant '${printable(tenantId)}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      }
    }
    let candidates = credentials.filter((c) => c.tenantId === tenantId && c.clientId === clientId)
    if (candidates.length === 0) {
      return {
        status: 400,
        error: 'unauthorized_client',
        code: 700016,
        description: `Application with identifier '${printable(clientId)}' was not found in the directory '${printable(tenantId)}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.`,
      }
    }
    let claims: Record<string, unknown>
    try {
      claims = jose.decodeJwt(assertion) as Record<string, unknown>
    } catch {
      return {
        status: 400,
        error: 'invalid_request',
        code: 50027,
        description: 'JWT token is invalid or malformed.',
      }
    }
    entry.assertionClaims = { iss: claims.iss, sub: claims.sub, aud: claims.aud }
    candidates = candidates.filter((c) => c.issuer === claims.iss)
    if (candidates.length === 0) {
      return {
        status: 400,
        error: 'invalid_client',
        code: 700211,
        description: `No matching federated identity record found for presented assertion issuer '${printable(claims.iss)}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
      }
    }
    try {
      await jose.jwtVerify(assertion, await keySet(), {
        algorithms: ['RS256', 'ES256', 'PS256'],
        currentDate: new Date(clock.now()),
      })
    } catch (error) {
      const code = (error as { code?: string }).code
      const claim = (error as { claim?: string }).claim
      if (code === 'ERR_JWT_EXPIRED' || (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'nbf')) {
        const at = (seconds: unknown): string =>
          typeof seconds === 'number' ? new Date(seconds * 1000).toISOString() : 'unknown'
        return {
          status: 400,
          error: 'invalid_client',
          code: 700024,
          description: `Client assertion is not within its valid time range. Current time: ${new Date(clock.now()).toISOString()}, assertion valid from ${at(claims.nbf ?? claims.iat)}, expiry time of assertion ${at(claims.exp)}.`,
        }
      }
      return {
        status: 401,
        error: 'invalid_client',
        code: 700027,
        description: 'Client assertion failed signature validation.',
      }
    }
    candidates = candidates.filter((c) => c.subject === claims.sub)
    if (candidates.length === 0) {
      return {
        status: 400,
        error: 'invalid_client',
        code: 700213,
        description: `No matching federated identity record found for presented assertion subject '${printable(claims.sub)}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
      }
    }
    const audiences =
      typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : []
    candidates = candidates.filter((c) => audiences.includes(c.audience))
    if (candidates.length === 0) {
      return {
        status: 400,
        error: 'invalid_client',
        code: 700212,
        description: `No matching federated identity record found for presented assertion audience '${printable(audiences.join(','))}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion.`,
      }
    }
    const scopes = scope.split(' ').filter((s) => s !== '')
    if (scopes.length !== 1 || !scopes[0]!.endsWith('/.default')) {
      return {
        status: 400,
        error: 'invalid_scope',
        code: 1002012,
        description: `The provided value for scope ${printable(scope)} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      }
    }
    return { clientId, tenantId, scope, subject: String(claims.sub) }
  }

  const { server, url: origin } = await listenLoopback(
    (exchange) => handle(exchange.req, exchange.res, exchange.body.toString('utf8')),
    {
      keepAliveTimeoutMs: 4_000,
      maxBodyBytes: MAX_BODY_BYTES,
      tooLarge: (res) => sendJson(res, 413, { error: 'payload_too_large' }),
      failed: (res) => {
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error' })
      },
    },
  )
  const url = `${origin}/`
  let closing: Promise<void> | undefined

  return {
    url,
    envFor: (credential) => ({
      AZURE_AUTHORITY_HOST: url,
      AZURE_TENANT_ID: credential.tenantId,
      AZURE_CLIENT_ID: credential.clientId,
    }),
    introspect: (accessToken) => {
      const facts = issued.get(accessToken)
      if (facts === undefined || facts.expiresAt <= clock.now()) return undefined
      return { ...facts }
    },
    requests: () => log.map((r) => ({ ...r })),
    faults: {
      set: (spec) => {
        faults = validateSpec('entra', spec)
      },
      clear: () => {
        faults = {}
      },
      current: () => ({ ...faults }),
    },
    close: () => {
      closed = true
      for (const handle of pending) clock.clearTimeout(handle)
      pending.clear()
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      return closing
    },
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store, no-cache',
    ...headers,
  })
  res.end(text)
}

/** An injected error, named as RFC 6749 names them (Entra's own names), AADSTS50000. */
function injectedError(status: number): EntraError {
  const error =
    status === 503 || status === 429
      ? 'temporarily_unavailable'
      : status >= 500
        ? 'server_error'
        : 'invalid_request'
  return { status, error, code: 50000, description: `HTTP ${status} injected by the podcreds emulator.` }
}

function sendEntraError(
  res: ServerResponse,
  error: EntraError,
  now: number,
  headers: Record<string, string> = {},
): void {
  const traceId = randomUUID()
  const correlationId = randomUUID()
  const timestamp = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z')
  sendJson(
    res,
    error.status,
    {
      error: error.error,
      error_description: `AADSTS${error.code}: ${error.description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [error.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${error.code}`,
    },
    headers,
  )
}

// Echoed claims are clipped and stripped of control characters: they come from the request.
function printable(value: unknown): string {
  return String(value)
    .replace(/[^\x20-\x7e]/g, '?')
    .slice(0, 200)
}

function validate(options: EntraEndpointOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  const jwks = options.jwks as unknown
  if (
    typeof jwks !== 'function' &&
    (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys))
  ) {
    throw new TypeError('jwks must be a JSON Web Key Set ({ keys: [...] }) or a function returning one')
  }
  if (!Array.isArray(options.federatedCredentials))
    throw new TypeError('federatedCredentials must be an array')
  options.federatedCredentials.forEach((c: unknown, i) => {
    const fc = c as Partial<Record<keyof EntraFederatedCredential, unknown>> | null
    for (const field of ['clientId', 'tenantId', 'issuer', 'subject'] as const) {
      if (typeof fc?.[field] !== 'string' || fc[field] === '')
        throw new TypeError(`federatedCredentials[${i}].${field} must be a non-empty string`)
    }
    if (fc?.audience !== undefined && (typeof fc.audience !== 'string' || fc.audience === ''))
      throw new TypeError(`federatedCredentials[${i}].audience must be a non-empty string`)
  })
  validateMilliseconds('tokenLifetimeMs', options.tokenLifetimeMs, { min: 1000 })
  if (options.refreshInMs !== false) validateMilliseconds('refreshInMs', options.refreshInMs, { min: 1000 })
  validateClock('clock', options.clock)
  validateRandom('random', options.random)
}
