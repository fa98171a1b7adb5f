import type { Clock, HttpResponse, HttpTransport, Milliseconds } from '@podcreds/core'
import { CredentialsError, describeUrl } from '@podcreds/core'
import type { JSONWebKeySet } from 'jose'
import type { LocalJWKSet } from 'jose/jwks/local'
import { discoveryUrl, isAllowedKeyUrl } from './allowedUrl.js'
import { loadJose } from './loadJose.js'

/** How a {@link RemoteKeySet} fetches. */
export interface KeySetSettings {
  /** The issuer; its discovery document gives `jwks_uri` unless `jwksUrl` is set. */
  issuer: string
  /** The key set's URL, skipping discovery. */
  jwksUrl: URL | undefined
  transport: HttpTransport
  clock: Clock
  timeoutMs: Milliseconds
  connectTimeoutMs: Milliseconds
  cooldownMs: Milliseconds
  cacheMaxAgeMs: Milliseconds
}

// Discovery documents and key sets are a few KiB; a large cap still bounds memory.
const MAX_BODY_BYTES = 512 * 1024

type GetKey = (
  header: Parameters<LocalJWKSet>[0],
  token: Parameters<LocalJWKSet>[1],
) => ReturnType<LocalJWKSet>

/**
 * An issuer's key set fetched over our HTTP client: cached for `cacheMaxAgeMs`, reloaded when a
 * token names an unknown `kid` (key rotation) unless the last load is younger than `cooldownMs`,
 * and every load single-flight. The semantics of jose's `createRemoteJWKSet`, rebuilt on
 * `createLocalJWKSet` because jose's remote set builds a WHATWG `Headers` (which loads Node's
 * bundled undici, ~25 ms) and reads `Date.now()`, where we want the injected clock.
 */
export class RemoteKeySet {
  readonly settings: KeySetSettings
  #jwksUrl: URL | undefined
  #local: LocalJWKSet | undefined
  #loadedAt = Number.NEGATIVE_INFINITY
  #pending: Promise<void> | undefined
  #sequence = 0
  #applied = 0
  /** Number of key-set fetches started (discovery not counted). */
  fetches = 0

  constructor(settings: KeySetSettings) {
    this.settings = settings
    this.#jwksUrl = settings.jwksUrl
  }

  /** The key resolver jose's `jwtVerify` calls. */
  readonly getKey: GetKey = async (header, token) => {
    const { clock, cacheMaxAgeMs, cooldownMs } = this.settings
    if (this.#local === undefined || clock.now() >= this.#loadedAt + cacheMaxAgeMs) await this.reload()
    const local = this.#local as LocalJWKSet
    try {
      return await local(header, token)
    } catch (error) {
      // An unknown kid is how key rotation looks from here: reload once, unless we just did.
      if ((error as { code?: unknown }).code === 'ERR_JWKS_NO_MATCHING_KEY') {
        if (clock.now() >= this.#loadedAt + cooldownMs) {
          await this.reload()
          return (this.#local as LocalJWKSet)(header, token)
        }
      }
      throw error
    }
  }

  /** Loads the key set now; concurrent calls share one load. */
  reload(): Promise<void> {
    if (this.#pending === undefined) {
      const sequence = ++this.#sequence
      const pending = this.#load().then((local) => {
        // A late, older load must not overwrite a newer one.
        if (sequence <= this.#applied) return
        this.#applied = sequence
        this.#local = local
        this.#loadedAt = this.settings.clock.now()
      })
      this.#pending = pending
      void pending.then(
        () => this.#clear(pending),
        () => this.#clear(pending),
      )
    }
    return this.#pending
  }

  #clear(pending: Promise<void>): void {
    if (this.#pending === pending) this.#pending = undefined
  }

  async #load(): Promise<LocalJWKSet> {
    const [{ createLocalJWKSet }, jwksUrl] = await Promise.all([loadJose(), this.#resolveJwksUrl()])
    this.fetches++
    const body = await this.#getJson(jwksUrl, 'JWKS')
    try {
      return createLocalJWKSet(body as JSONWebKeySet)
    } catch {
      throw new CredentialsError(`JWKS at ${describeUrl(jwksUrl)} is not a valid JSON Web Key Set`, {
        code: 'ERR_RESPONSE_INVALID',
      })
    }
  }

  async #resolveJwksUrl(): Promise<URL> {
    if (this.#jwksUrl !== undefined) return this.#jwksUrl
    const { issuer } = this.settings
    const url = discoveryUrl(issuer)
    const where = describeUrl(url)
    const doc = (await this.#getJson(url, 'OIDC discovery document')) as Record<string, unknown>
    // OIDC Discovery §4.3: the document's issuer must be exactly the issuer it was fetched for.
    if (doc.issuer !== issuer) {
      throw new CredentialsError(
        `OIDC discovery document at ${where} names issuer ${quote(doc.issuer)}, expected ${JSON.stringify(issuer)}`,
        { code: 'ERR_RESPONSE_INVALID' },
      )
    }
    let jwksUrl: URL
    try {
      jwksUrl = new URL(String(doc.jwks_uri))
      if (typeof doc.jwks_uri !== 'string') throw new TypeError('jwks_uri')
    } catch {
      throw new CredentialsError(`OIDC discovery document at ${where} has no valid jwks_uri`, {
        code: 'ERR_RESPONSE_INVALID',
      })
    }
    if (!isAllowedKeyUrl(jwksUrl)) {
      throw new CredentialsError(
        `OIDC discovery document at ${where} points jwks_uri to ${describeUrl(jwksUrl)}: keys must come over https (or http on loopback)`,
        { code: 'ERR_ENDPOINT_NOT_ALLOWED' },
      )
    }
    this.#jwksUrl = jwksUrl
    return jwksUrl
  }

  async #getJson(url: URL, what: string): Promise<unknown> {
    const where = describeUrl(url)
    const { transport, clock, timeoutMs, connectTimeoutMs } = this.settings
    let response: HttpResponse
    try {
      response = await transport(
        { url, method: 'GET', headers: { accept: 'application/json, application/jwk-set+json' } },
        { clock, timeoutMs, connectTimeoutMs, maxBodyBytes: MAX_BODY_BYTES },
      )
    } catch (error) {
      const code = error instanceof CredentialsError ? error.code : 'ERR_NETWORK'
      const reason = error instanceof Error ? error.message : String(error)
      throw new CredentialsError(`cannot fetch the ${what} from ${where}: ${reason}`, {
        code,
        retryable: error instanceof CredentialsError ? error.retryable : true,
        cause: error,
      })
    }
    if (response.status !== 200) {
      throw new CredentialsError(`${what} at ${where} answered HTTP ${response.status}, expected 200`, {
        code: 'ERR_HTTP_STATUS',
        status: response.status,
        retryable: response.status === 429 || response.status >= 500,
      })
    }
    let body: unknown
    try {
      body = JSON.parse(response.body)
    } catch {
      body = undefined
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new CredentialsError(`${what} at ${where} is not a JSON object`, { code: 'ERR_RESPONSE_INVALID' })
    }
    return body
  }
}

function quote(value: unknown): string {
  return typeof value === 'string' && value.length <= 300 ? JSON.stringify(value) : typeof value
}
