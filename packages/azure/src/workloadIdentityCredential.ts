import { createHash } from 'node:crypto'
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth'
import type {
  Clock,
  Env,
  HttpTransport,
  Logger,
  Milliseconds,
  Random,
  SourceDescription,
} from '@podcreds/core'
import {
  CredentialsError,
  describeUrl,
  httpRequest,
  readProxyEnv,
  retry,
  systemClock,
  systemRandom,
  validateClock,
  validateEnv,
  validateFunction,
  validateInteger,
  validateLogger,
  validateMilliseconds,
  validateRandom,
  validateString,
} from '@podcreds/core'
import type { ExpiringIdentity, RefreshingProvider, RefreshOptions } from '@podcreds/refresh'
import { refreshing } from '@podcreds/refresh'
import type { ReadFile } from '@podcreds/token/read'
import { readToken } from '@podcreds/token/read'
import { CredentialUnavailableError } from './CredentialUnavailableError.js'
import { abortable, abortError, isAbortSignalLike } from './internal/abort.js'
import { protectAccessToken } from './internal/accessToken.js'
import type { Config, ConfigOptions } from './internal/config.js'
import { isClientId, isTenantId, parseAuthority, resolveConfig } from './internal/config.js'
import { isExpiredAssertion, readTokenResponse, tokenRequestBody } from './internal/entra.js'
import { scopeKey } from './internal/scopes.js'

/**
 * The refresh-engine settings a {@link workloadIdentityCredential} passes on to `refreshing()` of
 * `@podcreds/refresh` (one engine per scope set). Its `clock`, `random` and `logger` come from the
 * credential's own options.
 */
export type WorkloadIdentityRefreshOptions = Pick<
  RefreshOptions<ExpiringIdentity>,
  'refreshWindowMs' | 'mandatoryWindowMs' | 'maxBackoffMs' | 'maxStalenessMs' | 'onEvent'
>

/** Options of {@link workloadIdentityCredential}. Explicit options beat environment variables. */
export interface WorkloadIdentityCredentialOptions {
  /**
   * The Entra tenant (directory) id: a GUID or a domain name.
   * @defaultValue `AZURE_TENANT_ID`
   */
  tenantId?: string
  /**
   * The application (client) id of the user-assigned managed identity or app registration that
   * has the federated identity credential.
   * @defaultValue `AZURE_CLIENT_ID`
   */
  clientId?: string
  /**
   * The projected service-account token file, re-read on every token request (kubelet rotates it).
   * @defaultValue `AZURE_FEDERATED_TOKEN_FILE`
   */
  tokenFilePath?: string
  /**
   * The Entra authority. `https:` only, except `http:` on loopback (tests, the emulator).
   * @defaultValue `AZURE_AUTHORITY_HOST`, else `https://login.microsoftonline.com/`
   */
  authorityHost?: string
  /** The environment, read on every token request. @defaultValue `process.env` */
  env?: Env
  /** Time and timers (expiry, refresh points, timeouts, back-off). @defaultValue systemClock */
  clock?: Clock
  /** Jitter source, `() => number` in [0, 1). @defaultValue systemRandom */
  random?: Random
  /**
   * The HTTP seam.
   * @defaultValue core's `httpRequest` (`node:https`, keep-alive, no redirects; through
   * `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` with Node's own agents on Node 22.21+/24.5+)
   */
  transport?: HttpTransport
  /** The file-reading seam for the token file. @defaultValue a bounded `fs` read */
  readFile?: ReadFile
  /**
   * One token request, per attempt, in milliseconds.
   * @defaultValue {@link DEFAULT_ENTRA_TIMEOUT_MS} (10 000)
   */
  timeoutMs?: Milliseconds
  /**
   * Attempts per token request, the first included; 1 means no retry. Only network errors,
   * timeouts, 429 and 5xx are retried, with full-jitter back-off.
   * @defaultValue {@link DEFAULT_ENTRA_MAX_ATTEMPTS} (3)
   */
  maxAttempts?: number
  /** Structured logger; never receives a token. */
  logger?: Logger
  /** Settings of the refresh engine that caches each scope set's token. */
  refresh?: WorkloadIdentityRefreshOptions
}

/**
 * An Azure `TokenCredential` for Entra Workload ID, from {@link workloadIdentityCredential}. Pass
 * it to any Azure SDK client; `getToken` never resolves to `null`.
 */
export interface WorkloadIdentityCredential extends TokenCredential {
  /**
   * An access token for `scopes` (one resource, e.g. `https://vault.azure.net/.default`), from the
   * cache while it is fresh. Honours `abortSignal`: an aborted caller rejects with an error named
   * `AbortError`, while the shared token request goes on for the others. A `claims` challenge
   * (CAE) drops the cached token so a new one is fetched. A `tenantId` other than the configured
   * one is refused: a federated credential belongs to one tenant.
   *
   * @param scopes - one scope or several of the same resource
   * @param options - `abortSignal`, `claims`, `tenantId`; tracing options are ignored
   */
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken>
  /**
   * What the configuration says, without any network call: tenant, client, token file and its
   * claims (issuer, subject, audience, expiry — never the token), authority, token endpoint. What
   * `podcreds doctor` prints for AKS. Rejects like a token request would when the token file is
   * unreadable; `configured: false` when settings are missing.
   */
  describe(): Promise<SourceDescription>
  /** Stops the background refresh timers. Later calls still work, refreshing on demand. */
  close(): void
  /** Same as {@link WorkloadIdentityCredential.close}, for `using`. */
  [Symbol.dispose](): void
}

/** Default of {@link WorkloadIdentityCredentialOptions.timeoutMs}, in milliseconds. @defaultValue 10000 */
export const DEFAULT_ENTRA_TIMEOUT_MS: Milliseconds = 10_000
/** Default of {@link WorkloadIdentityCredentialOptions.maxAttempts}. @defaultValue 3 */
export const DEFAULT_ENTRA_MAX_ATTEMPTS: number = 3
/**
 * The authority used when neither `authorityHost` nor `AZURE_AUTHORITY_HOST` is set.
 * @defaultValue `'https://login.microsoftonline.com/'`
 */
export const DEFAULT_AUTHORITY_HOST: string = 'https://login.microsoftonline.com/'
/** The audience Entra expects in a federated token, and the webhook mints it for. */
export const AZURE_TOKEN_EXCHANGE_AUDIENCE: string = 'api://AzureADTokenExchange'

/** The connection itself (TCP + TLS) must be up within this, or the attempt is retried. */
const CONNECT_TIMEOUT_MS = 3_000

/** What one scope set's engine caches. `token` is the field name the engine scrubs from errors. */
interface EntraToken extends ExpiringIdentity {
  token: string
  expiration: Date
  /**
   * Entra's `refresh_in` as a point in time: the engine's refresh hint, so its background refresh
   * comes then (DESIGN.md "@podcreds/refresh"); absent when Entra did not send it.
   */
  refreshAfter?: Date
  /** The engine's `keyOf`: a hash of the token, so "the same token again" is recognised (rule 10). */
  key: string
}

/** One scope set: one engine for the credential's whole life. */
interface Entry {
  scope: string
  config: Config
  engine: RefreshingProvider<EntraToken>
}

/**
 * Entra Workload ID on AKS as an Azure `TokenCredential`: reads the projected service-account token
 * (`AZURE_FEDERATED_TOKEN_FILE`, re-read per request), exchanges it at
 * `{authority}/{tenant}/oauth2/v2.0/token` for an access token with a client-credentials request
 * whose client assertion is that token, and caches the access token per scope set in the podcreds
 * refresh engine: single-flight, refreshed in the background at a jittered point that honours
 * Entra's `refresh_in`, bounded back-off when Entra is down.
 *
 * Configuration comes from the options, else (per call) from `AZURE_TENANT_ID`,
 * `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE` and `AZURE_AUTHORITY_HOST`, which the AKS
 * workload identity webhook sets. Missing settings reject with {@link CredentialUnavailableError}
 * (so Azure's `ChainedTokenCredential` moves on); Entra's refusals reject with a
 * `CredentialsError` `ERR_STS` whose `stsCode` and message name the `AADSTS` code and the likely
 * cause. Tokens never appear in errors, logs or `util.inspect` output.
 *
 * @param options - see {@link WorkloadIdentityCredentialOptions}
 * @returns a `TokenCredential` with `describe()` and `close()`
 * @throws TypeError when an option is malformed (naming it)
 * @example
 * ```ts
 * import { SecretClient } from '@azure/keyvault-secrets'
 * import { workloadIdentityCredential } from '@podcreds/azure'
 *
 * const secrets = new SecretClient('https://my-vault.vault.azure.net', workloadIdentityCredential())
 * ```
 */
export function workloadIdentityCredential(
  options: WorkloadIdentityCredentialOptions = {},
): WorkloadIdentityCredential {
  validateOptions(options)
  const clock = options.clock ?? systemClock
  const random = options.random ?? systemRandom
  const logger = options.logger
  // Egress proxies apply to Entra as to STS (issue 20): HTTPS_PROXY/HTTP_PROXY/NO_PROXY of the
  // call's environment, through Node's own agents (22.21+/24.5+); where a runtime's agents cannot
  // proxy, core refuses the request rather than connecting directly. With only HTTP_PROXY set, an
  // https: authority goes through it, as STS calls do.
  const transport: HttpTransport =
    options.transport ??
    ((request, requestOptions) => {
      const proxy = readProxyEnv(options.env ?? process.env)
      return httpRequest(request, proxy === undefined ? requestOptions : { ...requestOptions, proxy })
    })
  const timeoutMs = options.timeoutMs ?? DEFAULT_ENTRA_TIMEOUT_MS
  const maxAttempts = options.maxAttempts ?? DEFAULT_ENTRA_MAX_ATTEMPTS
  const readOptions = options.readFile === undefined ? {} : { readFile: options.readFile }
  const engineOptions = options.refresh ?? {}
  const configOptions: ConfigOptions = {
    tenantId: options.tenantId,
    clientId: options.clientId,
    tokenFilePath: options.tokenFilePath,
    authorityHost: options.authorityHost,
    env: options.env,
  }
  const entries = new Map<string, Entry>()
  let closed = false

  const requestToken = async (config: Config, scope: string): Promise<EntraToken> => {
    const who = `client ${config.clientId} in tenant ${config.tenantId}`
    const where = describeUrl(config.tokenUrl)
    let assertion = await readToken(config.tokenFilePath, readOptions)
    logger?.debug?.('azure: requesting an access token', {
      clientId: config.clientId,
      tenantId: config.tenantId,
      scope,
      tokenFile: config.tokenFilePath,
      endpoint: where,
    })
    const exchange = async (jwt: string): Promise<EntraToken> => {
      const sentAt = clock.now()
      const response = await transport(
        {
          url: config.tokenUrl,
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded;charset=utf-8',
            accept: 'application/json',
          },
          body: tokenRequestBody(config.clientId, scope, jwt),
        },
        { timeoutMs, connectTimeoutMs: Math.min(timeoutMs, CONNECT_TIMEOUT_MS), clock },
      )
      const answer = readTokenResponse(response.status, response.body, where, who, [jwt])
      const token: EntraToken = {
        token: answer.accessToken,
        // Measured from when the request left, as MSAL does: never later than Entra's own clock.
        expiration: new Date(sentAt + answer.expiresInMs),
        key: createHash('sha256').update(answer.accessToken).digest('base64url').slice(0, 22),
      }
      // refresh_in: Entra asks to be asked again from then on; the engine refreshes at that point
      // (jittered a little later, never inside its mandatory window).
      if (answer.refreshInMs !== undefined) token.refreshAfter = new Date(sentAt + answer.refreshInMs)
      logger?.debug?.('azure: access token received', {
        clientId: config.clientId,
        scope,
        expiresOn: token.expiration.toISOString(),
        ...(token.refreshAfter === undefined ? {} : { refreshAfter: token.refreshAfter.toISOString() }),
      })
      return token
    }
    let reread = false
    return retry(
      async () => {
        try {
          return await exchange(assertion)
        } catch (error) {
          // A rotation race: Entra judged the assertion expired; kubelet may have written a new one
          // since we read it. Re-read once and try at once if it changed; otherwise the error stands.
          if (reread || !isExpiredAssertion(error)) throw error
          reread = true
          const fresh = await readToken(config.tokenFilePath, readOptions)
          if (fresh === assertion) throw error
          assertion = fresh
          return await exchange(assertion)
        }
      },
      {
        maxAttempts,
        clock,
        random,
        onRetry: (error, attempt, delayMs) => {
          logger?.debug?.('azure: retrying the token request', {
            attempt,
            delayMs,
            ...(error instanceof CredentialsError
              ? { code: error.code, ...(error.status === undefined ? {} : { status: error.status }) }
              : {}),
          })
        },
      },
    )
  }

  const makeEngine = (entry: Omit<Entry, 'engine'>): RefreshingProvider<EntraToken> => {
    const source = (): Promise<EntraToken> => {
      // The token file path is read per request (env may point elsewhere after a redeploy);
      // tenant, client and authority are the entry's key.
      const fresh = resolveConfig(configOptions)
      return requestToken({ ...entry.config, tokenFilePath: fresh.tokenFilePath }, entry.scope)
    }
    const engine = refreshing(source, {
      ...engineOptions,
      clock,
      random,
      ...(logger === undefined ? {} : { logger }),
      keyOf: (token) => token.key,
    })
    if (closed) engine.close()
    return engine
  }

  const getToken = async (
    scopes: string | string[],
    getTokenOptions?: GetTokenOptions,
  ): Promise<AccessToken> => {
    const { scope, key: scopesKey } = scopeKey(scopes)
    const signal = getTokenOptions?.abortSignal
    if (signal !== undefined && !isAbortSignalLike(signal))
      throw new TypeError('getToken: abortSignal must be an AbortSignal')
    if (signal?.aborted === true) throw abortError(signal)
    const config = resolveConfig(configOptions)
    const wanted = getTokenOptions?.tenantId
    if (wanted !== undefined && wanted !== '' && wanted.toLowerCase() !== config.tenantId.toLowerCase()) {
      throw new CredentialsError(
        `getToken asked for tenant ${isTenantId(wanted) ? wanted : '(malformed)'}, but this credential ` +
          `federates client ${config.clientId} in tenant ${config.tenantId} only`,
        { code: 'ERR_INVALID_CONFIG' },
      )
    }
    const key = `${config.authority.href}|${config.tenantId}|${config.clientId}|${scopesKey}`
    let entry = entries.get(key)
    if (entry === undefined) {
      const settings = { scope, config }
      entry = { ...settings, engine: makeEngine(settings) }
      entries.set(key, entry)
    }
    if (typeof getTokenOptions?.claims === 'string' && getTokenOptions.claims !== '') {
      // A CAE claims challenge: the resource rejected the token we gave. Drop it and ask Entra.
      entry.engine.invalidate()
    }
    const token = await abortable(entry.engine(), signal)
    return protectAccessToken({
      token: token.token,
      expiresOnTimestamp: token.expiration.getTime(),
      ...(token.refreshAfter === undefined ? {} : { refreshAfterTimestamp: token.refreshAfter.getTime() }),
      tokenType: 'Bearer',
    })
  }

  const describe = async (): Promise<SourceDescription> => {
    let config: Config
    try {
      config = resolveConfig(configOptions)
    } catch (error) {
      if (error instanceof CredentialUnavailableError) {
        // Half a configuration is worth showing: usually the pod lacks the webhook's label.
        const env = options.env ?? process.env
        const details: Record<string, string> = {}
        for (const [name, option] of [
          ['AZURE_TENANT_ID', options.tenantId],
          ['AZURE_CLIENT_ID', options.clientId],
          ['AZURE_FEDERATED_TOKEN_FILE', options.tokenFilePath],
          ['AZURE_AUTHORITY_HOST', options.authorityHost],
        ] as const) {
          const value = option ?? env[name]?.trim()
          if (value === undefined || value === '') continue
          // An authority URL may carry user:password: show its origin and path, or why it is bad.
          details[name] = name === 'AZURE_AUTHORITY_HOST' ? shownAuthority(value) : value.slice(0, 200)
        }
        return { configured: false, reason: error.message, details }
      }
      throw error
    }
    const jwt = await readToken(config.tokenFilePath, readOptions)
    const details: Record<string, string> = {
      tenantId: config.tenantId,
      tenantIdSource: config.sources.tenantId,
      clientId: config.clientId,
      clientIdSource: config.sources.clientId,
      tokenFile: config.tokenFilePath,
      tokenFileSource: config.sources.tokenFilePath,
      authorityHost: describeUrl(config.authority),
      authorityHostSource: config.sources.authorityHost,
      tokenEndpoint: describeUrl(config.tokenUrl),
    }
    Object.assign(details, await tokenDetails(jwt, clock.now()))
    return {
      configured: true,
      reason:
        `would exchange the federated token in ${config.tokenFilePath} for Entra ID access tokens of ` +
        `client ${config.clientId} in tenant ${config.tenantId} at ${describeUrl(config.tokenUrl)}`,
      details,
    }
  }

  const close = (): void => {
    closed = true
    for (const entry of entries.values()) entry.engine.close()
  }

  return { getToken, describe, close, [Symbol.dispose]: close }
}

/** An authority host as `describe()` may show it: origin and path, never user info. */
function shownAuthority(value: string): string {
  const authority = parseAuthority(value)
  return typeof authority === 'string' ? `(invalid: ${authority})` : describeUrl(authority)
}

// The decoder loads on the first describe(), never at import time or on the token path.
let tokenModule: Promise<typeof import('@podcreds/token')> | undefined

async function tokenDetails(jwt: string, now: number): Promise<Record<string, string>> {
  tokenModule ??= import('@podcreds/token')
  const { describeTokenClaims } = await tokenModule
  // Claims only, scrubbed of control characters (they reach `podcreds doctor`).
  const details = describeTokenClaims(jwt, { now })
  if (details['tokenFormat'] === 'opaque') {
    details['warning'] = 'the federated token is not a JWT: Entra will refuse it as a client assertion'
    return details
  }
  if (details['tokenExpired'] === 'yes') {
    details['warning'] = 'the federated token is expired: is kubelet rotating it?'
  }
  const audiences = details['tokenAudience']?.split(', ') ?? []
  if (!audiences.includes(AZURE_TOKEN_EXCHANGE_AUDIENCE)) {
    details['warning'] =
      `the token's audience is not ${AZURE_TOKEN_EXCHANGE_AUDIENCE}: Entra will refuse it (AADSTS700212); ` +
      'is this the token the workload identity webhook projects?'
  }
  return details
}

function validateOptions(options: WorkloadIdentityCredentialOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  validateString('tenantId', options.tenantId)
  if (options.tenantId !== undefined && !isTenantId(options.tenantId))
    throw new TypeError('tenantId must be a tenant GUID or domain name (letters, digits, "-" and "." only)')
  validateString('clientId', options.clientId)
  if (options.clientId !== undefined && !isClientId(options.clientId))
    throw new TypeError('clientId must be an application (client) id such as a GUID')
  validateString('tokenFilePath', options.tokenFilePath)
  validateString('authorityHost', options.authorityHost)
  if (options.authorityHost !== undefined) {
    const authority = parseAuthority(options.authorityHost)
    if (typeof authority === 'string') throw new TypeError(`authorityHost ${authority}`)
  }
  validateEnv('env', options.env)
  validateClock('clock', options.clock)
  validateRandom('random', options.random)
  validateFunction('transport', options.transport)
  validateFunction('readFile', options.readFile)
  validateMilliseconds('timeoutMs', options.timeoutMs, { min: 1 })
  validateInteger('maxAttempts', options.maxAttempts, 1, 10)
  validateLogger('logger', options.logger)
  if (options.refresh !== undefined) {
    if (typeof options.refresh !== 'object' || options.refresh === null)
      throw new TypeError('refresh must be an object')
    // The engine checks its own options; build one now (it does nothing until called) so a bad
    // value throws here, named as `refresh.<option>`.
    try {
      refreshing(async () => ({}), { ...options.refresh }).close()
    } catch (error) {
      if (error instanceof TypeError) throw new TypeError(`refresh.${error.message}`)
      throw error
    }
  }
}
