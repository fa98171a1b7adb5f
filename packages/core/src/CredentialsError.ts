/**
 * Every failure podcreds reports carries one of these codes. The union is closed: a new code is a
 * breaking change of the contract, so callers can `switch` over it exhaustively.
 */
export type CredentialsErrorCode =
  | 'ERR_NOT_CONFIGURED'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_ENDPOINT_NOT_ALLOWED'
  | 'ERR_TOKEN_FILE'
  | 'ERR_TOKEN_INVALID'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_HTTP_TIMEOUT'
  | 'ERR_NETWORK'
  | 'ERR_HTTP_STATUS'
  | 'ERR_RESPONSE_INVALID'
  | 'ERR_STS'
  | 'ERR_CREDENTIALS_EXPIRED'
  | 'ERR_CHAIN_EXHAUSTED'
  | 'ERR_ABORTED'

/** Options of {@link CredentialsError}. */
export interface CredentialsErrorOptions {
  /** The machine-readable code. */
  code: CredentialsErrorCode
  /**
   * Whether a chain may move on to its next link. Same name and meaning as the AWS SDK's
   * `ProviderError.tryNextLink`, so podcreds errors chain correctly inside SDK chains.
   * @defaultValue `true` for `ERR_NOT_CONFIGURED` and `ERR_CHAIN_EXHAUSTED`, `false` otherwise
   */
  tryNextLink?: boolean
  /**
   * Whether the fault is transient (network, timeout, throttling, 5xx): the refresh engine backs
   * off and retries.
   * @defaultValue `true` for `ERR_NETWORK` and `ERR_HTTP_TIMEOUT`, `false` otherwise
   */
  retryable?: boolean
  /** HTTP status, when a response was received. */
  status?: number
  /** STS error code, e.g. `InvalidIdentityToken`. */
  stsCode?: string
  /** The underlying error. Must not carry secrets. */
  cause?: unknown
}

const BRAND: unique symbol = Symbol.for('podcreds.CredentialsError')

const TRY_NEXT_BY_DEFAULT: ReadonlySet<CredentialsErrorCode> = new Set([
  'ERR_NOT_CONFIGURED',
  'ERR_CHAIN_EXHAUSTED',
])
const RETRYABLE_BY_DEFAULT: ReadonlySet<CredentialsErrorCode> = new Set(['ERR_NETWORK', 'ERR_HTTP_TIMEOUT'])

/**
 * The one error class of podcreds. Messages never contain secrets (secret keys, session tokens,
 * service-account tokens); they name the source, the file or URL, the status and the reason.
 *
 * `instanceof` works across duplicate installs of `@podcreds/core` (a `Symbol.for` brand).
 *
 * @example
 * ```ts
 * try {
 *   await provider()
 * } catch (err) {
 *   if (err instanceof CredentialsError && err.code === 'ERR_TOKEN_FILE') {
 *     console.error(`fix the token mount: ${err.message}`)
 *   }
 * }
 * ```
 */
export class CredentialsError extends Error {
  /** The machine-readable code. */
  readonly code: CredentialsErrorCode
  /** Whether a chain may move on to its next link (AWS SDK `ProviderError` semantics). */
  readonly tryNextLink: boolean
  /** Whether the fault is transient and worth retrying. */
  readonly retryable: boolean
  // `declare`: no own property at all when absent, so `util.inspect(err)` shows no
  // `status: undefined` noise and `'status' in err` tells whether a response was received.
  /** HTTP status, when a response was received. */
  declare readonly status?: number
  /** STS error code, when STS answered with an error. */
  declare readonly stsCode?: string

  constructor(message: string, options: CredentialsErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = options.code
    this.tryNextLink = options.tryNextLink ?? TRY_NEXT_BY_DEFAULT.has(options.code)
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(options.code)
    if (options.status !== undefined) this.status = options.status
    if (options.stsCode !== undefined) this.stsCode = options.stsCode
    Object.defineProperty(this, BRAND, { value: true })
  }

  /** `instanceof` that survives two copies of this package in one process. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }

  /** A plain, secret-free form for structured logs. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {
      name: this.name,
      code: this.code,
      message: this.message,
      tryNextLink: this.tryNextLink,
      retryable: this.retryable,
    }
    if (this.status !== undefined) out.status = this.status
    if (this.stsCode !== undefined) out.stsCode = this.stsCode
    if (this.cause instanceof Error) {
      out.cause =
        this.cause instanceof CredentialsError
          ? this.cause.toJSON()
          : { name: this.cause.name, message: this.cause.message }
    }
    return out
  }
}

/**
 * Whether `value` is a {@link CredentialsError} (from any copy of this package).
 *
 * @example
 * ```ts
 * if (isCredentialsError(err) && err.tryNextLink) { ... }
 * ```
 */
export function isCredentialsError(value: unknown): value is CredentialsError {
  return value instanceof CredentialsError
}
