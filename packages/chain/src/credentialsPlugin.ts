import type { AwsCredentialIdentity } from '@podcreds/core'
import type {
  FinalizeHandler,
  FinalizeHandlerArguments,
  FinalizeHandlerOutput,
  HandlerExecutionContext,
  Pluggable,
} from '@smithy/types'
import type { IdentityProperties } from './chain.js'

/**
 * A provider that can be told a key was rejected: what `refreshing()` of `@podcreds/refresh`
 * (and so `defaultChain()`) returns.
 */
export interface InvalidatingProvider {
  /** Resolves the current credentials. */
  (identityProperties?: IdentityProperties): Promise<AwsCredentialIdentity>
  /** Drops the cached credentials if their access key id is `key`; the next call fetches anew. */
  invalidate(key?: string): void
}

/** The error names (or `Code`s) with which AWS rejects credentials it will not take any more. */
const REJECTED_CREDENTIALS: ReadonlySet<string> = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidToken',
])

// `SMITHY_CONTEXT_KEY` of @smithy/types, spelled out so this module imports types only.
const SMITHY_CONTEXT_KEY = '__smithy_context'
const RETRY_NAME = 'podcredsRetryRejectedCredentials'
const CAPTURE_NAME = 'podcredsCaptureSigningKey'
// Remembered rejected keys (per plugin), so the next requests do not sign with them again while
// the client's own cache still holds them.
const MAX_REJECTED_KEYS = 16

interface SelectedScheme {
  identity?: unknown
  httpAuthOption?: { signingProperties?: { config?: { credentials?: unknown } } }
}
type SmithyContext = { selectedHttpAuthScheme?: SelectedScheme }

/**
 * An AWS SDK v3 plugin: when AWS answers `ExpiredToken`, `ExpiredTokenException` or
 * `InvalidToken` to a request signed with access key K, it calls `provider.invalidate(K)`, makes
 * the client take fresh credentials, and sends the request once more, signed again. A second
 * rejection is returned to the caller, and so is the first one when the request body is a stream
 * (already consumed; the key is invalidated all the same). Use it with the same provider the client has as
 * `credentials`.
 *
 * Why it is needed: the AWS SDK client caches credentials until five minutes before their
 * expiry, and a key rejected earlier (a session revoked, clocks apart) would otherwise fail every
 * request until then.
 *
 * How: one `finalizeRequest` middleware placed before the SDK's signing middleware
 * (`httpSigningMiddleware`, alias `awsAuthMiddleware`), so its retry passes through signing
 * again, and one placed after signing that reads the key the request was actually signed with
 * from its `Authorization: AWS4-HMAC-SHA256 Credential=<AKID>/…` header. The SDK's SigV4 signer
 * signs with the client's own cached credentials, so the retry first renews that cache
 * (`credentials({ forceRefresh: true })`, which reaches `provider` after its invalidation).
 *
 * @param provider - a provider with `invalidate(key)`, e.g. `defaultChain()`
 * @returns a `Pluggable` for `client.middlewareStack.use()`
 * @throws TypeError when `provider` has no `invalidate` function
 * @example
 * ```ts
 * import { S3Client } from '@aws-sdk/client-s3'
 * import { credentialsPlugin, defaultChain } from '@podcreds/chain'
 *
 * const credentials = defaultChain()
 * const s3 = new S3Client({ credentials })
 * s3.middlewareStack.use(credentialsPlugin(credentials))
 * ```
 */
export function credentialsPlugin<Input extends object = object, Output extends object = object>(
  provider: InvalidatingProvider,
): Pluggable<Input, Output> {
  if (typeof provider !== 'function') throw new TypeError('provider must be a credentials provider function')
  if (typeof provider.invalidate !== 'function') {
    throw new TypeError('provider must have invalidate(key), as refreshing() and defaultChain() providers do')
  }
  const rejected = new Set<string>()
  const signedWith = new WeakMap<HandlerExecutionContext, string>()

  const remember = (key: string): void => {
    rejected.delete(key)
    rejected.add(key)
    if (rejected.size > MAX_REJECTED_KEYS) rejected.delete(rejected.values().next().value as string)
  }

  // The SDK's SigV4 signer signs with the client's own memoized credentials provider
  // (`signingProperties.config.credentials`), not with the identity in the context: force that
  // cache to take fresh credentials, and put them in the context too for signers that read it.
  const renew = async (scheme: SelectedScheme): Promise<void> => {
    const clientCredentials = scheme.httpAuthOption?.signingProperties?.config?.credentials
    scheme.identity =
      typeof clientCredentials === 'function'
        ? await (clientCredentials as (options: { forceRefresh: boolean }) => Promise<unknown>)({
            forceRefresh: true,
          })
        : await provider()
  }

  const retryMiddleware =
    (
      next: FinalizeHandler<Input, Output>,
      context: HandlerExecutionContext,
    ): FinalizeHandler<Input, Output> =>
    async (args: FinalizeHandlerArguments<Input>): Promise<FinalizeHandlerOutput<Output>> => {
      const scheme = selectedScheme(context)
      // A key AWS already rejected may still sit in a cache: renew before signing with it again.
      const before = keyOf(scheme?.identity)
      if (scheme !== undefined && before !== undefined && rejected.has(before)) await renew(scheme)
      try {
        return await next(args)
      } catch (error) {
        if (!isRejectedCredentials(error)) throw error
        const key = signedWith.get(context) ?? keyOf(scheme?.identity)
        if (key === undefined || scheme === undefined) throw error
        remember(key)
        provider.invalidate(key)
        // A streamed body was consumed by the first attempt; sending it again would send nothing.
        // The key is still invalidated, so the caller's own retry gets fresh credentials.
        if (!isReplayable(args.request)) throw error
        await renew(scheme)
        return await next(args)
      }
    }

  const captureMiddleware =
    (
      next: FinalizeHandler<Input, Output>,
      context: HandlerExecutionContext,
    ): FinalizeHandler<Input, Output> =>
    async (args: FinalizeHandlerArguments<Input>): Promise<FinalizeHandlerOutput<Output>> => {
      const key = keyFromAuthorization(args.request)
      if (key !== undefined) signedWith.set(context, key)
      return next(args)
    }

  return {
    applyToStack(stack): void {
      stack.addRelativeTo(retryMiddleware, {
        name: RETRY_NAME,
        relation: 'before',
        toMiddleware: 'httpSigningMiddleware',
        override: true,
      })
      stack.addRelativeTo(captureMiddleware, {
        name: CAPTURE_NAME,
        relation: 'after',
        toMiddleware: 'httpSigningMiddleware',
        override: true,
      })
    },
  }
}

function selectedScheme(context: HandlerExecutionContext): SelectedScheme | undefined {
  const smithy = (context as Record<string, unknown>)[SMITHY_CONTEXT_KEY] as SmithyContext | undefined
  return smithy?.selectedHttpAuthScheme
}

function keyOf(identity: unknown): string | undefined {
  const key = (identity as { accessKeyId?: unknown } | undefined)?.accessKeyId
  return typeof key === 'string' && key !== '' ? key : undefined
}

function isReplayable(request: unknown): boolean {
  const body = (request as { body?: unknown } | undefined)?.body
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array
}

function isRejectedCredentials(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const { name, Code, code } = error as { name?: unknown; Code?: unknown; code?: unknown }
  return [name, Code, code].some((value) => typeof value === 'string' && REJECTED_CREDENTIALS.has(value))
}

// `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, …`
// (SigV4; SigV4a writes `AWS4-ECDSA-P256-SHA256 Credential=…` the same way).
const CREDENTIAL = /Credential=([A-Z0-9]+)\//

function keyFromAuthorization(request: unknown): string | undefined {
  const headers = (request as { headers?: unknown } | undefined)?.headers
  if (typeof headers !== 'object' || headers === null) return undefined
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (name.toLowerCase() !== 'authorization' || typeof value !== 'string') continue
    return CREDENTIAL.exec(value)?.[1]
  }
  // Presigned-style query signing: X-Amz-Credential in the query.
  const query = (request as { query?: Record<string, unknown> }).query
  const credential = query?.['X-Amz-Credential']
  if (typeof credential === 'string') return credential.split('/')[0]
  return undefined
}
